/**
 * From raw rating files to a Dataset: `ingest` reads Netflix Prize, MovieLens or generic CSV
 * files and folders and writes a dataset folder; `loadRatings` recognizes the format of one file
 * or folder by itself and reads it in memory, for commands that take "a dataset or a file".
 *
 * Several Netflix rating files are parsed on worker threads (parse-worker.ts), with the same
 * result as on one. Reading finishes before anything is written, and the folder is written
 * atomically, so a failed ingest leaves neither the output folder nor a temporary folder behind.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, dirname, join } from "node:path";
import { checkOutDir, isDatasetDir, makeDataset, readDataset, writeNewDataset, type DatasetInput } from "./dataset.js";
import { emptyFileError, readHead } from "./lines.js";
import { readNetflixParallel } from "./parse-worker.js";
import { alignTitles, RatingsBuilder, type MovieTitles, type RatingsTable } from "./readers/builder.js";
import { readCsvRatings, resolveColumns, type CsvOptions } from "./readers/csv.js";
import { splitCsvLine } from "./readers/csvsplit.js";
import { movieLensRatingsFormat, readMovieLensRatings, readMovieLensTitles, type MovieLensRatingsFormat } from "./readers/movielens.js";
import { NETFLIX_SCALE, netflixRowEstimate, readNetflixRatings, readNetflixTitles } from "./readers/netflix.js";
import { DataError, type Dataset, type SourceFile } from "./types.js";

export type IngestKind = "netflix" | "movielens" | "csv";

export interface IngestOptions {
  /** Replace an existing, non-empty output folder. */
  force?: boolean;
  /** Called as input bytes are read, with the bytes done and the total over all input files. */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** Column mapping and checks for generic CSV input. */
  csv?: CsvOptions;
  /**
   * Worker threads that parse Netflix rating files, one file or more per task, when there are
   * several files (default: the number of cores for inputs of PARALLEL_MIN_BYTES or more, else 1).
   * 1 reads on the calling thread. The dataset is the same either way.
   */
  threads?: number;
}

export type LoadOptions = Omit<IngestOptions, "force">;

type RatingsFormat = "netflix" | MovieLensRatingsFormat | "generic";

/** The files one ingest reads, and how. */
interface Plan {
  source: IngestKind;
  ratings: Array<{ path: string; format: RatingsFormat }>;
  /** Titles files (u.item, movies.dat, movies.csv, movie_titles.*). */
  titles: string[];
}

const FORMATS_HINT =
  "accepted: a dataset folder (meta.json); MovieLens u.data / uN.base / uN.test (user<TAB>item<TAB>rating<TAB>timestamp), " +
  "ratings.dat (user::movie::rating::timestamp), ratings.csv (userId,movieId,rating,timestamp) or a folder holding one of them; " +
  "Netflix Prize text (a first line \"MovieID:\", then CustomerID,Rating,YYYY-MM-DD) or a Netflix folder (training_set/ or combined_data_*.txt); " +
  "a CSV whose header names user, item and rating columns";

const NETFLIX_TITLES = /^movie_titles\.(txt|csv)$/;
const NETFLIX_QUERIES = /^(probe|qualifying)\.txt$/;
const COMBINED = /^combined_data_\d+\.txt$/;
const MV_FILE = /^mv_\d+\.txt$/;
const MOVIELENS_TITLES = ["u.item", "movies.dat", "movies.csv"];
/** The rating files of each MovieLens release, with the titles file that goes with it. */
const MOVIELENS_SETS: Array<[string, string]> = [
  ["u.data", "u.item"],
  ["ratings.dat", "movies.dat"],
  ["ratings.csv", "movies.csv"],
];

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    throw new DataError(`${path}: no such file or folder`, "check the path");
  }
}

function sortedFiles(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir)
    .filter((n) => pattern.test(n))
    .sort()
    .map((n) => join(dir, n));
}

function queriesError(path: string): DataError {
  return new DataError(`${path} is a Netflix probe/qualifying file (MovieID: then CustomerID lines), not ratings`, "ingest the ratings (training_set/ or combined_data_*.txt); the probe split is made with `movierec split --method probe`");
}

/** The Netflix ratings and titles files of the given files and folders. */
function planNetflix(paths: string[]): Plan {
  const plan: Plan = { source: "netflix", ratings: [], titles: [] };
  for (const path of paths) {
    if (!isDir(path)) {
      const name = basename(path);
      if (NETFLIX_TITLES.test(name)) plan.titles.push(path);
      else if (NETFLIX_QUERIES.test(name)) throw queriesError(path);
      else plan.ratings.push({ path, format: "netflix" });
      continue;
    }
    const trainingSet = join(path, "training_set");
    const mv = existsSync(trainingSet) && isDir(trainingSet) ? sortedFiles(trainingSet, MV_FILE) : sortedFiles(path, MV_FILE);
    const combined = sortedFiles(path, COMBINED);
    if (mv.length > 0 && combined.length > 0) {
      throw new DataError(`${path} holds both training_set/mv_*.txt and combined_data_*.txt: the same ratings in two layouts`, "pass one of them explicitly, with movie_titles.*");
    }
    const files = combined.length > 0 ? combined : mv;
    if (files.length === 0) {
      throw new DataError(`${path}: no Netflix ratings files (training_set/mv_*.txt or combined_data_*.txt)`, FORMATS_HINT);
    }
    for (const f of files) plan.ratings.push({ path: f, format: "netflix" });
    const titles = sortedFiles(path, NETFLIX_TITLES);
    if (titles.length > 0) plan.titles.push(titles[0]!);
  }
  if (plan.ratings.length === 0) throw new DataError("no Netflix ratings files among the inputs", "pass a Netflix folder, training_set/ or combined_data_*.txt");
  return plan;
}

/** The MovieLens ratings file of a folder and its titles file; refuses a folder holding several data sets. */
function movieLensFolder(dir: string, plan: Plan): void {
  const sets = MOVIELENS_SETS.filter(([ratings]) => existsSync(join(dir, ratings)));
  if (sets.length === 0) throw new DataError(`${dir}: no MovieLens ratings file (u.data, ratings.dat or ratings.csv)`, FORMATS_HINT);
  if (sets.length > 1) {
    throw new DataError(`${dir} holds several MovieLens rating files (${sets.map(([r]) => r).join(", ")})`, `pass the one to read as a file; ${FORMATS_HINT}`);
  }
  const [ratings, titles] = sets[0]!;
  plan.ratings.push({ path: join(dir, ratings), format: movieLensRatingsFormat(ratings)! });
  if (existsSync(join(dir, titles))) plan.titles.push(join(dir, titles));
}

function planMovieLens(paths: string[]): Plan {
  const plan: Plan = { source: "movielens", ratings: [], titles: [] };
  for (const path of paths) {
    if (isDir(path)) {
      movieLensFolder(path, plan);
    } else if (MOVIELENS_TITLES.includes(basename(path))) {
      plan.titles.push(path);
    } else {
      const format = movieLensRatingsFormat(path) ?? sniff(path, {});
      if (format !== "tab" && format !== "dat" && format !== "csv") {
        throw new DataError(`${path} is not a MovieLens file`, "MovieLens files: u.data, uN.base, uN.test, ratings.dat, ratings.csv, u.item, movies.dat, movies.csv");
      }
      plan.ratings.push({ path, format });
    }
  }
  if (plan.ratings.length === 0) throw new DataError("no MovieLens ratings files among the inputs", "pass a MovieLens folder, u.data, ratings.dat or ratings.csv");
  return plan;
}

function planCsv(paths: string[]): Plan {
  if (paths.length === 0) throw new DataError("no CSV files given");
  for (const path of paths) {
    if (isDir(path)) throw new DataError(`${path} is a folder`, "csv input takes CSV files");
  }
  return { source: "csv", ratings: paths.map((path) => ({ path, format: "generic" as const })), titles: [] };
}

/** The first two non-empty lines of a file, for recognizing its format. */
function headLines(path: string): string[] {
  const head = readHead(path).toString("latin1").replace(/^\u00ef\u00bb\u00bf/, ""); // a UTF-8 byte-order mark
  return head
    .split("\n")
    .map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l))
    .filter((l) => l !== "")
    .slice(0, 2);
}

/** Recognizes a ratings file by its first lines; null when nothing matches. */
function sniff(path: string, csv: CsvOptions | undefined): RatingsFormat | null {
  const [first, second] = headLines(path);
  if (first === undefined) throw emptyFileError(path);
  if (/^\d+:\s*$/.test(first)) {
    if (second !== undefined && /^\d+(,\d{4}-\d{2}-\d{2})?$/.test(second)) throw queriesError(path);
    return "netflix";
  }
  if (/^\d+\t\d+\t\d+(\.\d+)?\t\d+$/.test(first)) return "tab";
  if (/^\d+::\d+::\d+(\.\d+)?::\d+$/.test(first)) return "dat";
  if (first === "userId,movieId,rating,timestamp") return "csv";
  const options = csv ?? {};
  const fields = splitCsvLine(first, options.delimiter ?? ",", path, 1);
  if (csv !== undefined || resolveColumns(fields, options, null) !== null) return "generic";
  return null;
}

/** Recognizes what `path` holds, for loadRatings. */
function detect(path: string, csv: CsvOptions | undefined): Plan {
  if (isDir(path)) {
    const netflix = existsSync(join(path, "training_set")) || sortedFiles(path, COMBINED).length > 0 || sortedFiles(path, MV_FILE).length > 0;
    const movielens = MOVIELENS_SETS.some(([ratings]) => existsSync(join(path, ratings)));
    if (netflix && movielens) {
      throw new DataError(`${path} holds both Netflix and MovieLens files: cannot tell which to read`, `pass the ratings file itself; ${FORMATS_HINT}`);
    }
    if (netflix) return planNetflix([path]);
    if (movielens) return planMovieLens([path]);
    throw new DataError(`${path}: no ratings files recognized in this folder`, FORMATS_HINT);
  }
  const name = basename(path);
  if (NETFLIX_QUERIES.test(name)) throw queriesError(path);
  const format = movieLensRatingsFormat(name) ?? (COMBINED.test(name) || MV_FILE.test(name) ? "netflix" : sniff(path, csv));
  if (format === null) throw new DataError(`${path}: unrecognized ratings format`, FORMATS_HINT);
  const source: IngestKind = format === "netflix" ? "netflix" : format === "generic" ? "csv" : "movielens";
  return { source, ratings: [{ path, format }], titles: siblingTitles(path, source) };
}

/** The titles file beside a single ratings file (u.item beside u1.base, movie_titles.txt beside combined_data_1.txt). */
function siblingTitles(path: string, source: IngestKind): string[] {
  const dir = dirname(path);
  if (source === "netflix") return sortedFiles(dir, NETFLIX_TITLES).slice(0, 1);
  if (source !== "movielens") return [];
  const set = MOVIELENS_SETS.find(([ratings]) => ratings === basename(path));
  const candidates = set ? [set[1]] : MOVIELENS_TITLES;
  const found = candidates.map((t) => join(dir, t)).filter((t) => existsSync(t));
  return found.slice(0, 1);
}

/** Netflix inputs smaller than this are read on the calling thread unless `threads` is given: starting workers would cost more than it saves. */
export const PARALLEL_MIN_BYTES = 32 << 20;

/** How many worker threads read the plan's rating files: 1 (the calling thread) unless it holds several Netflix files. */
function parseThreads(plan: Plan, ratingSources: SourceFile[], threads: number | undefined): number {
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1 || threads > 256)) {
    throw new DataError(`threads must be a whole number from 1 to 256 (got ${threads})`);
  }
  if (plan.source !== "netflix") return 1;
  const bytes = ratingSources.reduce((sum, f) => sum + f.bytes, 0);
  const wanted = threads ?? (bytes >= PARALLEL_MIN_BYTES ? availableParallelism() : 1);
  return Math.min(wanted, plan.ratings.length);
}

type Scale = { min: number; max: number };

function widen(a: Scale | null, b: Scale): Scale {
  return a === null ? { ...b } : { min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) };
}

/** The scale of generic CSV input: the --scale bounds where finite, else the ratings found. */
function csvScale(found: Scale, given: Scale | undefined): Scale {
  if (given === undefined) return found;
  return { min: Number.isFinite(given.min) ? given.min : found.min, max: Number.isFinite(given.max) ? given.max : found.max };
}

/**
 * Reads the rating files of a plan (`ratingSources`, in plan order) into one table: on worker
 * threads for several Netflix files (see parseThreads), else one file after the other.
 */
async function readRatingFiles(
  plan: Plan,
  ratingSources: SourceFile[],
  opts: LoadOptions,
  onBytes: (bytes: number) => void,
): Promise<{ table: RatingsTable; scale: Scale }> {
  const threads = parseThreads(plan, ratingSources, opts.threads);
  if (threads > 1) return { table: await readNetflixParallel(ratingSources, { threads, onBytes }), scale: { ...NETFLIX_SCALE } };
  const builder = new RatingsBuilder();
  const netflixBytes = plan.ratings.reduce((sum, r, k) => (r.format === "netflix" ? sum + ratingSources[k]!.bytes : sum), 0);
  builder.reserve(netflixRowEstimate(netflixBytes));
  let scale: Scale | null = null;
  for (const { path, format } of plan.ratings) {
    if (format === "netflix") {
      await readNetflixRatings(path, builder, { onBytes });
      scale = widen(scale, NETFLIX_SCALE);
    } else if (format === "generic") {
      const { range } = await readCsvRatings(path, builder, opts.csv, { onBytes });
      scale = widen(scale, range);
    } else {
      scale = widen(scale, (await readMovieLensRatings(path, format, builder, { onBytes })).scale);
    }
  }
  if (plan.source === "csv") scale = csvScale(scale!, opts.csv?.scale);
  return { table: builder.finish(), scale: scale! };
}

/** Reads every file of a plan, in memory, into what makes one Dataset. */
async function readPlan(plan: Plan, opts: LoadOptions): Promise<DatasetInput> {
  const files = [...plan.ratings.map((r) => r.path), ...plan.titles];
  const sources: SourceFile[] = files.map((path) => ({ path, bytes: statSync(path).size }));
  const total = sources.reduce((s, f) => s + f.bytes, 0);
  let done = 0;
  const onBytes = (bytes: number): void => {
    done += bytes;
    opts.onProgress?.(done, total);
  };
  const { table, scale } = await readRatingFiles(plan, sources.slice(0, plan.ratings.length), opts, onBytes);
  let titles: (string | null)[] | null = null;
  let years: Int32Array | null = null;
  for (const path of plan.titles) {
    const list: MovieTitles = plan.source === "netflix" ? await readNetflixTitles(path) : await readMovieLensTitles(path)!;
    const aligned = alignTitles(table.movies, list);
    if (titles === null || years === null) {
      titles = aligned.titles;
      years = aligned.years;
    } else {
      for (let i = 0; i < titles.length; i++) {
        if (aligned.titles[i] !== null) {
          titles[i] = aligned.titles[i]!;
          years[i] = aligned.years[i]!;
        }
      }
    }
    onBytes(sources.find((s) => s.path === path)!.bytes);
  }
  const generator = plan.source === "netflix" ? generatorRecord(plan.ratings[0]!.path) : undefined;
  return {
    ratings: table.ratings,
    users: table.users,
    movies: table.movies,
    titles,
    years,
    source: plan.source,
    sources,
    ratingScale: scale,
    ...(generator ? { generator } : {}),
  };
}

/**
 * The record `movierec generate --text` leaves beside its Netflix-format files (generator.json),
 * kept in meta.generator so the planted model's noise floor stays computable after ingest.
 */
function generatorRecord(ratingsFile: string): Record<string, unknown> | undefined {
  for (const dir of [dirname(ratingsFile), dirname(dirname(ratingsFile))]) {
    const path = join(dir, "generator.json");
    if (!existsSync(path)) continue;
    try {
      return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    } catch (err) {
      throw new DataError(`${path}: not valid JSON (${(err as Error).message})`, "remove it or regenerate the data");
    }
  }
  return undefined;
}

/**
 * Reads the rating files of one source (files and folders) and writes them as a dataset folder
 * at `out`. Netflix: a folder with training_set/ or combined_data_*.txt (and movie_titles.*), or
 * those files. MovieLens: a folder with u.data + u.item, ratings.dat (+ movies.dat) or ratings.csv
 * + movies.csv, or those files. CSV: files with a header, mapped by `opts.csv`.
 */
export async function ingest(kind: IngestKind, paths: string[], out: string, opts: IngestOptions = {}): Promise<Dataset> {
  if (paths.length === 0) throw new DataError("no input files given", FORMATS_HINT);
  checkOutDir(out, opts.force ?? false);
  let plan: Plan;
  if (kind === "netflix") plan = planNetflix(paths);
  else if (kind === "movielens") plan = planMovieLens(paths);
  else if (kind === "csv") plan = planCsv(paths);
  else throw new DataError(`unknown source kind "${String(kind)}"`, "use netflix, movielens or csv");
  return writeNewDataset(out, await readPlan(plan, opts), { force: opts.force ?? false });
}

/**
 * Reads ratings from a dataset folder, a ratings file or a data set folder, recognizing the
 * format by itself (see FORMATS_HINT), without writing anything. Titles come along when a
 * folder holds a titles file.
 */
export async function loadRatings(path: string, opts: LoadOptions = {}): Promise<Dataset> {
  if (isDatasetDir(path)) return readDataset(path);
  return makeDataset(await readPlan(detect(path, opts.csv), opts));
}
