/**
 * The report's charts as vega-lite specs, built from aggregated statistics (a few hundred data
 * rows at most, whatever the dataset's size). Each chart has an id (the HTML anchor), a title
 * and a caption that says what to read in it.
 */
import type { TopLevelSpec } from "vega-lite";
import type { ColdStart } from "./coldstart.js";
import type { ComparisonRow } from "./compare.js";
import { MIN_RATINGS_FOR_AVERAGE, type AverageHistogram, type CountDistribution, type DatasetStats } from "./stats.js";

export interface Chart {
  id: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

const WIDE = 640;
const HALF = 290;
const HEIGHT = 220;
const BAR = "#4c78a8";
const ACCENT = "#e45756";
/** A count axis with SI labels (20k, 1.5M) and a plain 0. */
const COUNT_AXIS = { format: "~s", labelExpr: "datum.value === 0 ? '0' : datum.label" };
const int = (x: number) => Math.round(x).toLocaleString("en-US");
const pct = (x: number, digits = 1) => `${(x * 100).toFixed(digits)}%`;

export function ratingDistributionChart(s: DatasetStats): Chart {
  const values = s.ratingHistogram.map((b) => ({ rating: b.label, count: b.count, share: b.count / s.nRatings }));
  const top = values.reduce((a, b) => (b.count > a.count ? b : a), values[0] ?? { rating: "-", count: 0, share: 0 });
  return {
    id: "rating-distribution",
    title: "Rating distribution",
    caption: `How often each rating is given. The most common is ${top.rating} (${pct(top.share)} of all ratings); the mean is ${s.meanRating.toFixed(3)}.`,
    spec: {
      width: WIDE,
      height: HEIGHT,
      data: { values },
      encoding: {
        x: { field: "rating", type: "ordinal", sort: null, title: "rating", axis: { labelAngle: 0 } },
        y: { field: "count", type: "quantitative", title: "ratings", axis: COUNT_AXIS },
      },
      layer: [
        { mark: { type: "bar", color: BAR } },
        { mark: { type: "text", dy: -6, fontSize: 11 }, encoding: { text: { field: "count", type: "quantitative", format: "," } } },
      ],
    },
  };
}

export function perMonthChart(time: NonNullable<DatasetStats["time"]>): Chart {
  const busiest = time.perMonth.reduce((a, b) => (b.count > a.count ? b : a), time.perMonth[0]!);
  const monthName = (ms: number) => new Date(ms).toLocaleString("en-US", { month: "long", year: "numeric", timeZone: "UTC" });
  return {
    id: "ratings-per-month",
    title: "Ratings per month",
    caption: `Ratings given in each calendar month (UTC), ${monthName(time.perMonth[0]!.month)} to ${monthName(time.perMonth[time.perMonth.length - 1]!.month)}. The busiest month is ${monthName(busiest.month)} with ${int(busiest.count)} ratings.`,
    spec: {
      width: WIDE,
      height: HEIGHT,
      data: { values: time.perMonth },
      mark: { type: "bar", color: BAR },
      encoding: {
        x: { field: "month", type: "temporal", timeUnit: "utcyearmonth", title: null, axis: { format: "%Y", labelAngle: 0 } },
        y: { field: "count", type: "quantitative", title: "ratings", axis: COUNT_AXIS },
      },
    },
  };
}

export function perWeekdayChart(time: NonNullable<DatasetStats["time"]>, nRatings: number): Chart {
  const values = time.perWeekday.map((w) => ({ ...w, share: w.count / nRatings }));
  const hi = values.reduce((a, b) => (b.count > a.count ? b : a));
  const lo = values.reduce((a, b) => (b.count < a.count ? b : a));
  return {
    id: "ratings-per-weekday",
    title: "Ratings per weekday",
    caption: `Ratings by day of the week (UTC dates). Most are given on ${hi.weekday} (${pct(hi.share)}), fewest on ${lo.weekday} (${pct(lo.share)}).`,
    spec: {
      width: WIDE,
      height: HEIGHT,
      data: { values },
      encoding: {
        x: { field: "weekday", type: "ordinal", sort: null, title: null, axis: { labelAngle: 0 } },
        y: { field: "count", type: "quantitative", title: "ratings", axis: COUNT_AXIS },
      },
      layer: [
        { mark: { type: "bar", color: BAR } },
        { mark: { type: "text", dy: -6, fontSize: 11 }, encoding: { text: { field: "share", type: "quantitative", format: ".1%" } } },
      ],
    },
  };
}

/** Powers of ten from below `lo` to above `hi`: the ticks of a log axis (one label per decade). */
export function decades(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo) + 1e-9); e <= Math.ceil(Math.log10(hi) - 1e-9); e++) out.push(10 ** e);
  return out;
}

/** PDF (log-binned, log–log) beside the CDF (log x) of ratings per user or per movie. */
export function countChart(entity: "user" | "movie", d: CountDistribution): Chart {
  const plural = `${entity}s`;
  const median = d.quantiles.at.find((a) => a.q === 0.5)?.value ?? 0;
  const xTicks = decades(1, Math.max(10, d.quantiles.max));
  const densities = d.pdf.map((b) => b.density);
  const yTicks = decades(Math.min(1, ...densities), Math.max(10, ...densities));
  const x = (field: string) => ({
    field,
    type: "quantitative" as const,
    scale: { type: "log" as const, domain: [xTicks[0]!, xTicks[xTicks.length - 1]!] },
    title: `ratings per ${entity}`,
    axis: { values: xTicks, format: "~s" },
  });
  return {
    id: `ratings-per-${entity}`,
    title: `Ratings per ${entity}`,
    caption:
      `Left, the PDF: how many ${plural} have a given number of ratings (log–log; counts averaged over log-spaced bins). ` +
      `Right, the CDF: the share of ${plural} with at most that many ratings. The median ${entity} has ${int(median)} ratings, the mean ${d.quantiles.mean.toFixed(1)}; ` +
      `the red line marks the median.`,
    spec: {
      hconcat: [
        {
          width: HALF,
          height: HEIGHT,
          data: { values: d.pdf },
          mark: { type: "line", color: BAR, point: { color: BAR, size: 18 } },
          encoding: {
            x: x("center"),
            y: {
              field: "density",
              type: "quantitative",
              scale: { type: "log", domain: [yTicks[0]!, yTicks[yTicks.length - 1]!] },
              title: `PDF: ${plural} per count`,
              axis: { values: yTicks, format: "~g" },
            },
          },
        },
        {
          width: HALF,
          height: HEIGHT,
          layer: [
            {
              data: { values: d.cdf },
              mark: { type: "line", color: BAR, interpolate: "step-after" },
              encoding: {
                x: x("count"),
                y: { field: "share", type: "quantitative", title: "CDF: share with ≤ x ratings", axis: { format: "%" }, scale: { domain: [0, 1] } },
              },
            },
            { data: { values: [{ median }] }, mark: { type: "rule", color: ACCENT, strokeWidth: 1.5 }, encoding: { x: { field: "median", type: "quantitative" } } },
          ],
        },
      ],
    },
  };
}

function averagePanel(entity: string, h: AverageHistogram): object {
  return {
    width: HALF,
    height: HEIGHT,
    layer: [
      {
        data: { values: h.bins },
        mark: { type: "bar", color: BAR },
        encoding: {
          x: { field: "start", type: "quantitative", bin: { binned: true }, title: `average rating of a ${entity}` },
          x2: { field: "end" },
          y: { field: "count", type: "quantitative", title: `${entity}s` },
        },
      },
      { data: { values: [{ mean: h.mean }] }, mark: { type: "rule", color: ACCENT, strokeWidth: 1.5 }, encoding: { x: { field: "mean", type: "quantitative" } } },
    ],
  };
}

export function averagesChart(s: DatasetStats): Chart {
  return {
    id: "average-ratings",
    title: "Average rating per user and per movie",
    caption:
      `Histograms of each user's (left) and each movie's (right) mean rating, over users (${int(s.userAverages.n)}) and movies (${int(s.movieAverages.n)}) with at least ` +
      `${MIN_RATINGS_FOR_AVERAGE} ratings. Red lines mark the mean of the averages: ${s.userAverages.mean.toFixed(3)} for users, ${s.movieAverages.mean.toFixed(3)} for movies.`,
    spec: { hconcat: [averagePanel("user", s.userAverages), averagePanel("movie", s.movieAverages)] } as TopLevelSpec,
  };
}

export function coldStartChart(c: ColdStart): Chart {
  const values = c.groups.flatMap((g) => [
    { group: g.label, kind: "test users", share: c.testUsers > 0 ? g.testUsers / c.testUsers : 0, count: g.testUsers },
    { group: g.label, kind: "test movies", share: c.testMovies > 0 ? g.testMovies / c.testMovies : 0, count: g.testMovies },
  ]);
  const cold = c.groups[0]!;
  return {
    id: "cold-start",
    title: "Cold start in the test split",
    caption:
      `Test users and movies grouped by how many ratings they have in the train part (split part ${c.part}: ${int(c.nTrain)} train, ${int(c.nTest)} test ratings). ` +
      `${int(cold.testUsers)} of ${int(c.testUsers)} test users and ${int(cold.testMovies)} of ${int(c.testMovies)} test movies have no train rating at all: a model can only fall back to baselines for them.`,
    spec: {
      width: WIDE,
      height: HEIGHT,
      data: { values },
      encoding: {
        x: { field: "group", type: "ordinal", sort: null, title: "ratings in train", axis: { labelAngle: 0 } },
        xOffset: { field: "kind", sort: ["test users", "test movies"] },
        y: { field: "share", type: "quantitative", title: "share", axis: { format: "%" } },
        color: { field: "kind", type: "nominal", title: null, sort: ["test users", "test movies"], scale: { range: [BAR, "#f58518"] } },
      },
      layer: [
        { mark: { type: "bar" } },
        { mark: { type: "text", dy: -6, fontSize: 10 }, encoding: { text: { field: "count", type: "quantitative", format: "," }, color: { value: "#333" } } },
      ],
    },
  };
}

export function comparisonChart(rows: ComparisonRow[]): Chart {
  const order = [...rows].sort((a, b) => a.rmse - b.rmse);
  const values = order.flatMap((r, rank) => [
    { model: r.label, metric: "RMSE", value: r.rmse, rank },
    ...(r.mae !== null ? [{ model: r.label, metric: "MAE", value: r.mae, rank }] : []),
  ]);
  const best = order[0]!;
  return {
    id: "model-comparison",
    title: "Model comparison",
    caption:
      `Test error of each model (lower is better), sorted by RMSE. ${best.label} is best with RMSE ${best.rmse.toFixed(4)}` +
      (order.length > 1 ? `, ${(order[order.length - 1]!.rmse - best.rmse).toFixed(4)} below the worst.` : "."),
    spec: {
      data: { values },
      facet: { column: { field: "metric", type: "nominal", title: null, sort: ["RMSE", "MAE"] } },
      spec: {
        width: HALF,
        height: Math.max(60, 26 * order.length),
        encoding: {
          y: { field: "model", type: "nominal", sort: { field: "rank", op: "min" }, title: null },
          x: { field: "value", type: "quantitative", scale: { zero: false, nice: false, padding: 30 }, title: null, axis: { format: ".3f", tickCount: 4 } },
        },
        layer: [
          { mark: { type: "point", filled: true, size: 70, color: BAR } },
          { mark: { type: "text", align: "left", dx: 7, fontSize: 11 }, encoding: { text: { field: "value", type: "quantitative", format: ".4f" } } },
        ],
      },
      resolve: { scale: { x: "independent" } },
    } as TopLevelSpec,
  };
}
