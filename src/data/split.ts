/**
 * Train/test splits of a dataset, deterministic for a seed.
 *
 *   temporal  the earliest `ratio` of all ratings by date train, the rest test (the cut is exact:
 *             ratings on the cut day are assigned in a seeded random order)
 *   probe     each user's latest `last` ratings by date test, as Netflix built its probe set; a
 *             user with n ≤ last ratings keeps one in train (the latest n−1 test)
 *   kfold     a seeded random assignment into `folds` folds of equal size (±1); part k tests fold k
 *
 * Both halves keep the parent's id tables, titles, years and rating scale, so dense indices agree
 * between them, and carry the parent's generator record, so the noise floor of a generated
 * dataset's test part can be computed.
 */
import { join } from "node:path";
import { promises as fsp } from "node:fs";
import { makeDataset, writeAtomicDir, writeDatasetFiles } from "./dataset.js";
import { Rng } from "./rng.js";
import { DataError, type Dataset, type Ratings } from "./types.js";

export type SplitMethod = "temporal" | "probe" | "kfold";

export interface SplitOptions {
  method: SplitMethod;
  /** temporal: share of ratings in train (default 0.8). */
  ratio?: number;
  /** probe: ratings per user in test (default 5). */
  last?: number;
  /**
   * probe: instead of `last`, each user's latest floor(n·lastFraction) of n ratings go to test —
   * with the generator's seed and 0.1 this is exactly its held-out part (meta.generator.heldOut).
   */
  lastFraction?: number;
  /** kfold: number of folds (default 5). */
  folds?: number;
  /** Seed for same-day ties and fold assignment (default 1). */
  seed?: number;
}

export interface SplitPart {
  /** The method's name for a one-part split, `fold1`..`foldK` for k-fold. */
  name: string;
  train: Dataset;
  test: Dataset;
}

export const SPLIT_DEFAULTS = { ratio: 0.8, last: 5, folds: 5, seed: 1 } as const;
const MAX_FOLDS = 100;

/** Splits `ds` into train/test parts (one part, or one per fold for kfold). */
export function split(ds: Dataset, opts: SplitOptions): SplitPart[] {
  const seed = checkSeed(opts.seed ?? SPLIT_DEFAULTS.seed);
  const n = ds.ratings.user.length;
  const parent = ds.meta.contentHash;
  switch (opts.method) {
    case "temporal": {
      onlyFor("temporal", opts, ["ratio"]);
      const ratio = opts.ratio ?? SPLIT_DEFAULTS.ratio;
      if (!(ratio > 0 && ratio < 1)) throw new DataError(`--ratio ${ratio} is out of range`, "give the train share as a number between 0 and 1, e.g. 0.8");
      needDates(ds, "temporal");
      const label = temporalLabels(ds.ratings, Math.round(ratio * n), seed);
      return [part(ds, "temporal", label, 1, { method: "temporal", ratio, seed, parent })];
    }
    case "probe": {
      onlyFor("probe", opts, ["last", "lastFraction"]);
      needDates(ds, "probe");
      if (opts.lastFraction !== undefined) {
        if (opts.last !== undefined) throw new DataError("--last and --last-fraction exclude each other", "give one of them");
        const f = opts.lastFraction;
        if (!(f > 0 && f < 1)) throw new DataError(`--last-fraction ${f} is out of range`, "give the share of each user's latest ratings to test, e.g. 0.1");
        const label = latestPerUser(ds.ratings.user, ds.ratings.day, ds.users.length, seed, (m) => Math.floor(m * f));
        return [part(ds, "probe", label, 1, { method: "probe", lastFraction: f, seed, parent })];
      }
      const last = opts.last ?? SPLIT_DEFAULTS.last;
      if (!Number.isInteger(last) || last < 1) throw new DataError(`--last ${last} is not a positive integer`, "give the number of latest ratings per user to test, e.g. 5");
      const label = latestPerUser(ds.ratings.user, ds.ratings.day, ds.users.length, seed, (m) => Math.min(last, m - 1));
      return [part(ds, "probe", label, 1, { method: "probe", last, seed, parent })];
    }
    case "kfold": {
      onlyFor("kfold", opts, ["folds"]);
      const folds = opts.folds ?? SPLIT_DEFAULTS.folds;
      if (!Number.isInteger(folds) || folds < 2 || folds > MAX_FOLDS || folds > n) {
        throw new DataError(`--folds ${folds} is not possible for ${n} ratings`, `give an integer from 2 to ${Math.min(MAX_FOLDS, n)}`);
      }
      const label = foldLabels(n, folds, seed);
      return Array.from({ length: folds }, (_, f) =>
        part(ds, `fold${f + 1}`, label, f + 1, { method: "kfold", folds, fold: f + 1, seed, parent }),
      );
    }
    default:
      throw new DataError(`unknown split method ${JSON.stringify((opts as { method: unknown }).method)}`, "use temporal, probe or kfold");
  }
}

/**
 * A seeded random share of the ratings held out (e.g. for early stopping's validation), the rest
 * kept: both parts in parent order.
 */
export function holdOut(ds: Dataset, fraction: number, seed: number): { train: Dataset; valid: Dataset } {
  if (!(fraction > 0 && fraction < 1)) throw new DataError(`validFraction must be between 0 and 1 (got ${fraction})`);
  const rng = new Rng(seed ^ 0xea51);
  const label = Uint8Array.from({ length: ds.ratings.user.length }, () => (rng.next() < fraction ? 1 : 0));
  const { train, test } = part(ds, "holdout", label, 1, { method: "holdout", fraction, seed, parent: ds.meta.contentHash });
  return { train, valid: test };
}

/**
 * Writes split parts under `outDir`: `train/` and `test/` for a one-part split, `fold1/{train,test}`
 * ... for k-fold, plus `split.json`. Atomic: written into a temporary sibling and renamed.
 */
export async function writeSplit(outDir: string, parts: SplitPart[], opts: { force?: boolean } = {}): Promise<void> {
  const info = parts[0]?.test.meta.split;
  if (!info) throw new DataError("nothing to write: the parts were not made by split()");
  const one = parts.length === 1;
  const { part: _, fold: __, ...params } = info;
  const manifest = {
    format: "movierec-split",
    version: 1,
    ...params,
    parent: { contentHash: info.parent, nRatings: parts[0]!.train.meta.nRatings + parts[0]!.test.meta.nRatings },
    parts: parts.map((p) => {
      const dir = one ? "" : p.name;
      return {
        name: p.name,
        train: { path: join(dir, "train"), nRatings: p.train.meta.nRatings, contentHash: p.train.meta.contentHash },
        test: { path: join(dir, "test"), nRatings: p.test.meta.nRatings, contentHash: p.test.meta.contentHash },
      };
    }),
  };
  await writeAtomicDir(outDir, opts, async (tmp) => {
    for (const p of parts) {
      for (const half of ["train", "test"] as const) {
        const dir = join(tmp, one ? "" : p.name, half);
        await fsp.mkdir(dir, { recursive: true });
        await writeDatasetFiles(dir, p[half]);
      }
    }
    await fsp.writeFile(join(tmp, "split.json"), JSON.stringify(manifest, null, 2) + "\n");
  });
}

/**
 * Marks each user's latest ratings by date: for a user with m ratings, the latest `count(m)`
 * get label 1, the others 0. Same-day ratings are ordered by a seeded random tie-break, so the
 * count is exact and the choice deterministic for a seed.
 */
export function latestPerUser(user: Int32Array, day: Int32Array, nUsers: number, seed: number, count: (m: number) => number): Uint8Array {
  const n = user.length;
  const { offsets, order } = groupByUser(user, nUsers);
  let maxM = 0;
  for (let u = 0; u < nUsers; u++) maxM = Math.max(maxM, offsets[u + 1]! - offsets[u]!);
  let dayMin = Infinity;
  let dayMax = -Infinity;
  for (let x = 0; x < n; x++) {
    const d = day[x]!;
    if (d < dayMin) dayMin = d;
    if (d > dayMax) dayMax = d;
  }
  // Sort key per rating, exact in a double: day, then a random tie-break, then the position
  // within the user (low bits, recovered after sorting).
  const posBits = bitsFor(maxM);
  const tieBits = Math.min(20, 53 - posBits - bitsFor(dayMax - dayMin + 1));
  if (tieBits < 0) throw new DataError(`cannot order ${maxM} ratings of one user over ${dayMax - dayMin + 1} days`);
  const posScale = 2 ** posBits;
  const tieScale = 2 ** tieBits;
  const rng = new Rng(seed);
  const keys = new Float64Array(maxM);
  const label = new Uint8Array(n);
  for (let u = 0; u < nUsers; u++) {
    const s = offsets[u]!;
    const m = offsets[u + 1]! - s;
    const k = count(m);
    if (k <= 0) continue;
    for (let j = 0; j < m; j++) {
      const tie = Math.floor(rng.next() * tieScale);
      keys[j] = ((day[order[s + j]!]! - dayMin) * tieScale + tie) * posScale + j;
    }
    const sorted = keys.subarray(0, m).sort();
    for (let t = m - Math.min(k, m); t < m; t++) label[order[s + (sorted[t]! % posScale)]!] = 1;
  }
  return label;
}

/** Rating indices grouped by user (a stable counting sort): user u's are order[offsets[u] .. offsets[u+1]). */
function groupByUser(user: Int32Array, nUsers: number): { offsets: Uint32Array; order: Uint32Array } {
  const offsets = new Uint32Array(nUsers + 1);
  for (let x = 0; x < user.length; x++) offsets[user[x]! + 1]++;
  for (let u = 0; u < nUsers; u++) offsets[u + 1] += offsets[u]!;
  const next = offsets.slice(0, nUsers);
  const order = new Uint32Array(user.length);
  for (let x = 0; x < user.length; x++) order[next[user[x]!]!++] = x;
  return { offsets, order };
}

/** Labels the latest n − nTrain ratings by date 1 (test); same-day ratings at the cut in seeded random order. */
function temporalLabels(r: Ratings, nTrain: number, seed: number): Uint8Array {
  const n = r.day.length;
  let dayMin = Infinity;
  let dayMax = -Infinity;
  for (let x = 0; x < n; x++) {
    dayMin = Math.min(dayMin, r.day[x]!);
    dayMax = Math.max(dayMax, r.day[x]!);
  }
  const perDay = new Float64Array(dayMax - dayMin + 1);
  for (let x = 0; x < n; x++) perDay[r.day[x]! - dayMin]++;
  let cut = 0;
  let before = 0;
  while (before + perDay[cut]! < nTrain) before += perDay[cut++]!;
  const cutDay = dayMin + cut;
  const label = new Uint8Array(n);
  const onCut: number[] = [];
  for (let x = 0; x < n; x++) {
    const d = r.day[x]!;
    if (d > cutDay) label[x] = 1;
    else if (d === cutDay) onCut.push(x);
  }
  const toTrain = nTrain - before;
  const rng = new Rng(seed);
  for (let t = 0; t < onCut.length; t++) {
    const j = t + rng.int(onCut.length - t);
    const x = onCut[j]!;
    onCut[j] = onCut[t]!;
    onCut[t] = x;
    if (t >= toTrain) label[x] = 1;
  }
  return label;
}

/** Fold 1..folds per rating: a seeded permutation cut into equal runs. */
function foldLabels(n: number, folds: number, seed: number): Uint8Array {
  const perm = new Rng(seed).permutation(n);
  const label = new Uint8Array(n);
  for (let f = 0; f < folds; f++) {
    const end = Math.floor(((f + 1) * n) / folds);
    for (let p = Math.floor((f * n) / folds); p < end; p++) label[perm[p]!] = f + 1;
  }
  return label;
}

/** The part whose test half holds the ratings labelled `testLabel`, its train half all others. */
function part(ds: Dataset, name: string, label: Uint8Array, testLabel: number, info: Record<string, unknown>): SplitPart {
  let nTest = 0;
  for (let x = 0; x < label.length; x++) if (label[x] === testLabel) nTest++;
  const train = pick(ds, label, testLabel, false, label.length - nTest);
  const test = pick(ds, label, testLabel, true, nTest);
  return { name, train: withRatings(ds, train, { ...info, part: "train" }), test: withRatings(ds, test, { ...info, part: "test" }) };
}

/** Copies the ratings whose label is (or, with `is` false, is not) `value`, in parent order. */
function pick(ds: Dataset, label: Uint8Array, value: number, is: boolean, size: number): Ratings {
  const src = ds.ratings;
  const out: Ratings = {
    user: new Int32Array(size),
    movie: new Int32Array(size),
    rating: new Float32Array(size),
    day: new Int32Array(size),
  };
  let o = 0;
  for (let x = 0; x < label.length; x++) {
    if ((label[x] === value) !== is) continue;
    out.user[o] = src.user[x]!;
    out.movie[o] = src.movie[x]!;
    out.rating[o] = src.rating[x]!;
    out.day[o] = src.day[x]!;
    o++;
  }
  return out;
}

function needDates(ds: Dataset, method: string): void {
  if (ds.meta.dayRange === null) {
    throw new DataError(`the ${method} split orders ratings by date, and this dataset has no dates`, "use --method kfold");
  }
  if (ds.meta.nRatings < 2) throw new DataError(`cannot split ${ds.meta.nRatings} rating(s)`);
}

function onlyFor(method: SplitMethod, opts: SplitOptions, allowed: string[]): void {
  for (const k of ["ratio", "last", "lastFraction", "folds"]) {
    if (!allowed.includes(k) && opts[k as keyof SplitOptions] !== undefined) {
      const flag = k === "lastFraction" ? "last-fraction" : k;
      throw new DataError(`--${flag} does not apply to the ${method} split`, `--ratio is for temporal, --last and --last-fraction for probe, --folds for kfold`);
    }
  }
}

function checkSeed(seed: number): number {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new DataError(`--seed ${seed} is not an integer from 0 to 4294967295`);
  return seed;
}

/** Bits needed to hold 0..n-1 (at least 1). */
function bitsFor(n: number): number {
  return Math.max(1, Math.ceil(Math.log2(Math.max(2, n))));
}

/**
 * A dataset holding some of `parent`'s ratings: the parent's id tables, titles, years, rating scale
 * and generator record are kept (so dense indices agree), `split` says how the part was cut.
 */
export function withRatings(parent: Dataset, ratings: Ratings, split: Record<string, unknown>): Dataset {
  return makeDataset({
    ratings,
    users: parent.users,
    movies: parent.movies,
    titles: parent.titles,
    years: parent.years,
    source: "split",
    sources: parent.meta.sources,
    ratingScale: parent.meta.ratingScale,
    ...(parent.meta.generator ? { generator: parent.meta.generator } : {}),
    split,
  });
}
