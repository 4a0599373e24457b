/**
 * MovieLens files (GroupLens).
 *
 * Ratings, parsed from bytes:
 * - `u.data`, `uN.base`, `uN.test` (100K): `user<TAB>item<TAB>rating<TAB>timestamp`, ratings 1..5.
 * - `ratings.dat` (1M, 10M): `user::movie::rating::timestamp`; 1M has ratings 1..5, 10M half stars.
 * - `ratings.csv` (latest, 20M, 25M): header `userId,movieId,rating,timestamp`, half stars 0.5..5.
 * Timestamps are Unix seconds and become days since 1970-01-01 (UTC).
 *
 * Titles, as text:
 * - `u.item`: latin-1, `id|title|release date|video release date|IMDb URL|genre flags...`; the
 *   year comes from the release date (`01-Jan-1995`), else from a trailing `(1995)` in the title.
 * - `movies.dat`: `id::title::genres` (latin-1 in 1M; UTF-8 accepted when the file is valid UTF-8).
 * - `movies.csv`: UTF-8, header `movieId,title,genres`, RFC-4180 quoting.
 * The title is kept as in the file; the year of movies.dat / movies.csv is the title's `(YYYY)`.
 */
import { existsSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { makeDataset } from "../dataset.js";
import { ByteCursor, emptyFileError, scanBytes, scanText, type ScanOptions, type TextEncoding } from "../lines.js";
import type { Dataset, Ratings } from "../types.js";
import { DataError, ParseError } from "../types.js";
import { alignTitles, RatingsBuilder, TitlesBuilder, type MovieTitles } from "./builder.js";
import { splitCsvLine } from "./csvsplit.js";
import { dayOfTimestamp, yearFromTitle, yearOfDayMonYear } from "./dates.js";

/** Ratings 1..5 (100K, 1M). */
export const MOVIELENS_SCALE = { min: 1, max: 5 } as const;
/** Half stars 0.5..5 (10M, 20M, 25M, latest). */
export const MOVIELENS_HALF_STAR_SCALE = { min: 0.5, max: 5 } as const;

const TAB = 9;
const COLON = 58;
const COMMA = 44;
const RATINGS_CSV_HEADER = "userId,movieId,rating,timestamp";

export type MovieLensRatingsFormat = "tab" | "dat" | "csv";

/** The ratings format a MovieLens file name stands for, or null for a name that is not a MovieLens ratings file. */
export function movieLensRatingsFormat(file: string): MovieLensRatingsFormat | null {
  const name = basename(file);
  if (name === "u.data" || /\.(base|test)$/.test(name)) return "tab";
  if (name === "ratings.dat") return "dat";
  if (name === "ratings.csv") return "csv";
  return null;
}

interface RatingsLayout {
  /** Field separator byte, repeated `sepRepeat` times (`::` is ':' twice). */
  sep: number;
  sepRepeat: number;
  header: string | null;
  halfStars: boolean;
}

const LAYOUTS: Record<MovieLensRatingsFormat, RatingsLayout> = {
  tab: { sep: TAB, sepRepeat: 1, header: null, halfStars: false },
  dat: { sep: COLON, sepRepeat: 2, header: null, halfStars: true },
  csv: { sep: COMMA, sepRepeat: 1, header: RATINGS_CSV_HEADER, halfStars: true },
};

function separator(c: ByteCursor, layout: RatingsLayout, field: string): void {
  for (let k = 0; k < layout.sepRepeat; k++) c.expect(layout.sep, field);
}

/**
 * Reads a MovieLens ratings file into `into`. Returns the rating scale the file uses: 1..5 for
 * u.data and for ratings.dat with whole stars only, 0.5..5 for ratings.csv and half-star ratings.dat.
 */
export async function readMovieLensRatings(
  file: string,
  format: MovieLensRatingsFormat,
  into: RatingsBuilder,
  opts: ScanOptions = {},
): Promise<{ bytes: number; scale: { min: number; max: number } }> {
  const layout = LAYOUTS[format];
  const before = into.length;
  let halfSeen = false;
  let headerDone = layout.header === null;
  const { bytes } = await scanBytes(
    file,
    (c) => {
      while (c.more()) {
        if (c.blank()) continue;
        if (!headerDone) {
          const text = c.restOfLine();
          if (text !== layout.header) throw c.fail(`expected the header "${layout.header}", found ${JSON.stringify(text.slice(0, 60))}`);
          c.endLine("the header");
          headerDone = true;
          continue;
        }
        const user = c.uint("userId");
        separator(c, layout, "movieId");
        const movie = c.uint("movieId");
        separator(c, layout, "rating");
        let r: number;
        if (layout.halfStars) {
          r = c.decimal("rating");
          if (!(r >= 0.5 && r <= 5) || r * 2 !== Math.floor(r * 2)) {
            throw c.fail(`rating ${r} is out of range (expected 0.5..5 in half stars)`);
          }
          if (r !== Math.floor(r)) halfSeen = true;
        } else {
          r = c.uint("rating");
          if (r < 1 || r > 5) throw c.fail(`rating ${r} is out of range (expected an integer 1..5)`);
        }
        separator(c, layout, "timestamp");
        const day = dayOfTimestamp(c.ulong("timestamp"));
        c.endLine("timestamp");
        into.pushRaw(user, movie, r, day);
      }
    },
    opts,
  );
  if (into.length === before) throw emptyFileError(file);
  const scale = format === "csv" || halfSeen ? MOVIELENS_HALF_STAR_SCALE : MOVIELENS_SCALE;
  return { bytes, scale: { ...scale } };
}

function parseId(text: string, file: string, line: number, field: string): number {
  if (!/^\d{1,9}$/.test(text)) throw new ParseError(file, line, `${field}: expected a non-negative integer, found ${JSON.stringify(text)}`);
  return Number(text);
}

/** Reads u.item (latin-1, pipe-separated). */
export async function readUItem(file: string): Promise<MovieTitles> {
  const out = new TitlesBuilder(file);
  await scanText(
    file,
    "latin1",
    (text, line) => {
      const f = text.split("|");
      if (f.length < 2) throw new ParseError(file, line, "missing field title (expected id|title|release date|...)");
      if (f.length < 3) throw new ParseError(file, line, "missing field release date (expected id|title|release date|...)");
      const id = parseId(f[0]!, file, line, "movie id");
      const title = f[1]!;
      const date = f[2]!;
      let year = 0;
      if (date !== "") {
        const y = yearOfDayMonYear(date);
        if (y === null) throw new ParseError(file, line, `release date: expected D-Mon-YYYY (e.g. 01-Jan-1995) or nothing, found ${JSON.stringify(date)}`);
        year = y;
      } else {
        year = yearFromTitle(title);
      }
      out.add(line, id, title, year);
    },
  );
  if (out.size === 0) throw emptyFileError(file, "movies");
  return out.finish();
}

async function readMoviesDatAs(file: string, encoding: TextEncoding): Promise<MovieTitles> {
  const out = new TitlesBuilder(file);
  await scanText(
    file,
    encoding,
    (text, line) => {
      const a = text.indexOf("::");
      const b = text.lastIndexOf("::");
      if (a < 0) throw new ParseError(file, line, "missing field title (expected id::title::genres)");
      if (b === a) throw new ParseError(file, line, "missing field genres (expected id::title::genres)");
      const title = text.slice(a + 2, b);
      out.add(line, parseId(text.slice(0, a), file, line, "movie id"), title, yearFromTitle(title));
    },
  );
  if (out.size === 0) throw emptyFileError(file, "movies");
  return out.finish();
}

/** Reads movies.dat (`id::title::genres`): as UTF-8 when the file is valid UTF-8, else as latin-1. */
export async function readMoviesDat(file: string): Promise<MovieTitles> {
  try {
    return await readMoviesDatAs(file, "utf8");
  } catch (err) {
    if (!(err instanceof ParseError) || !err.message.includes("invalid UTF-8")) throw err;
    return readMoviesDatAs(file, "latin1");
  }
}

/** Reads movies.csv (UTF-8, header `movieId,title,genres`, RFC-4180 quoting). */
export async function readMoviesCsv(file: string): Promise<MovieTitles> {
  const out = new TitlesBuilder(file);
  let idCol = -1;
  let titleCol = -1;
  let width = 0;
  await scanText(
    file,
    "utf8",
    (text, line) => {
      const f = splitCsvLine(text, ",", file, line);
      if (idCol < 0) {
        idCol = f.indexOf("movieId");
        titleCol = f.indexOf("title");
        width = f.length;
        if (idCol < 0 || titleCol < 0) {
          throw new ParseError(file, line, `expected a header with columns movieId and title, found ${JSON.stringify(text.slice(0, 60))}`);
        }
        return;
      }
      if (f.length < width) throw new ParseError(file, line, `missing field: ${f.length} fields where the header has ${width}`);
      const title = f[titleCol]!;
      out.add(line, parseId(f[idCol]!, file, line, "movieId"), title, yearFromTitle(title));
    },
  );
  if (out.size === 0) throw emptyFileError(file, "movies");
  return out.finish();
}

/** Reads any MovieLens titles file by its name (u.item, movies.dat, movies.csv); null for another name. */
export function readMovieLensTitles(file: string): Promise<MovieTitles> | null {
  switch (basename(file)) {
    case "u.item":
      return readUItem(file);
    case "movies.dat":
      return readMoviesDat(file);
    case "movies.csv":
      return readMoviesCsv(file);
    default:
      return null;
  }
}

/** One of the official MovieLens 100K cross-validation folds. */
export interface MovieLensFold {
  name: string;
  train: Dataset;
  test: Dataset;
}

function sliceRatings(r: Ratings, start: number, end: number): Ratings {
  return {
    user: r.user.subarray(start, end),
    movie: r.movie.subarray(start, end),
    rating: r.rating.subarray(start, end),
    day: r.day.subarray(start, end),
  };
}

/**
 * Reads the five official MovieLens 100K folds u1..u5 (uN.base → train, uN.test → test), with
 * titles from u.item when the folder has it. Within a fold, train and test share one user table
 * and one movie table built over both files, so their dense indices agree.
 */
export async function loadMovieLensFolds(folder: string): Promise<MovieLensFold[]> {
  const itemFile = join(folder, "u.item");
  const items = existsSync(itemFile) ? await readUItem(itemFile) : null;
  const folds: MovieLensFold[] = [];
  for (let k = 1; k <= 5; k++) {
    const name = `u${k}`;
    const baseFile = join(folder, `${name}.base`);
    const testFile = join(folder, `${name}.test`);
    for (const f of [baseFile, testFile]) {
      if (!existsSync(f)) throw new DataError(`${f} is missing`, "a MovieLens 100K folder holds u1.base/u1.test ... u5.base/u5.test");
    }
    const b = new RatingsBuilder();
    await readMovieLensRatings(baseFile, "tab", b);
    const nTrain = b.length;
    await readMovieLensRatings(testFile, "tab", b);
    const t = b.finish();
    const titled = items === null ? { titles: null, years: null } : alignTitles(t.movies, items);
    const part = (file: string, start: number, end: number, role: "train" | "test"): Dataset =>
      makeDataset({
        ratings: sliceRatings(t.ratings, start, end),
        users: t.users,
        movies: t.movies,
        titles: titled.titles,
        years: titled.years,
        source: "movielens",
        sources: [{ path: file, bytes: statSync(file).size }],
        ratingScale: { ...MOVIELENS_SCALE },
        split: { method: "predefined", fold: name, part: role },
      });
    folds.push({ name, train: part(baseFile, 0, nTrain, "train"), test: part(testFile, nTrain, t.ratings.user.length, "test") });
  }
  return folds;
}
