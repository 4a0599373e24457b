/**
 * Data out: a dataset as one Parquet file that pandas, DuckDB, Polars and Spark read directly.
 *
 *   user_id   Int32 | Utf8   the raw user id (as in the source files), not the dense index
 *   movie_id  Int32 | Utf8   the raw movie id
 *   rating    Float32
 *   date      Date32         the rating's day; left out when the dataset has no dates
 *
 * File metadata (key/value) carries the dataset's source, rating scale and content hash.
 *
 * Memory stays bounded whatever the size: ratings go to parquet-wasm's streaming writer
 * (transformParquetStream) one row group at a time (2^20 rows by default), each built as an Arrow
 * record batch of raw ids, handed to the WASM side through Arrow IPC and freed once written.
 * The WASM heap holds about one row group's columns and its encoded pages (≈ 60 MB at the
 * default), and the JavaScript side one batch (≈ 16 MB with integer ids); on 60M rows the
 * process stayed near 250 MB resident. The file is written to a temporary sibling and renamed.
 */
import { createWriteStream, existsSync, promises as fsp, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Writable } from "node:stream";
import { DateDay, Float32, Int32, makeData, RecordBatch, Table, tableToIPC, Utf8, vectorFromArray, type Data } from "apache-arrow";
import * as parquet from "parquet-wasm";
import { DataError, type Dataset, type RawIds } from "./types.js";

export type ParquetCompression = "snappy" | "zstd" | "gzip" | "none";

export interface ParquetExportOptions {
  /** Codec for every column (default snappy: the one every Parquet reader has). */
  compression?: ParquetCompression;
  /** Rows per row group (default 2^20). */
  rowGroupRows?: number;
  /** Replace an existing file. */
  force?: boolean;
  /** Called after each row group: rows written so far, total rows. */
  onProgress?: (done: number, total: number) => void;
}

export interface ParquetExportResult {
  rows: number;
  rowGroups: number;
  bytes: number;
  columns: string[];
}

export const PARQUET_DEFAULTS = { compression: "snappy", rowGroupRows: 1 << 20 } as const;

const CODECS: Record<ParquetCompression, parquet.Compression> = {
  snappy: parquet.Compression.SNAPPY,
  zstd: parquet.Compression.ZSTD,
  gzip: parquet.Compression.GZIP,
  none: parquet.Compression.UNCOMPRESSED,
};

/** Writes the ratings of `ds` to a Parquet file at `path` (atomically: temporary file + rename). */
export async function exportParquet(ds: Dataset, path: string, opts: ParquetExportOptions = {}): Promise<ParquetExportResult> {
  const compression = opts.compression ?? PARQUET_DEFAULTS.compression;
  if (!(compression in CODECS)) throw new DataError(`unknown compression "${compression}"`, `use one of ${Object.keys(CODECS).join(", ")}`);
  const groupRows = opts.rowGroupRows ?? PARQUET_DEFAULTS.rowGroupRows;
  if (!Number.isInteger(groupRows) || groupRows < 1) throw new DataError(`row group size ${groupRows} is not a positive integer`);
  const n = ds.ratings.user.length;
  const withDates = ds.meta.dayRange !== null;
  const meta = new Map<string, string>([
    ["movierec.source", ds.meta.source],
    ["movierec.contentHash", ds.meta.contentHash],
    ["movierec.ratingScale", JSON.stringify(ds.meta.ratingScale)],
    ["movierec.columns", "user_id, movie_id: raw ids from the source; rating; date: day of the rating (UTC)"],
  ]);
  const props = new parquet.WriterPropertiesBuilder()
    .setCompression(CODECS[compression])
    .setMaxRowGroupSize(groupRows)
    .setCreatedBy("movierec")
    .setKeyValueMetadata(meta)
    .build();

  let start = 0;
  let sentSchema = false;
  const batches = new ReadableStream<parquet.RecordBatch>({
    async pull(controller) {
      // Yield to the event loop so the file stream can drain between row groups.
      await new Promise<void>((resolve) => setImmediate(resolve));
      // An empty dataset still sends one empty batch: the file needs its schema.
      if (start >= n && sentSchema) return controller.close();
      const end = Math.min(n, start + groupRows);
      const wasmTable = parquet.Table.fromIPCStream(tableToIPC(new Table([ratingBatch(ds, start, end, withDates)]), "stream"));
      for (const b of wasmTable.recordBatches()) controller.enqueue(b);
      wasmTable.free();
      start = end;
      sentSchema = true;
      opts.onProgress?.(end, n);
    },
  });
  await writeFileAtomic(path, { force: opts.force ?? false }, async (tmp) => {
    const bytes = await parquet.transformParquetStream(batches, props);
    await bytes.pipeTo(Writable.toWeb(createWriteStream(tmp)) as WritableStream<Uint8Array>);
  });
  return {
    rows: n,
    rowGroups: Math.ceil(n / groupRows),
    bytes: statSync(path).size,
    columns: ["user_id", "movie_id", "rating", ...(withDates ? ["date"] : [])],
  };
}

/** Rows start..end-1 as an Arrow record batch of raw ids, rating and (optionally) Date32 day. */
export function ratingBatch(ds: Dataset, start: number, end: number, withDates: boolean): RecordBatch {
  const r = ds.ratings;
  const children: Record<string, Data> = {
    user_id: rawIdColumn(ds.users, r.user.subarray(start, end)),
    movie_id: rawIdColumn(ds.movies, r.movie.subarray(start, end)),
    rating: makeData({ type: new Float32(), data: r.rating.subarray(start, end) }),
  };
  if (withDates) children.date = makeData({ type: new DateDay(), data: r.day.subarray(start, end) });
  return new RecordBatch(children);
}

/** Raw ids of a run of dense indices: gathered into Int32, or built as a Utf8 column for string ids. */
function rawIdColumn(ids: RawIds, dense: Int32Array): Data {
  if (ids instanceof Int32Array) {
    const out = new Int32Array(dense.length);
    for (let k = 0; k < dense.length; k++) out[k] = ids[dense[k]!]!;
    return makeData({ type: new Int32(), data: out });
  }
  return vectorFromArray(Array.from(dense, (i) => ids[i]!), new Utf8()).data[0]!;
}

/**
 * Runs `fill(tmp)` on a temporary sibling of the file `path`, then renames it to `path`; on any
 * error the temporary file is removed and `path` left as it was. An existing `path` is refused
 * unless `force`; a folder at `path` always is.
 */
export async function writeFileAtomic(path: string, opts: { force: boolean }, fill: (tmp: string) => Promise<void>): Promise<void> {
  if (existsSync(path)) {
    if (statSync(path).isDirectory()) throw new DataError(`${path} is a folder`, "give a file name");
    if (!opts.force) throw new DataError(`${path} already exists`, "choose another name, or pass --force to replace it");
  }
  await fsp.mkdir(dirname(path) || ".", { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    await fill(tmp);
    await fsp.rename(tmp, path);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}
