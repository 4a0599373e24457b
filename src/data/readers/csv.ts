/**
 * Generic rating CSV: a header line naming the columns, then one rating per line.
 *
 * The user, item and rating columns are found by name (`CsvOptions`, or by the usual names:
 * user / userId / user_id, item / movie / movieId / itemId / movie_id / item_id, rating); an optional
 * timestamp column (Unix seconds) or date column (`YYYY-MM-DD`) gives the day. Fields may be quoted
 * as in RFC 4180. Ids may be integers or any strings. Ratings must be finite numbers, and within
 * `scale` when it is given.
 */
import { emptyFileError, scanText, type ScanOptions, type TextEncoding } from "../lines.js";
import { DataError, ParseError } from "../types.js";
import type { RatingsBuilder } from "./builder.js";
import { splitCsvLine } from "./csvsplit.js";
import { dayOfTimestamp, parseIsoDate } from "./dates.js";

export interface CsvOptions {
  /** Column holding the user id (default: user, userId or user_id). */
  user?: string;
  /** Column holding the movie id (default: item, movie, movieId, itemId, movie_id or item_id). */
  item?: string;
  /** Column holding the rating (default: rating). */
  rating?: string;
  /** Column of Unix timestamps in seconds (default: a column named timestamp, if any). */
  timestamp?: string;
  /** Column of YYYY-MM-DD dates (default: a column named date, if any). */
  date?: string;
  /** Field separator (default ","). */
  delimiter?: string;
  /** Allowed ratings: rows outside are refused. Default: any finite rating; the scale is the range found. */
  scale?: { min: number; max: number };
  /** Text encoding (default UTF-8). */
  encoding?: TextEncoding;
}

const ALIASES = {
  user: ["user", "userId", "user_id"],
  item: ["item", "movie", "movieId", "itemId", "movie_id", "item_id"],
  rating: ["rating"],
  timestamp: ["timestamp"],
  date: ["date"],
} as const;

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const SECONDS = /^-?\d+(\.\d+)?$/;

/** Where each needed value sits in a row. */
interface Columns {
  width: number;
  names: string[];
  user: number;
  item: number;
  rating: number;
  timestamp: number;
  date: number;
}

function findColumn(names: string[], given: string | undefined, aliases: readonly string[]): number {
  const wanted = given !== undefined ? [given] : aliases;
  for (const w of wanted) {
    const exact = names.indexOf(w);
    if (exact >= 0) return exact;
  }
  const lower = names.map((n) => n.toLowerCase());
  for (const w of wanted) {
    const k = lower.indexOf(w.toLowerCase());
    if (k >= 0) return k;
  }
  return -1;
}

/**
 * Finds the mapped columns in the header row (at `line` of `file`). A required column that is
 * missing is a ParseError, or gives null when `file` is null (format detection).
 */
export function resolveColumns(header: string[], opts: CsvOptions, file: string | null, line = 1): Columns | null {
  const names = header.map((h) => h.trim());
  const cols: Columns = {
    width: names.length,
    names,
    user: findColumn(names, opts.user, ALIASES.user),
    item: findColumn(names, opts.item, ALIASES.item),
    rating: findColumn(names, opts.rating, ALIASES.rating),
    timestamp: opts.date !== undefined ? -1 : findColumn(names, opts.timestamp, ALIASES.timestamp),
    date: opts.timestamp !== undefined ? -1 : findColumn(names, opts.date, ALIASES.date),
  };
  if (cols.timestamp >= 0) cols.date = -1;
  const required: Array<[keyof typeof ALIASES, number, string | undefined]> = [
    ["user", cols.user, opts.user],
    ["item", cols.item, opts.item],
    ["rating", cols.rating, opts.rating],
  ];
  if (opts.timestamp !== undefined) required.push(["timestamp", cols.timestamp, opts.timestamp]);
  if (opts.date !== undefined) required.push(["date", cols.date, opts.date]);
  for (const [role, at, given] of required) {
    if (at >= 0) continue;
    if (file === null) return null;
    const looked = given !== undefined ? `"${given}"` : ALIASES[role].map((a) => `"${a}"`).join(" / ");
    throw new ParseError(file, line, `no ${role} column: the header has no ${looked} (columns: ${names.join(", ")})`, `name the ${role} column: --${role}-col on the command line, the csv option "${role}" in the library`);
  }
  return cols;
}

/** Checks the options that do not depend on the file; returns the delimiter. */
function checkOptions(opts: CsvOptions): string {
  const d = opts.delimiter ?? ",";
  if (d === "" || d.includes('"') || d.includes("\n") || d.includes("\r")) {
    throw new DataError(`csv delimiter ${JSON.stringify(d)} cannot separate fields`, 'use one character such as "," ";" or "\\t"');
  }
  if (opts.timestamp !== undefined && opts.date !== undefined) {
    throw new DataError("csv: both a timestamp column and a date column were given", "give one of them");
  }
  const s = opts.scale;
  if (s !== undefined && (Number.isNaN(s.min) || Number.isNaN(s.max) || s.min > s.max)) {
    throw new DataError(`csv rating scale ${s.min}..${s.max} is not a range`, "the lowest allowed rating must not exceed the highest");
  }
  return d;
}

/**
 * Reads a generic rating CSV into `into`; returns the file size and the smallest and largest
 * rating the file holds.
 */
export async function readCsvRatings(
  file: string,
  into: RatingsBuilder,
  opts: CsvOptions = {},
  scan: ScanOptions = {},
): Promise<{ bytes: number; range: { min: number; max: number } }> {
  const delimiter = checkOptions(opts);
  const scale = opts.scale;
  let cols: Columns | null = null;
  let min = Infinity;
  let max = -Infinity;
  const fail = (line: number, what: string, hint?: string): ParseError => new ParseError(file, line, what, hint);
  const { bytes } = await scanText(
    file,
    opts.encoding ?? "utf8",
    (text, line) => {
      const f = splitCsvLine(text, delimiter, file, line);
      if (cols === null) {
        cols = resolveColumns(f, opts, file, line)!;
        return;
      }
      const c: Columns = cols;
      if (f.length < c.width) throw fail(line, `missing field ${c.names[f.length]} (${f.length} fields where the header has ${c.width})`);
      if (f.length > c.width) throw fail(line, `${f.length} fields where the header has ${c.width}`, "quote fields that contain the delimiter");
      const user = f[c.user]!.trim();
      const item = f[c.item]!.trim();
      if (user === "") throw fail(line, `empty user id in column ${c.names[c.user]}`);
      if (item === "") throw fail(line, `empty item id in column ${c.names[c.item]}`);
      const ratingText = f[c.rating]!.trim();
      const r = NUMBER.test(ratingText) ? Number(ratingText) : NaN;
      if (!Number.isFinite(r)) throw fail(line, `rating: expected a number, found ${JSON.stringify(ratingText)}`);
      if (scale !== undefined && (r < scale.min || r > scale.max)) {
        throw fail(line, `rating ${r} is out of range (expected ${scale.min}..${scale.max})`);
      }
      let day = 0;
      if (c.timestamp >= 0) {
        const ts = f[c.timestamp]!.trim();
        if (!SECONDS.test(ts)) throw fail(line, `timestamp: expected Unix seconds, found ${JSON.stringify(ts)}`);
        day = dayOfTimestamp(Number(ts));
      } else if (c.date >= 0) {
        const ds = f[c.date]!.trim();
        const d = parseIsoDate(ds);
        if (d === null) throw fail(line, `date: expected a calendar date YYYY-MM-DD, found ${JSON.stringify(ds)}`);
        day = d;
      }
      if (r < min) min = r;
      if (r > max) max = r;
      into.pushDense(into.users.addKey(user), into.movies.addKey(item), r, day);
    },
    scan,
  );
  if (min > max) throw emptyFileError(file);
  return { bytes, range: { min, max } };
}
