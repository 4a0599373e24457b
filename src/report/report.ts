/**
 * The data report (`movierec report`): a dataset's exploratory analysis as one self-contained
 * HTML page — rating distribution, ratings over time, ratings per user and per movie, average
 * ratings, sparsity, and optionally the cold start of a train/test split and a model comparison.
 * Statistics come from stats.ts (O(n), typed arrays), charts are vega-lite specs rendered to
 * static SVG by vega in Node.
 */
import { basename, resolve } from "node:path";
import { promises as fsp } from "node:fs";
import { readDataset } from "../data/dataset.js";
import { writeFileAtomic } from "../data/export.js";
import { DataError, type Dataset } from "../data/types.js";
import {
  averagesChart,
  coldStartChart,
  comparisonChart,
  countChart,
  perMonthChart,
  perWeekdayChart,
  ratingDistributionChart,
  type Chart,
} from "./charts.js";
import { coldStart, readSplitHalves, type ColdStart, type SplitHalves } from "./coldstart.js";
import { readComparison, type ComparisonRow } from "./compare.js";
import { escapeHtml, figure, htmlTable, page, paragraph, summaryTable, type Cell, type Section } from "./html.js";
import { renderSvg } from "./render.js";
import { computeStats, type CountDistribution, type DatasetStats } from "./stats.js";

export interface ReportInput {
  dataset: Dataset;
  /** Shown in the title (e.g. the dataset folder's name). */
  name: string;
  split?: SplitHalves | null;
  comparison?: ComparisonRow[] | null;
  /** Called as the work advances: steps done, steps in all, and what is being done. */
  onProgress?: (done: number, total: number, step: string) => void;
  /** Chart warnings from vega-lite / vega (none are expected; a warning means a chart may be off). */
  onWarning?: (message: string) => void;
}

export interface ReportFiles {
  /** Dataset folder. */
  dataset: string;
  /** Split folder from `movierec split` (train/ and test/). */
  split?: string;
  /** JSON / NDJSON from `movierec cv --json`, `evaluate --json` or a comparison table. */
  compare?: string;
  /** Replace an existing output file. */
  force?: boolean;
  onProgress?: ReportInput["onProgress"];
  onWarning?: ReportInput["onWarning"];
}

export interface ReportResult {
  bytes: number;
  charts: string[];
}

const int = (x: number) => Math.round(x).toLocaleString("en-US");
const isoDay = (day: number) => new Date(day * 86_400_000).toISOString().slice(0, 10);

/** Reads the inputs named in `files`, builds the report and writes it to `out` atomically. */
export async function writeReport(out: string, files: ReportFiles): Promise<ReportResult> {
  files.onProgress?.(0, 1, `reading ${files.dataset}`);
  const dataset = await readDataset(files.dataset);
  const split = files.split ? await readSplitHalves(files.split) : null;
  const comparison = files.compare ? await readComparison(files.compare) : null;
  const name = basename(resolve(files.dataset));
  const { html, charts } = await buildReport({ dataset, name, split, comparison, onProgress: files.onProgress, onWarning: files.onWarning });
  await writeFileAtomic(out, { force: files.force ?? false }, (tmp) => fsp.writeFile(tmp, html));
  return { bytes: Buffer.byteLength(html), charts };
}

/** The report page as an HTML string, and the ids of the charts in it. */
export async function buildReport(input: ReportInput): Promise<{ html: string; charts: string[] }> {
  const { dataset: ds, onProgress } = input;
  if (ds.meta.nRatings === 0) throw new DataError(`${input.name} has no ratings: there is nothing to report`);
  onProgress?.(0, 1, "computing statistics");
  const stats = computeStats(ds);
  const cold = input.split ? coldStart(input.split) : null;
  const sections = planSections(stats, ds, cold, input.comparison ?? null);
  const charts = sections.flatMap((s) => s.charts);
  const svgs = new Map<string, string>();
  for (const [k, c] of charts.entries()) {
    onProgress?.(k, charts.length, `rendering ${c.id}`);
    svgs.set(c.id, await renderSvg(c.spec, (w) => input.onWarning?.(`${c.id}: ${w}`)));
  }
  onProgress?.(charts.length, charts.length, "writing HTML");
  const rendered: Section[] = sections.map((s) => ({
    id: s.id,
    title: s.title,
    body: [...s.charts.map((c) => figure(c.id, svgs.get(c.id)!, c.caption, s.charts.length > 1 ? c.title : null)), ...s.after].join("\n"),
  }));
  const m = ds.meta;
  const subtitle = `${m.source} dataset · ${int(stats.nRatings)} ratings · content hash ${m.contentHash.slice(0, 12)} · created ${m.createdAt.slice(0, 10)}`;
  const html = page(`Data report: ${input.name}`, subtitle, summary(stats, ds), rendered);
  return { html, charts: charts.map((c) => c.id) };
}

interface PlannedSection {
  id: string;
  title: string;
  charts: Chart[];
  /** HTML after the charts (tables, notes). */
  after: string[];
}

function planSections(s: DatasetStats, ds: Dataset, cold: ColdStart | null, comparison: ComparisonRow[] | null): PlannedSection[] {
  const sections: PlannedSection[] = [{ id: "ratings", title: "Ratings", charts: [ratingDistributionChart(s)], after: [] }];
  sections.push(
    s.time
      ? { id: "time", title: "Ratings over time", charts: [perMonthChart(s.time), perWeekdayChart(s.time, s.nRatings)], after: [] }
      : { id: "time", title: "Ratings over time", charts: [], after: [paragraph("This dataset has no dates, so there is nothing to show over time.")] },
  );
  sections.push({
    id: "activity",
    title: "Ratings per user and per movie",
    charts: [countChart("user", s.perUser), countChart("movie", s.perMovie)],
    after: [quantileTable(s.perUser, s.perMovie)],
  });
  sections.push({ id: "averages", title: "Average ratings", charts: [averagesChart(s)], after: [] });
  sections.push({ id: "sparsity", title: "Sparsity", charts: [], after: [sparsity(s)] });
  if (cold) sections.push({ id: "split", title: "Cold start in the test split", charts: [coldStartChart(cold)], after: coldStartNotes(cold, ds) });
  if (comparison) sections.push({ id: "models", title: "Model comparison", charts: [comparisonChart(comparison)], after: [comparisonTable(comparison)] });
  return sections;
}

function summary(s: DatasetStats, ds: Dataset): string {
  const scale = ds.meta.ratingScale;
  const finite = (x: number | null) => x !== null && Number.isFinite(x);
  return summaryTable([
    { key: "ratings", label: "Ratings", value: s.nRatings },
    { key: "users", label: "Users with ratings", value: s.activeUsers },
    { key: "movies", label: "Movies with ratings", value: s.activeMovies },
    {
      key: "scale",
      label: "Rating scale",
      value: finite(scale.min) && finite(scale.max) ? `${scale.min} to ${scale.max}` : `${s.ratingMin} to ${s.ratingMax} (observed)`,
    },
    { key: "mean", label: "Mean rating", value: s.meanRating.toFixed(4) },
    { key: "dates", label: "Dates", value: s.time ? `${isoDay(s.time.firstDay)} to ${isoDay(s.time.lastDay)}` : "none" },
    { key: "density", label: "Density", value: `${(s.density * 100).toPrecision(3)}%` },
  ]);
}

function quantileTable(users: CountDistribution, movies: CountDistribution): string {
  const qs = users.quantiles.at.map((a) => a.q);
  const row = (label: string, d: CountDistribution): Cell[] => [
    label,
    d.quantiles.n,
    d.quantiles.min,
    ...qs.map((q) => d.quantiles.at.find((a) => a.q === q)?.value ?? NaN),
    d.quantiles.max,
    { value: d.quantiles.mean, digits: 1 },
  ];
  return htmlTable("count-quantiles", ["ratings per", "count", "min", ...qs.map((q) => (q === 0.5 ? "median" : `${q * 100}%`)), "max", "mean"], [
    row("user", users),
    row("movie", movies),
  ]);
}

function sparsity(s: DatasetStats): string {
  const cells = s.activeUsers * s.activeMovies;
  const perUser = s.activeUsers > 0 ? s.nRatings / s.activeUsers : 0;
  const perMovie = s.activeMovies > 0 ? s.nRatings / s.activeMovies : 0;
  return (
    `<p class="big" data-stat="sparsity">${escapeHtml(((1 - s.density) * 100).toPrecision(4))}% empty</p>\n` +
    paragraph(
      `${int(s.nRatings)} ratings fill ${(s.density * 100).toPrecision(3)}% of the ${int(s.activeUsers)} × ${int(s.activeMovies)} = ${int(cells)} user–movie pairs. ` +
        `The average user has rated ${perUser.toFixed(1)} of ${int(s.activeMovies)} movies and the average movie has ${perMovie.toFixed(1)} ratings: ` +
        `a model must predict almost every rating from the few that exist.`,
    )
  );
}

function coldStartNotes(c: ColdStart, ds: Dataset): string[] {
  const notes = [
    htmlTable(
      "cold-start",
      ["ratings in train", "test users", "their test ratings", "test movies", "their test ratings"],
      c.groups.map((g) => [g.label, g.testUsers, g.ratingsByUsers, g.testMovies, g.ratingsOnMovies]),
    ),
  ];
  if (c.parentHash !== null && c.parentHash !== ds.meta.contentHash) {
    notes.push(`<p class="note">${escapeHtml(`Note: this split was cut from another dataset (content hash ${c.parentHash.slice(0, 12)}), not from the one above.`)}</p>`);
  }
  return notes;
}

function comparisonTable(rows: ComparisonRow[]): string {
  const sorted = [...rows].sort((a, b) => a.rmse - b.rmse);
  return htmlTable(
    "model-comparison",
    ["model", "RMSE", "MAE", "MAPE %", "test ratings"],
    sorted.map((r) => [r.label, { value: r.rmse, digits: 4 }, { value: r.mae ?? NaN, digits: 4 }, { value: r.mape ?? NaN, digits: 2 }, r.n ?? NaN]),
  );
}
