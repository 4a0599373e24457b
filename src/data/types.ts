/**
 * The in-memory shape of a dataset, shared by readers, the generator, splits, models and eval.
 *
 * Ratings are columnar (one typed array per column, equal lengths), keyed by dense indices:
 * users 0..nUsers-1 and movies 0..nMovies-1. Raw ids (what the source files call a user or a
 * movie) live only in the id tables `users` / `movies` and never share a signature with dense
 * indices: functions take either `userId`/`movieId` (raw) or `u`/`i` (dense).
 */

/** Raw ids of a table, indexed by dense index. Integer ids are kept as Int32; anything else as strings. */
export type RawIds = Int32Array | string[];

/** A raw id as a caller passes it: numbers and numeric strings are the same id. */
export type RawId = number | string;

export interface Ratings {
  /** Dense user index per rating. */
  user: Int32Array;
  /** Dense movie index per rating. */
  movie: Int32Array;
  rating: Float32Array;
  /** Days since 1970-01-01 (UTC); 0 when the source has no dates. */
  day: Int32Array;
}

export interface SourceFile {
  path: string;
  bytes: number;
}

export interface DatasetMeta {
  format: "movierec-dataset";
  version: 1;
  nRatings: number;
  nUsers: number;
  nMovies: number;
  /** Smallest and largest rating allowed by the source's scale (e.g. 1..5, or 0.5..5 for half stars). */
  ratingScale: { min: number; max: number };
  /** Smallest and largest day present (days since 1970-01-01); null when the source has no dates. */
  dayRange: { min: number; max: number } | null;
  /** Where the ratings came from: "netflix", "movielens", "csv", "generated", "split". */
  source: string;
  sources: SourceFile[];
  /** sha256 over the ratings columns and the id tables (hex). Same data, same hash. */
  contentHash: string;
  createdAt: string;
  /** Set by the synthetic generator: the planted model and its own RMSE on the held-out part. */
  generator?: Record<string, unknown>;
  /** Set by splits: how this part was cut from its parent. */
  split?: Record<string, unknown>;
}

export interface Dataset {
  ratings: Ratings;
  /** Raw user id per dense user index (length nUsers). */
  users: RawIds;
  /** Raw movie id per dense movie index (length nMovies). */
  movies: RawIds;
  /** Title per dense movie index where known (null entries for unknown titles), or null if the source has none. */
  titles: (string | null)[] | null;
  /** Release year per dense movie index where known (0 = unknown), or null. */
  years: Int32Array | null;
  meta: DatasetMeta;
}

/** An error in user-supplied data or arguments: the CLI prints `message` (and `hint`) and exits 2. */
export class DataError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = "DataError";
  }
}

/** A DataError at a place in a file; the message starts with `file:line: `. */
export class ParseError extends DataError {
  constructor(readonly file: string, readonly line: number, what: string, hint?: string) {
    super(`${file}:${line}: ${what}`, hint);
    this.name = "ParseError";
  }
}
