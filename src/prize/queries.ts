/**
 * probe.txt and qualifying.txt against the training ratings they belong to.
 *
 * Every row must name a movie and a customer of the training set (Netflix guaranteed both); an
 * unknown one is refused with the file and line of the row. Probe rows must also be ratings of
 * the training set, since Netflix shipped the probe ratings inside it: that is where their ratings
 * come from, and what "removing the probe from training" takes out. A probe pair listed twice is
 * refused too.
 */
import { IdIndex } from "../data/ids.js";
import { readNetflixProbe, readNetflixQualifying } from "../data/readers/netflix.js";
import type { ScanOptions } from "../data/lines.js";
import { withRatings } from "../data/split.js";
import { DataError, ParseError, type Dataset, type Ratings } from "../data/types.js";

/** Query rows in file order, in the training dataset's dense indices. */
export interface DenseQueries {
  file: string;
  u: Int32Array;
  i: Int32Array;
  /** Days since 1970-01-01 (qualifying.txt), or null (probe.txt). */
  days: Int32Array | null;
  /** Raw MovieID per row, to write predictions under the same `MovieID:` lines. */
  movieIds: Int32Array;
}

/** Probe rows matched to training ratings: `rows[k]` is the index in the training ratings of probe row k. */
export interface Probe extends DenseQueries {
  rows: Uint32Array;
}

/** Reads probe.txt and matches each row to its rating in `training`. */
export async function readProbe(file: string, training: Dataset, opts: ScanOptions = {}): Promise<Probe> {
  const q = await readNetflixProbe(file, opts);
  const dense = toDense(file, q, training);
  return { ...dense, rows: matchRatings(dense, q.lines, training) };
}

/** Reads qualifying.txt in the training dataset's indices. */
export async function readQualifying(file: string, training: Dataset, opts: ScanOptions = {}): Promise<DenseQueries> {
  const q = await readNetflixQualifying(file, opts);
  return toDense(file, q, training);
}

function toDense(
  file: string,
  q: { movieIds: Int32Array; userIds: Int32Array; days: Int32Array | null; lines: Int32Array },
  training: Dataset,
): DenseQueries {
  const users = new IdIndex(training.users);
  const movies = new IdIndex(training.movies);
  const n = q.userIds.length;
  const u = new Int32Array(n);
  const i = new Int32Array(n);
  let lastMovieId = -1;
  let lastI = -1;
  for (let k = 0; k < n; k++) {
    const movieId = q.movieIds[k]!;
    if (movieId !== lastMovieId) {
      lastMovieId = movieId;
      lastI = movies.index(movieId);
    }
    if (lastI < 0) {
      throw new ParseError(file, q.lines[k]!, `MovieID ${movieId} is not in the training set`, "every movie of probe.txt and qualifying.txt has ratings in training_set/ (or combined_data_*.txt)");
    }
    const uk = users.index(q.userIds[k]!);
    if (uk < 0) {
      throw new ParseError(file, q.lines[k]!, `CustomerID ${q.userIds[k]} is not in the training set`, "every customer of probe.txt and qualifying.txt has ratings in training_set/ (or combined_data_*.txt)");
    }
    u[k] = uk;
    i[k] = lastI;
  }
  return { file, u, i, days: q.days, movieIds: q.movieIds };
}

/**
 * Finds each probe pair among the training ratings. Probe rows are grouped by user and sorted by
 * movie, then one pass over the training ratings looks each rating up in its user's (few) probe
 * rows by binary search: linear in the training set, whatever its order.
 */
function matchRatings(q: DenseQueries, lines: Int32Array, training: Dataset): Uint32Array {
  const n = q.u.length;
  const nU = training.users.length;
  const start = new Uint32Array(nU + 1);
  for (let k = 0; k < n; k++) start[q.u[k]! + 1]++;
  for (let x = 0; x < nU; x++) start[x + 1] += start[x]!;
  const fill = start.slice(0, nU);
  const byUser = new Uint32Array(n);
  for (let k = 0; k < n; k++) byUser[fill[q.u[k]!]!++] = k;
  for (let x = 0; x < nU; x++) {
    const s = start[x]!;
    const e = start[x + 1]!;
    if (e - s < 2) continue;
    const block = byUser.subarray(s, e);
    block.sort((a, b) => q.i[a]! - q.i[b]! || a - b);
    for (let t = 1; t < block.length; t++) {
      if (q.i[block[t]!] === q.i[block[t - 1]!]) {
        throw new ParseError(q.file, lines[block[t]!]!, `customer ${training.users[x]} and movie ${q.movieIds[block[t]!]} are listed twice (first at line ${lines[block[t - 1]!]})`);
      }
    }
  }
  const NONE = 0xffffffff;
  const rows = new Uint32Array(n).fill(NONE);
  const { user, movie } = training.ratings;
  for (let r = 0; r < user.length; r++) {
    const x = user[r]!;
    let lo = start[x]!;
    let hi = start[x + 1]!;
    if (lo === hi) continue;
    const target = movie[r]!;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (q.i[byUser[mid]!]! < target) lo = mid + 1;
      else hi = mid;
    }
    if (lo < start[x + 1]! && q.i[byUser[lo]!] === target) rows[byUser[lo]!] = r;
  }
  for (let k = 0; k < n; k++) {
    if (rows[k] === NONE) {
      throw new ParseError(
        q.file,
        lines[k]!,
        `customer ${training.users[q.u[k]!]} has no rating of movie ${q.movieIds[k]} in the training set`,
        "probe ratings are part of the training files as Netflix shipped them; is this probe.txt from the same data set?",
      );
    }
  }
  return rows;
}

/** The training ratings without the probe rows (the Prize's training set proper), same id tables. */
export function withoutProbe(training: Dataset, probe: Probe): Dataset {
  const n = training.ratings.user.length;
  const drop = new Uint8Array(n);
  for (const r of probe.rows) drop[r] = 1;
  const keep = new Uint32Array(n - probe.rows.length);
  let o = 0;
  for (let r = 0; r < n; r++) if (!drop[r]) keep[o++] = r;
  return subset(training, keep, { probe: "removed" });
}

/** The probe ratings (rating and date from the training set), in probe.txt order, same id tables. */
export function probeRatings(training: Dataset, probe: Probe): Dataset {
  return subset(training, probe.rows, { probe: "only" });
}

function subset(ds: Dataset, rows: Uint32Array, split: Record<string, unknown>): Dataset {
  const src = ds.ratings;
  const n = rows.length;
  const out: Ratings = { user: new Int32Array(n), movie: new Int32Array(n), rating: new Float32Array(n), day: new Int32Array(n) };
  for (let k = 0; k < n; k++) {
    const r = rows[k]!;
    out.user[k] = src.user[r]!;
    out.movie[k] = src.movie[r]!;
    out.rating[k] = src.rating[r]!;
    out.day[k] = src.day[r]!;
  }
  if (n === 0) throw new DataError("no ratings left after removing the probe set");
  return withRatings(ds, out, { method: "netflix-probe", parent: ds.meta.contentHash, ...split });
}
