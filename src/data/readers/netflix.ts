/**
 * Netflix Prize files.
 *
 * - Ratings: `combined_data_*.txt` and `training_set/mv_*.txt` — a `MovieID:` line, then
 *   `CustomerID,Rating,YYYY-MM-DD` lines for that movie. Ratings are integers 1..5; dates must be
 *   real calendar dates and become days since 1970-01-01.
 * - Queries: `probe.txt` (`MovieID:` then `CustomerID` lines) and `qualifying.txt` (`MovieID:` then
 *   `CustomerID,YYYY-MM-DD`), returned as raw-id columns in file order.
 * - Titles: `movie_titles.txt`/`.csv` — latin-1, no header, `MovieID,YearOfRelease,Title`; the
 *   title may contain commas (the line is split on its first two commas only) and quotes (taken
 *   literally); the year may be `NULL`.
 *
 * Ratings and queries are parsed from bytes (about 100M rows in the full data set).
 */
import { ByteCursor, emptyFileError, scanBytes, scanText, type ScanOptions, type ScanResult } from "../lines.js";
import { ParseError } from "../types.js";
import { RatingsBuilder, TitlesBuilder, type MovieTitles } from "./builder.js";
import { INVALID_DAY, dateAt } from "./dates.js";

/** The rating scale of the Netflix Prize data. */
export const NETFLIX_SCALE = { min: 1, max: 5 } as const;

const COLON = 58;
const COMMA = 44;
const LF = 10;
/** Typical rating line length in the real files (`1488844,3,2005-09-06\n` is 21 bytes). */
const TYPICAL_ROW_BYTES = 20;

/** About how many ratings `bytes` of Netflix rating files hold (a little over), to reserve room once. */
export function netflixRowEstimate(bytes: number): number {
  return Math.ceil(bytes / TYPICAL_ROW_BYTES);
}

/** Parses the `YYYY-MM-DD` field at the cursor into days since 1970-01-01. */
function dateField(c: ByteCursor, field: string): number {
  const day = dateAt(c.buf, c.pos, c.end);
  if (day === INVALID_DAY) {
    throw c.fail(`${field}: expected a calendar date YYYY-MM-DD, found ${c.text(c.pos)}`);
  }
  c.pos += 10;
  return day;
}

/**
 * Consumes the run of plain rating lines at the cursor — `CustomerID,Rating,YYYY-MM-DD` with a
 * 1..10-digit id in int32 range, a rating 1..5, a real date and an LF — in one tight loop over
 * local variables, and stops at the first line that is anything else (a `MovieID:` line, a blank
 * or CRLF line, the last line without a line end, an error), which the caller parses field by
 * field. Nearly every line of a Netflix file takes this path.
 */
function ratingRun(c: ByteCursor, into: RatingsBuilder, movieId: number): void {
  const buf = c.buf;
  const end = c.end;
  let p = c.pos;
  let line = c.line;
  for (;;) {
    let q = p;
    let id = 0;
    while (q < end) {
      const d = buf[q]! - 48;
      if (d < 0 || d > 9) break;
      id = id * 10 + d;
      q++;
    }
    if (q === p || q - p > 10 || id > 2147483647 || q + 14 > end || buf[q] !== COMMA || buf[q + 2] !== COMMA || buf[q + 13] !== LF) break;
    const r = buf[q + 1]! - 48;
    if (r < 1 || r > 5) break;
    const day = dateAt(buf, q + 3, end);
    if (day === INVALID_DAY) break;
    into.pushRaw(id, movieId, r, day);
    p = q + 14;
    line++;
  }
  if (p !== c.pos) {
    c.pos = p;
    c.lineStart = p;
    c.line = line;
  }
}

/** Reads one ratings file (combined_data_*.txt or mv_*.txt) into `into`; returns the file size. */
export async function readNetflixRatings(file: string, into: RatingsBuilder, opts: ScanOptions = {}): Promise<ScanResult> {
  const before = into.length;
  let movieId = -1;
  let reserved = false;
  const result = await scanBytes(
    file,
    (c) => {
      if (!reserved) {
        reserved = true;
        into.reserve(netflixRowEstimate(c.size));
      }
      while (c.more()) {
        if (movieId >= 0) {
          ratingRun(c, into, movieId);
          if (!c.more()) break;
        }
        if (c.blank()) continue;
        const id = c.uint("MovieID or CustomerID");
        if (c.at(COLON)) {
          c.pos++;
          c.endLine("MovieID:");
          movieId = id;
          continue;
        }
        if (movieId < 0) {
          throw c.fail(`rating row before any "MovieID:" line`, `a ratings file starts with a line "MovieID:", e.g. "1:"`);
        }
        c.expect(COMMA, "Rating");
        const r = c.uint("Rating");
        if (r < 1 || r > 5) throw c.fail(`Rating ${r} is out of range (expected an integer 1..5)`);
        c.expect(COMMA, "Date");
        const day = dateField(c, "Date");
        c.endLine("Date");
        into.pushRaw(id, movieId, r, day);
      }
    },
    opts,
  );
  if (into.length === before) throw emptyFileError(file);
  return result;
}

/** Raw (movie, customer) pairs of a probe or qualifying file, in file order. */
export interface NetflixQueries {
  movieIds: Int32Array;
  userIds: Int32Array;
  /** Days since 1970-01-01 (qualifying.txt); null for probe.txt, which has no dates. */
  days: Int32Array | null;
  /** 1-based line number of each row, for errors found after reading (an unknown movie or customer). */
  lines: Int32Array;
}

/** A growable Int32 column. */
class IntColumn {
  private data = new Int32Array(1 << 16);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }

  finish(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

async function readQueries(file: string, withDates: boolean, opts: ScanOptions): Promise<NetflixQueries> {
  const movieIds = new IntColumn();
  const userIds = new IntColumn();
  const days = new IntColumn();
  const lines = new IntColumn();
  let movieId = -1;
  await scanBytes(
    file,
    (c) => {
      while (c.more()) {
        if (c.blank()) continue;
        const line = c.line;
        const id = c.uint("MovieID or CustomerID");
        if (c.at(COLON)) {
          c.pos++;
          c.endLine("MovieID:");
          movieId = id;
          continue;
        }
        if (movieId < 0) throw c.fail(`CustomerID row before any "MovieID:" line`, `the file starts with a line "MovieID:", e.g. "1:"`);
        if (withDates) {
          c.expect(COMMA, "Date");
          days.push(dateField(c, "Date"));
          c.endLine("Date");
        } else {
          c.endLine("CustomerID");
        }
        movieIds.push(movieId);
        userIds.push(id);
        lines.push(line);
      }
    },
    opts,
  );
  if (userIds.length === 0) throw emptyFileError(file, "rows");
  return { movieIds: movieIds.finish(), userIds: userIds.finish(), days: withDates ? days.finish() : null, lines: lines.finish() };
}

/** Reads probe.txt: `MovieID:` lines, then one `CustomerID` per line. */
export function readNetflixProbe(file: string, opts: ScanOptions = {}): Promise<NetflixQueries> {
  return readQueries(file, false, opts);
}

/** Reads qualifying.txt: `MovieID:` lines, then `CustomerID,YYYY-MM-DD` lines. */
export async function readNetflixQualifying(file: string, opts: ScanOptions = {}): Promise<NetflixQueries & { days: Int32Array }> {
  const q = await readQueries(file, true, opts);
  return { ...q, days: q.days! };
}

/** Reads movie_titles.txt / .csv (latin-1, `MovieID,YearOfRelease,Title`, no header). */
export async function readNetflixTitles(file: string): Promise<MovieTitles> {
  const out = new TitlesBuilder(file);
  await scanText(
    file,
    "latin1",
    (text, line) => {
      const a = text.indexOf(",");
      const b = a < 0 ? -1 : text.indexOf(",", a + 1);
      if (a < 0) throw new ParseError(file, line, "missing field YearOfRelease (expected MovieID,YearOfRelease,Title)");
      if (b < 0) throw new ParseError(file, line, "missing field Title (expected MovieID,YearOfRelease,Title)");
      const idText = text.slice(0, a);
      const yearText = text.slice(a + 1, b);
      if (!/^\d{1,9}$/.test(idText)) throw new ParseError(file, line, `MovieID: expected a non-negative integer, found ${JSON.stringify(idText)}`);
      if (yearText !== "NULL" && !/^\d{4}$/.test(yearText)) {
        throw new ParseError(file, line, `YearOfRelease: expected a 4-digit year or NULL, found ${JSON.stringify(yearText)}`);
      }
      out.add(line, Number(idText), text.slice(b + 1), yearText === "NULL" ? 0 : Number(yearText));
    },
  );
  if (out.size === 0) throw emptyFileError(file, "movies");
  return out.finish();
}
