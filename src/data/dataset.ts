/**
 * Dataset folders: the Arrow IPC files every command after `ingest` reads.
 *
 *   ratings.arrow  user Int32 (dense), movie Int32 (dense), rating Float32, day Int32 (days since 1970-01-01)
 *   users.arrow    index Int32, id Int32 | Utf8            (dense index → raw id)
 *   movies.arrow   index Int32, id Int32 | Utf8, title Utf8?, year Int32?
 *   meta.json      counts, rating scale, day range, source files and sizes, content hash
 *
 * Folders are written into a temporary sibling and renamed into place at the end, so a failure
 * (or Ctrl-C) never leaves a half-written dataset where a reader would find it.
 */
import { createHash } from "node:crypto";
import { existsSync, promises as fsp, readdirSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import {
  Float32,
  Int32,
  makeData,
  RecordBatch,
  RecordBatchFileWriter,
  Table,
  tableFromIPC,
  Utf8,
  vectorFromArray,
  type Vector,
} from "apache-arrow";
import { DataError, type Dataset, type DatasetMeta, type Ratings, type RawIds, type SourceFile } from "./types.js";

const BATCH_ROWS = 1 << 20;

export interface DatasetInput {
  ratings: Ratings;
  users: RawIds;
  movies: RawIds;
  titles?: (string | null)[] | null;
  years?: Int32Array | null;
  source: string;
  sources: SourceFile[];
  ratingScale: { min: number; max: number };
  generator?: Record<string, unknown>;
  split?: Record<string, unknown>;
}

/** Builds a Dataset, filling meta: counts, day range and the content hash. Checks column lengths and index ranges. */
export function makeDataset(input: DatasetInput): Dataset {
  const { ratings, users, movies } = input;
  const n = ratings.user.length;
  if (ratings.movie.length !== n || ratings.rating.length !== n || ratings.day.length !== n) {
    throw new DataError(
      `ratings columns differ in length (user ${n}, movie ${ratings.movie.length}, rating ${ratings.rating.length}, day ${ratings.day.length})`,
    );
  }
  if (input.titles && input.titles.length !== movies.length) {
    throw new DataError(`titles has ${input.titles.length} entries for ${movies.length} movies`);
  }
  if (input.years && input.years.length !== movies.length) {
    throw new DataError(`years has ${input.years.length} entries for ${movies.length} movies`);
  }
  let dayMin = Infinity;
  let dayMax = -Infinity;
  const nU = users.length;
  const nM = movies.length;
  for (let r = 0; r < n; r++) {
    const u = ratings.user[r]!;
    const i = ratings.movie[r]!;
    if (u < 0 || u >= nU || i < 0 || i >= nM) {
      throw new DataError(`rating ${r} refers to user ${u} / movie ${i}, outside ${nU} users / ${nM} movies`);
    }
    const d = ratings.day[r]!;
    if (d < dayMin) dayMin = d;
    if (d > dayMax) dayMax = d;
  }
  const hasDays = n > 0 && !(dayMin === 0 && dayMax === 0);
  const meta: DatasetMeta = {
    format: "movierec-dataset",
    version: 1,
    nRatings: n,
    nUsers: nU,
    nMovies: nM,
    ratingScale: { ...input.ratingScale },
    dayRange: hasDays ? { min: dayMin, max: dayMax } : null,
    source: input.source,
    sources: input.sources.map((s) => ({ ...s })),
    contentHash: contentHash(ratings, users, movies),
    createdAt: new Date().toISOString(),
  };
  if (input.generator) meta.generator = input.generator;
  if (input.split) meta.split = input.split;
  return {
    ratings,
    users,
    movies,
    titles: input.titles ?? null,
    years: input.years ?? null,
    meta,
  };
}

/** sha256 over the four ratings columns and both id tables: same data, same hash, whatever the file layout. */
export function contentHash(ratings: Ratings, users: RawIds, movies: RawIds): string {
  const h = createHash("sha256");
  for (const col of [ratings.user, ratings.movie, ratings.rating, ratings.day]) {
    h.update(new Uint8Array(col.buffer, col.byteOffset, col.byteLength));
  }
  for (const ids of [users, movies]) {
    if (ids instanceof Int32Array) {
      h.update("i32:");
      h.update(new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength));
    } else {
      h.update("str:");
      for (const s of ids) h.update(s + "\u0000");
    }
  }
  return h.digest("hex");
}

/** True when `path` is a dataset folder (has meta.json and ratings.arrow). */
export function isDatasetDir(path: string): boolean {
  try {
    return statSync(path).isDirectory() && existsSync(join(path, "meta.json")) && existsSync(join(path, "ratings.arrow"));
  } catch {
    return false;
  }
}

/**
 * Refuses an output path that is a file, or a non-empty folder unless `force`. Commands call it
 * before reading gigabytes of input, and writeAtomicDir again before renaming.
 */
export function checkOutDir(out: string, force: boolean): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new DataError(`${out} exists and is not a folder`, "choose another --out path");
  if (!force && readdirSync(out).length > 0) {
    throw new DataError(`${out} already exists and is not empty`, "choose another --out path, or pass --force to replace it");
  }
}

/**
 * Runs `fill(tmp)` on a fresh temporary sibling of `out`, then renames it to `out`.
 * On any error the temporary folder is removed and `out` is left as it was.
 * An existing non-empty `out` is refused unless `force`, in which case it is replaced.
 */
export async function writeAtomicDir<T>(out: string, opts: { force?: boolean }, fill: (tmp: string) => Promise<T>): Promise<T> {
  checkOutDir(out, opts.force ?? false);
  await fsp.mkdir(dirname(out) || ".", { recursive: true });
  const tmp = join(dirname(out), `.${basename(out)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  await fsp.mkdir(tmp);
  const cleanup = () => fsp.rm(tmp, { recursive: true, force: true });
  const onSignal = () => {
    void cleanup();
  };
  process.once("exit", onSignal);
  try {
    const result = await fill(tmp);
    if (existsSync(out)) {
      const old = `${tmp}.old`;
      await fsp.rename(out, old);
      await fsp.rename(tmp, out);
      await fsp.rm(old, { recursive: true, force: true });
    } else {
      await fsp.rename(tmp, out);
    }
    return result;
  } catch (err) {
    await cleanup();
    throw err;
  } finally {
    process.removeListener("exit", onSignal);
  }
}

/** Writes `ds` as a dataset folder at `dir` (atomically; see writeAtomicDir). */
export async function writeDataset(dir: string, ds: Dataset, opts: { force?: boolean } = {}): Promise<void> {
  await writeAtomicDir(dir, opts, (tmp) => writeDatasetFiles(tmp, ds));
}

/**
 * makeDataset and writeDataset in one step, for a dataset read from source files: the ratings file
 * (nearly all the bytes) is handed to the kernel first, so that its copy into the file, on a libuv
 * thread, runs while this thread checks the columns and computes the content hash.
 */
export async function writeNewDataset(dir: string, input: DatasetInput, opts: { force?: boolean } = {}): Promise<Dataset> {
  return writeAtomicDir(dir, opts, async (tmp) => {
    const { written } = await startIpc(join(tmp, "ratings.arrow"), ratingsTable(input.ratings));
    let ds: Dataset;
    try {
      ds = makeDataset(input);
    } catch (err) {
      await written.catch(() => undefined);
      throw err;
    }
    await written;
    await writeSideFiles(tmp, ds);
    return ds;
  });
}

/** Writes the dataset files into an existing folder (no atomicity; callers use writeAtomicDir). */
export async function writeDatasetFiles(dir: string, ds: Dataset): Promise<void> {
  await (await startIpc(join(dir, "ratings.arrow"), ratingsTable(ds.ratings))).written;
  await writeSideFiles(dir, ds);
}

/** Everything but ratings.arrow: users.arrow, movies.arrow and meta.json. */
async function writeSideFiles(dir: string, ds: Dataset): Promise<void> {
  await writeIpc(join(dir, "users.arrow"), idTable(ds.users));
  const movies = idTable(ds.movies);
  const cols: Record<string, Vector> = { index: movies.getChild("index")!, id: movies.getChild("id")! };
  if (ds.titles) cols.title = vectorFromArray(ds.titles, new Utf8());
  if (ds.years) cols.year = vectorFromArray(Array.from(ds.years, (y) => (y === 0 ? null : y)), new Int32());
  await writeIpc(join(dir, "movies.arrow"), new Table(cols));
  await fsp.writeFile(join(dir, "meta.json"), JSON.stringify(ds.meta, null, 2) + "\n");
}

/** The ratings as a table of record batches of BATCH_ROWS rows over the columns' memory. */
function ratingsTable(r: Ratings): Table {
  const n = r.user.length;
  const batch = (s: number, e: number) =>
    new RecordBatch({
      user: makeData({ type: new Int32(), data: r.user.subarray(s, e) }),
      movie: makeData({ type: new Int32(), data: r.movie.subarray(s, e) }),
      rating: makeData({ type: new Float32(), data: r.rating.subarray(s, e) }),
      day: makeData({ type: new Int32(), data: r.day.subarray(s, e) }),
    });
  const batches = [batch(0, Math.min(n, BATCH_ROWS))];
  for (let s = BATCH_ROWS; s < n; s += BATCH_ROWS) batches.push(batch(s, Math.min(n, s + BATCH_ROWS)));
  return new Table(batches);
}

async function writeIpc(path: string, t: Table): Promise<void> {
  await (await startIpc(path, t)).written;
}

/**
 * Starts writing a table as an Arrow IPC file. The writer's output is a list of views (message
 * headers, padding, and the columns' own memory), written with one writev: no copy of the data in
 * JavaScript, and the kernel's copy runs on a libuv thread. Resolves once that write is under
 * way, with `written`, which settles when the file is complete and closed.
 */
async function startIpc(path: string, t: Table): Promise<{ written: Promise<void> }> {
  const writer = new RecordBatchFileWriter();
  writer.write(t);
  writer.finish();
  const chunks: Uint8Array[] = [];
  for await (const chunk of writer) chunks.push(chunk);
  const fh = await fsp.open(path, "w");
  const writeAll = async (): Promise<void> => {
    for (let rest = chunks; rest.length > 0; ) {
      const { bytesWritten } = await fh.writev(rest);
      if (bytesWritten === 0) throw new DataError(`${path}: the file system accepted no more bytes`, "check the free space");
      rest = afterBytes(rest, bytesWritten);
    }
  };
  return { written: writeAll().finally(() => fh.close()) };
}

/** The part of `chunks` after its first `bytes` bytes (what a short write left). */
function afterBytes(chunks: Uint8Array[], bytes: number): Uint8Array[] {
  let k = 0;
  while (k < chunks.length && bytes >= chunks[k]!.byteLength) bytes -= chunks[k++]!.byteLength;
  if (k === chunks.length) return [];
  return [chunks[k]!.subarray(bytes), ...chunks.slice(k + 1)];
}

function idTable(ids: RawIds): Table {
  const index = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) index[i] = i;
  const id = ids instanceof Int32Array ? vectorFromArray(ids) : vectorFromArray(ids, new Utf8());
  return new Table({ index: vectorFromArray(index), id });
}

/** Reads a whole file into one Buffer in chunks (fs.readFile refuses files over 2 GiB). */
async function readWhole(path: string): Promise<Buffer> {
  const fh = await fsp.open(path, "r");
  try {
    const size = (await fh.stat()).size;
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      const { bytesRead } = await fh.read(buf, off, Math.min(1 << 26, size - off), off);
      if (bytesRead === 0) throw new DataError(`${path}: file ended after ${off} of ${size} bytes while reading`);
      off += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}

async function readTable(path: string): Promise<Table> {
  if (!existsSync(path)) throw new DataError(`${path} is missing`, "is this a dataset folder written by `movierec ingest`?");
  const buf = await readWhole(path);
  try {
    return tableFromIPC(buf);
  } catch (err) {
    throw new DataError(`${path} is not a readable Arrow IPC file (${(err as Error).message})`, "re-create the dataset with `movierec ingest`");
  }
}

type TypedCtor<T> = { new (n: number): T };

/** Copies a column's chunks into one contiguous typed array (one chunk: a view, no copy). */
function column<T extends Int32Array | Float32Array>(t: Table, name: string, ctor: TypedCtor<T>, path: string): T {
  const v = t.getChild(name);
  if (!v) throw new DataError(`${path} has no column "${name}"`);
  if (v.nullCount !== 0) throw new DataError(`${path}: column "${name}" has ${v.nullCount} nulls`);
  const chunks = v.data;
  if (chunks.length === 1) {
    const d = chunks[0]!;
    return (d.values as T).subarray(0, d.length) as T;
  }
  const out = new ctor(v.length);
  let off = 0;
  for (const d of chunks) {
    out.set((d.values as T).subarray(0, d.length), off);
    off += d.length;
  }
  return out;
}

function readIds(t: Table, path: string): RawIds {
  const v = t.getChild("id");
  if (!v) throw new DataError(`${path} has no column "id"`);
  if (v.type.typeId === new Int32().typeId) return column(t, "id", Int32Array, path);
  const out: string[] = new Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = String(v.get(i));
  return out;
}

/** Reads a dataset folder written by writeDataset. */
export async function readDataset(dir: string): Promise<Dataset> {
  if (!isDatasetDir(dir)) {
    throw new DataError(`${dir} is not a dataset folder (no meta.json / ratings.arrow)`, "create one with `movierec ingest` or `movierec generate`");
  }
  let meta: DatasetMeta;
  try {
    meta = JSON.parse(await fsp.readFile(join(dir, "meta.json"), "utf8")) as DatasetMeta;
  } catch (err) {
    throw new DataError(`${join(dir, "meta.json")}: not valid JSON (${(err as Error).message})`);
  }
  if (meta.format !== "movierec-dataset" || meta.version !== 1) {
    throw new DataError(`${join(dir, "meta.json")}: unsupported dataset format ${meta.format} v${meta.version}`, "this movierec reads format movierec-dataset v1");
  }
  const rp = join(dir, "ratings.arrow");
  const rt = await readTable(rp);
  const ratings: Ratings = {
    user: column(rt, "user", Int32Array, rp),
    movie: column(rt, "movie", Int32Array, rp),
    rating: column(rt, "rating", Float32Array, rp),
    day: column(rt, "day", Int32Array, rp),
  };
  const up = join(dir, "users.arrow");
  const mp = join(dir, "movies.arrow");
  const users = readIds(await readTable(up), up);
  const mt = await readTable(mp);
  const movies = readIds(mt, mp);
  const tv = mt.getChild("title");
  const yv = mt.getChild("year");
  const titles = tv ? Array.from({ length: tv.length }, (_, i) => (tv.get(i) as string | null) ?? null) : null;
  const years = yv ? Int32Array.from({ length: yv.length }, (_, i) => (yv.get(i) as number | null) ?? 0) : null;
  if (ratings.user.length !== meta.nRatings || users.length !== meta.nUsers || movies.length !== meta.nMovies) {
    throw new DataError(
      `${dir}: meta.json says ${meta.nRatings} ratings / ${meta.nUsers} users / ${meta.nMovies} movies but the files hold ${ratings.user.length} / ${users.length} / ${movies.length}`,
      "the folder was modified after it was written; re-create it",
    );
  }
  return { ratings, users, movies, titles, years, meta };
}
