/**
 * Dataset statistics for the report, computed in O(n) over the rating columns with counting
 * arrays only (no per-rating objects), so the full Netflix Prize set (100M ratings) costs a few
 * passes over typed arrays and a few MB of counters. Everything the charts need is aggregated here
 * into small tables (tens to hundreds of rows), never one row per rating.
 */
import type { Dataset, Ratings } from "../data/types.js";

/** Users or movies averaged for the "average rating" histograms need at least this many ratings. */
export const MIN_RATINGS_FOR_AVERAGE = 5;

const QUANTILES = [0.1, 0.25, 0.5, 0.75, 0.9, 0.99] as const;
/** Log-spaced bins per decade for the per-user / per-movie count distributions. */
const BINS_PER_DECADE = 10;
/** A rating histogram has one bar per value on a half-star grid up to this many values, else equal-width bins. */
const MAX_RATING_VALUES = 21;
const EQUAL_BINS = 20;
/** Bins of the average-rating histograms across the rating range. */
const AVERAGE_BINS = 40;

export interface RatingBar {
  /** Lower edge (equal to the value itself on a half-star grid). */
  start: number;
  end: number;
  label: string;
  count: number;
}

export interface Quantiles {
  /** Entities with at least one rating. */
  n: number;
  min: number;
  max: number;
  mean: number;
  /** Rating counts at the QUANTILES shares, in order: 10%, 25%, 50%, 75%, 90%, 99%. */
  at: { q: number; value: number }[];
}

export interface CountDistribution {
  quantiles: Quantiles;
  /** Log-binned PDF: entities per count value, averaged over each bin [start, end]. */
  pdf: { start: number; end: number; center: number; density: number; entities: number }[];
  /** CDF at the end of each bin: share of entities with at most `count` ratings. */
  cdf: { count: number; share: number }[];
}

export interface AverageHistogram {
  /** Entities with at least MIN_RATINGS_FOR_AVERAGE ratings (those in the histogram). */
  n: number;
  /** Mean of their averages. */
  mean: number;
  bins: { start: number; end: number; count: number }[];
}

export interface DatasetStats {
  nRatings: number;
  /** Users / movies in the id tables, and those with at least one rating. */
  nUsers: number;
  nMovies: number;
  activeUsers: number;
  activeMovies: number;
  meanRating: number;
  ratingMin: number;
  ratingMax: number;
  /** Share of the active users × active movies matrix that holds a rating. */
  density: number;
  ratingHistogram: RatingBar[];
  /** null when the dataset has no dates. */
  time: {
    firstDay: number;
    lastDay: number;
    /** One entry per calendar month from the first to the last (UTC), `month` = ms at the month's start. */
    perMonth: { month: number; count: number }[];
    /** Monday first. */
    perWeekday: { weekday: string; count: number }[];
  } | null;
  perUser: CountDistribution;
  perMovie: CountDistribution;
  userAverages: AverageHistogram;
  movieAverages: AverageHistogram;
}

const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const DAY_MS = 86_400_000;

/** All statistics of the report's dataset sections. */
export function computeStats(ds: Dataset): DatasetStats {
  const r = ds.ratings;
  const n = r.user.length;
  const userCount = countPerIndex(r.user, ds.users.length);
  const movieCount = countPerIndex(r.movie, ds.movies.length);
  const userSum = new Float64Array(ds.users.length);
  const movieSum = new Float64Array(ds.movies.length);
  let sum = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let x = 0; x < n; x++) {
    const v = r.rating[x]!;
    userSum[r.user[x]!] += v;
    movieSum[r.movie[x]!] += v;
    sum += v;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const activeUsers = countNonZero(userCount);
  const activeMovies = countNonZero(movieCount);
  return {
    nRatings: n,
    nUsers: ds.users.length,
    nMovies: ds.movies.length,
    activeUsers,
    activeMovies,
    meanRating: n > 0 ? sum / n : NaN,
    ratingMin: n > 0 ? lo : NaN,
    ratingMax: n > 0 ? hi : NaN,
    density: activeUsers > 0 && activeMovies > 0 ? n / (activeUsers * activeMovies) : 0,
    ratingHistogram: n > 0 ? ratingHistogram(r.rating, lo, hi) : [],
    time: ds.meta.dayRange && n > 0 ? timeStats(r) : null,
    perUser: countDistribution(userCount),
    perMovie: countDistribution(movieCount),
    userAverages: averageHistogram(userSum, userCount, lo, hi),
    movieAverages: averageHistogram(movieSum, movieCount, lo, hi),
  };
}

/** How many times each index 0..size-1 occurs in `index`. */
export function countPerIndex(index: Int32Array, size: number): Int32Array {
  const out = new Int32Array(size);
  for (let x = 0; x < index.length; x++) out[index[x]!]++;
  return out;
}

function countNonZero(a: Int32Array): number {
  let k = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) k++;
  return k;
}

/** One bar per value when every rating lies on a half-star grid of few values, else equal-width bins. */
function ratingHistogram(rating: Float32Array, lo: number, hi: number): RatingBar[] {
  const base = Math.round(lo * 2);
  const values = Math.round(hi * 2) - base + 1;
  let onGrid = values <= MAX_RATING_VALUES;
  if (onGrid) {
    const counts = new Float64Array(values);
    for (let x = 0; x < rating.length; x++) {
      const k = rating[x]! * 2;
      if (!Number.isInteger(k)) {
        onGrid = false;
        break;
      }
      counts[k - base]++;
    }
    if (onGrid) {
      // Integer scales (Netflix, MovieLens 100K) show the whole values only; half-star scales every half star.
      const halfStars = counts.some((c, k) => c > 0 && (base + k) % 2 !== 0);
      const bars: RatingBar[] = [];
      counts.forEach((count, k) => {
        const v = (base + k) / 2;
        if (halfStars || Number.isInteger(v)) bars.push({ start: v, end: v, label: String(v), count });
      });
      return bars;
    }
  }
  const width = (hi - lo) / EQUAL_BINS || 1;
  const counts = new Float64Array(EQUAL_BINS);
  for (let x = 0; x < rating.length; x++) counts[Math.min(EQUAL_BINS - 1, Math.floor((rating[x]! - lo) / width))]++;
  return Array.from(counts, (count, k) => {
    const start = lo + k * width;
    return { start, end: start + width, label: `${trim(start)}–${trim(start + width)}`, count };
  });
}

const trim = (x: number) => String(Math.round(x * 100) / 100);

function timeStats(r: Ratings): NonNullable<DatasetStats["time"]> {
  let first = Infinity;
  let last = -Infinity;
  for (let x = 0; x < r.day.length; x++) {
    const d = r.day[x]!;
    if (d < first) first = d;
    if (d > last) last = d;
  }
  const perDay = countPerIndexFrom(r.day, first, last - first + 1);
  const perWeekday = new Float64Array(7);
  const months = new Map<number, number>();
  for (let k = 0; k < perDay.length; k++) {
    const day = first + k;
    // 1970-01-01 was a Thursday: (day + 3) % 7 is 0 on Mondays.
    perWeekday[(((day + 3) % 7) + 7) % 7] += perDay[k]!;
    const date = new Date(day * DAY_MS);
    const month = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
    months.set(month, (months.get(month) ?? 0) + perDay[k]!);
  }
  return {
    firstDay: first,
    lastDay: last,
    perMonth: [...months].map(([month, count]) => ({ month, count })),
    perWeekday: WEEKDAYS.map((weekday, k) => ({ weekday, count: perWeekday[k]! })),
  };
}

/** Counts of each value `from .. from+size-1` in `values`. */
function countPerIndexFrom(values: Int32Array, from: number, size: number): Float64Array {
  const out = new Float64Array(size);
  for (let x = 0; x < values.length; x++) out[values[x]! - from]++;
  return out;
}

/**
 * Quantiles, a log-binned PDF and the CDF of per-entity rating counts, from a frequency array
 * over count values (entities with zero ratings are left out).
 */
export function countDistribution(counts: Int32Array): CountDistribution {
  let max = 0;
  for (let i = 0; i < counts.length; i++) if (counts[i]! > max) max = counts[i]!;
  const freq = new Float64Array(max + 1);
  let total = 0;
  for (let i = 0; i < counts.length; i++) {
    freq[counts[i]!]++;
    total += counts[i]!;
  }
  const n = counts.length - freq[0]!;
  freq[0] = 0;
  const quantiles: Quantiles = { n, min: 0, max, mean: n > 0 ? total / n : NaN, at: [] };
  if (n === 0) return { quantiles, pdf: [], cdf: [] };
  let c = 1;
  while (freq[c] === 0) c++;
  quantiles.min = c;
  let seen = 0;
  let q = 0;
  for (let v = 1; v <= max && q < QUANTILES.length; v++) {
    seen += freq[v]!;
    while (q < QUANTILES.length && seen >= QUANTILES[q]! * n) quantiles.at.push({ q: QUANTILES[q++]!, value: v });
  }
  const pdf: CountDistribution["pdf"] = [];
  const cdf: CountDistribution["cdf"] = [];
  let cumulative = 0;
  const edges = logEdges(max);
  for (let b = 0; b + 1 < edges.length; b++) {
    const start = edges[b]!;
    const end = edges[b + 1]! - 1;
    let entities = 0;
    for (let v = start; v <= end; v++) entities += freq[v]!;
    cumulative += entities;
    if (entities > 0) pdf.push({ start, end, center: Math.sqrt(start * end), density: entities / (end - start + 1), entities });
    cdf.push({ count: end, share: cumulative / n });
  }
  return { quantiles, pdf, cdf };
}

/** Integer bin edges 1, 2, 3, ... spaced 10^(1/BINS_PER_DECADE) apart once that exceeds 1; the last edge is max + 1. */
function logEdges(max: number): number[] {
  const edges = [1];
  for (let j = 1; edges[edges.length - 1]! <= max; j++) {
    const e = Math.max(edges[edges.length - 1]! + 1, Math.round(10 ** (j / BINS_PER_DECADE)));
    edges.push(Math.min(e, max + 1));
  }
  return edges;
}

/** Histogram of per-entity average ratings over [lo, hi], for entities with ≥ MIN_RATINGS_FOR_AVERAGE ratings. */
function averageHistogram(sums: Float64Array, counts: Int32Array, lo: number, hi: number): AverageHistogram {
  const width = (hi - lo) / AVERAGE_BINS || 1;
  const bins = new Float64Array(AVERAGE_BINS);
  let n = 0;
  let total = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c < MIN_RATINGS_FOR_AVERAGE) continue;
    const avg = sums[i]! / c;
    bins[Math.min(AVERAGE_BINS - 1, Math.max(0, Math.floor((avg - lo) / width)))]++;
    n++;
    total += avg;
  }
  return {
    n,
    mean: n > 0 ? total / n : NaN,
    bins: Array.from(bins, (count, k) => ({ start: lo + k * width, end: lo + (k + 1) * width, count })),
  };
}
