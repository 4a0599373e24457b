/**
 * A generated Netflix Prize folder (`movierec generate --prize`): the Prize's files and layout over
 * the synthetic data of generate.ts, so the whole Prize protocol can be rehearsed and scored
 * without the real data.
 *
 * Built as Netflix built its own: each user's most recent ratings by date (up to `holdout`, the
 * Prize's 9, and at most half of the user's ratings) form the hold-out set; each held-out rating
 * goes to the probe set with probability 1/3 and to the qualifying set otherwise. Probe ratings
 * stay in the training files (Netflix shipped them there, with their ratings); qualifying ratings
 * are left out of them, and their answers go to a separate file. Every user and every movie of
 * probe.txt and qualifying.txt has ratings in the training files (a movie whose ratings would all
 * be held out keeps one).
 *
 *   training_set/mv_0000001.txt ...   one per movie (`MovieID:` then CustomerID,Rating,YYYY-MM-DD),
 *                                     or combined_data_1..4.txt with layout "combined"
 *   probe.txt                         `MovieID:` then one CustomerID per line
 *   qualifying.txt                    `MovieID:` then CustomerID,YYYY-MM-DD
 *   qualifying-answers.txt            `MovieID:` then one rating per line, in qualifying order
 *                                     (the hidden answers: `movierec score` reads them)
 *   movie_titles.txt                  latin-1, MovieID,YearOfRelease,Title
 *   generator.json                    the generator record, with a `prize` section (counts, and the
 *                                     planted model's RMSE on probe and qualifying)
 *
 * The folder is written into a temporary sibling and renamed at the end.
 */
import { promises as fsp } from "node:fs";
import { join } from "node:path";
import { checkOutDir, makeDataset, writeAtomicDir } from "./dataset.js";
import { BufferedFile, dateTable, GENERATE_DEFAULTS, generateDataset, writeNetflixText, writeNetflixTitles, type GenerateOptions } from "./generate.js";
import { plantedModel, streamRng, type GeneratorRecord } from "./planted.js";
import { latestPerUser } from "./split.js";
import { DataError, type Dataset, type Ratings } from "./types.js";

/** Where the training ratings go: one file per movie (as Netflix shipped them) or combined_data_*.txt. */
export type PrizeLayout = "training_set" | "combined";

export interface PrizeGenerateOptions extends Omit<GenerateOptions, "text"> {
  /** Default "training_set". */
  layout?: PrizeLayout;
  /** Most recent ratings per user held out (default 9, the Prize's); never more than half a user's ratings. */
  holdout?: number;
}

/** The file names of a Prize folder. */
export const PRIZE_FILES = {
  trainingSet: "training_set",
  probe: "probe.txt",
  qualifying: "qualifying.txt",
  answers: "qualifying-answers.txt",
  titles: "movie_titles.txt",
  generator: "generator.json",
} as const;

/** The `prize` section of generator.json. */
export interface PrizeRecord {
  layout: PrizeLayout;
  holdoutPerUser: number;
  probeShare: number;
  /** Ratings in the training files (probe included), probe rows, qualifying rows. */
  training: number;
  probe: number;
  qualifying: number;
  /** The planted model's RMSE (the noise floor) on the probe and qualifying ratings. */
  noiseFloorProbeRmse: number;
  noiseFloorQualifyingRmse: number;
  answers: string;
}

export interface GeneratedPrize {
  dir: string;
  /** File and folder names inside `dir`. */
  files: string[];
  generator: GeneratorRecord & { prize: PrizeRecord };
}

export const PRIZE_DEFAULTS = { layout: "training_set", holdout: 9 } as const;
/** Netflix split its hold-out set into probe, quiz and test thirds; quiz and test together are qualifying. */
const PROBE_SHARE = 1 / 3;
/** The random stream (see planted.ts Stream) that assigns held-out ratings to probe or qualifying. */
const PRIZE_STREAM = 9;
const TRAIN = 0;
const PROBE = 1;
const QUALIFYING = 2;
const MOVIE_FILE_BUFFER = 1 << 20;

/** Generates a dataset and writes it as a Netflix Prize folder at `opts.out`. */
export async function generatePrize(opts: PrizeGenerateOptions): Promise<GeneratedPrize> {
  const layout = opts.layout ?? PRIZE_DEFAULTS.layout;
  if (layout !== "training_set" && layout !== "combined") {
    throw new DataError(`unknown Prize layout ${JSON.stringify(layout)}`, "use training_set (one mv_*.txt per movie) or combined (combined_data_*.txt)");
  }
  const holdout = opts.holdout ?? PRIZE_DEFAULTS.holdout;
  if (!Number.isInteger(holdout) || holdout < 1 || holdout > 1000) throw new DataError(`--holdout ${holdout} is not an integer from 1 to 1000`);
  checkOutDir(opts.out, opts.force ?? false);
  const total = 3 * (opts.ratings ?? GENERATE_DEFAULTS.ratings);
  const ds = generateDataset({ ...opts, onProgress: opts.onProgress && ((done) => opts.onProgress!(done, total)) });
  const base = ds.meta.generator as unknown as GeneratorRecord;
  const label = prizeLabels(ds, holdout, base.seed);
  const parts = byLabel(ds, label);
  const prize: PrizeRecord = {
    layout,
    holdoutPerUser: holdout,
    probeShare: PROBE_SHARE,
    training: parts.training.meta.nRatings,
    probe: parts.probe.length,
    qualifying: parts.qualifying.length,
    noiseFloorProbeRmse: plantedRmse(base, ds.ratings, parts.probe),
    noiseFloorQualifyingRmse: plantedRmse(base, ds.ratings, parts.qualifying),
    answers: PRIZE_FILES.answers,
  };
  const generator = { ...base, prize };
  const onWritten = (done: number) => opts.onProgress?.(Math.min(total, 2 * ds.meta.nRatings + done), total);
  const files = await writeAtomicDir(opts.out, { force: opts.force ?? false }, async (tmp) => {
    const names: string[] = [];
    if (layout === "combined") {
      names.push(...(await writeNetflixText(tmp, parts.training, generator, onWritten)));
    } else {
      await writeMovieFiles(join(tmp, PRIZE_FILES.trainingSet), parts.training, onWritten);
      await writeNetflixTitles(tmp, ds);
      await fsp.writeFile(join(tmp, PRIZE_FILES.generator), JSON.stringify(generator, null, 2) + "\n");
      names.push(PRIZE_FILES.trainingSet, PRIZE_FILES.titles, PRIZE_FILES.generator);
    }
    const dates = dateTable(ds.meta.dayRange!.min, ds.meta.dayRange!.max);
    await writeQueries(join(tmp, PRIZE_FILES.probe), ds, parts.probe, "customer", dates);
    await writeQueries(join(tmp, PRIZE_FILES.qualifying), ds, parts.qualifying, "date", dates);
    await writeQueries(join(tmp, PRIZE_FILES.answers), ds, parts.qualifying, "rating", dates);
    names.push(PRIZE_FILES.probe, PRIZE_FILES.qualifying, PRIZE_FILES.answers);
    return names;
  });
  opts.onProgress?.(total, total);
  return { dir: opts.out, files, generator };
}

/**
 * TRAIN, PROBE or QUALIFYING per rating: each user's latest min(holdout, ⌊m/2⌋) ratings are held
 * out, a third of them (at random) probe; then every movie keeps at least one rating outside qualifying.
 */
function prizeLabels(ds: Dataset, holdout: number, seed: number): Uint8Array {
  const { user, movie, day } = ds.ratings;
  const label = latestPerUser(user, day, ds.users.length, seed, (m) => Math.min(holdout, Math.floor(m / 2)));
  const rng = streamRng(seed, PRIZE_STREAM);
  for (let r = 0; r < label.length; r++) {
    if (label[r] === 1) label[r] = rng.next() < PROBE_SHARE ? PROBE : QUALIFYING;
  }
  const kept = new Int32Array(ds.movies.length);
  for (let r = 0; r < label.length; r++) if (label[r] !== QUALIFYING) kept[movie[r]!]++;
  for (let r = 0; r < label.length; r++) {
    const i = movie[r]!;
    if (kept[i] === 0 && label[r] === QUALIFYING) {
      label[r] = TRAIN;
      kept[i] = 1;
    }
  }
  return label;
}

/** The training ratings (probe included) as a dataset, and the probe and qualifying rating indices, in dataset (movie) order. */
function byLabel(ds: Dataset, label: Uint8Array): { training: Dataset; probe: Int32Array; qualifying: Int32Array } {
  const probe: number[] = [];
  const qualifying: number[] = [];
  for (let r = 0; r < label.length; r++) {
    if (label[r] === PROBE) probe.push(r);
    else if (label[r] === QUALIFYING) qualifying.push(r);
  }
  const n = label.length - qualifying.length;
  const src = ds.ratings;
  const ratings: Ratings = { user: new Int32Array(n), movie: new Int32Array(n), rating: new Float32Array(n), day: new Int32Array(n) };
  let o = 0;
  for (let r = 0; r < label.length; r++) {
    if (label[r] === QUALIFYING) continue;
    ratings.user[o] = src.user[r]!;
    ratings.movie[o] = src.movie[r]!;
    ratings.rating[o] = src.rating[r]!;
    ratings.day[o] = src.day[r]!;
    o++;
  }
  const training = makeDataset({
    ratings,
    users: ds.users,
    movies: ds.movies,
    titles: ds.titles,
    years: ds.years,
    source: "generated",
    sources: [],
    ratingScale: ds.meta.ratingScale,
    ...(ds.meta.generator ? { generator: ds.meta.generator } : {}),
  });
  return { training, probe: Int32Array.from(probe), qualifying: Int32Array.from(qualifying) };
}

/** RMSE of the planted model (clipped) on the ratings at `rows` (generator dense indices); 0 for none. */
function plantedRmse(record: GeneratorRecord, r: Ratings, rows: Int32Array): number {
  if (rows.length === 0) return 0;
  const model = plantedModel(record as unknown as Record<string, unknown>);
  let sse = 0;
  for (const x of rows) {
    const e = model.predict(r.user[x]!, r.movie[x]!) - r.rating[x]!;
    sse += e * e;
  }
  return Math.round(Math.sqrt(sse / rows.length) * 1e4) / 1e4;
}

/** training_set/mv_XXXXXXX.txt: one file per movie, Netflix's 7-digit zero-padded movie id. */
async function writeMovieFiles(dir: string, ds: Dataset, onProgress: (done: number) => void): Promise<void> {
  await fsp.mkdir(dir);
  const { user, movie, rating, day } = ds.ratings;
  const ids = ds.users as Int32Array;
  const dayMin = ds.meta.dayRange!.min;
  const dates = dateTable(dayMin, ds.meta.dayRange!.max);
  const buf = Buffer.allocUnsafe(MOVIE_FILE_BUFFER);
  const n = user.length;
  let r = 0;
  while (r < n) {
    const i = movie[r]!;
    const movieId = ds.movies[i]!;
    const out = await BufferedFile.open(join(dir, `mv_${String(movieId).padStart(7, "0")}.txt`), buf);
    try {
      out.ascii(`${movieId}:\n`);
      for (; r < n && movie[r] === i; r++) {
        if (out.full) await out.flush();
        out.ratingLine(ids[user[r]!]!, rating[r]!, dates, day[r]! - dayMin);
      }
      await out.flush();
    } finally {
      await out.close();
    }
    onProgress(r);
  }
}

/**
 * probe.txt ("customer": CustomerID lines), qualifying.txt ("date": CustomerID,YYYY-MM-DD) or the
 * answers ("rating": one rating per line) of the ratings at `rows`, under `MovieID:` lines.
 * `dates` is the dateTable from the dataset's first day.
 */
async function writeQueries(path: string, ds: Dataset, rows: Int32Array, kind: "customer" | "date" | "rating", dates: Uint8Array): Promise<void> {
  const { user, movie, rating, day } = ds.ratings;
  const ids = ds.users as Int32Array;
  const dayMin = ds.meta.dayRange!.min;
  const out = await BufferedFile.open(path);
  try {
    let current = -1;
    for (const r of rows) {
      if (out.full) await out.flush();
      const i = movie[r]!;
      if (i !== current) {
        out.ascii(`${ds.movies[i]}:\n`);
        current = i;
      }
      if (kind === "rating") out.ascii(`${rating[r]}\n`);
      else out.queryLine(ids[user[r]!]!, kind === "date" ? dates : null, day[r]! - dayMin);
    }
    await out.flush();
  } finally {
    await out.close();
  }
}
