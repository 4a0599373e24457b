/**
 * Netflix rating files parsed on worker threads, for inputs of several files (combined_data_1..4.txt,
 * or the 17,770 files of training_set/).
 *
 * `readNetflixParallel` cuts the file list into chunks of whole files, in file order, and sizes one
 * set of shared rating columns from the files' sizes (netflixRowEstimate), a region per chunk.
 * Each worker parses a chunk's files with readNetflixRatings straight into its region, raw ids
 * and all, and reports the rows done as it goes. The calling thread merges rows in file order as
 * soon as they and every row before them are parsed, while the workers go on: it moves them down
 * against the rows before them and gives their raw ids dense indices with IdMapBuilder.addAll
 * (numbering by first appearance is sequential by nature, and one table lookup per rating costs
 * less than numbering each chunk apart and translating), so little is left to do when the last
 * worker ends. The result is the same, row for row and id for id, as reading the files one after
 * the other on one thread, and the ratings never exist twice in memory. A chunk that holds more
 * rows than its region (unusually short lines) continues in the worker's own arrays, which come
 * back by transfer; from there on, the merge waits for every chunk and copies the rows into new
 * columns.
 *
 * Errors are those of a sequential read: the first failing file in file order wins. Once a chunk
 * fails, later chunks are abandoned (their workers terminated) and earlier ones run to their end,
 * since one of them may fail first. A ParseError or DataError crosses the thread boundary as its
 * fields and is rebuilt with the same message.
 *
 * This module is also the workers' entry point: loaded by a worker started from here, it serves
 * parse tasks.
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { IdMapBuilder } from "./ids.js";
import { RatingsBuilder, trimColumns, type RatingsTable } from "./readers/builder.js";
import { netflixRowEstimate, readNetflixRatings } from "./readers/netflix.js";
import { DataError, ParseError, type Ratings, type SourceFile } from "./types.js";

/** Chunks per worker thread, so that a thread that finishes early takes more work. */
const CHUNKS_PER_THREAD = 4;
/** A worker reports progress when this many bytes were read since its last report. */
const PROGRESS_BYTES = 8 << 20;
const ROLE = "movierec-netflix-parse";

/** One worker task: these files, parsed into rows start..start+capacity of the shared columns. */
interface Chunk {
  chunk: number;
  files: string[];
  start: number;
  capacity: number;
  /** Read size (ScanOptions.chunkBytes), or undefined for the default. */
  readBytes: number | undefined;
}

/** A parsed chunk (raw ids). */
interface Parsed {
  type: "done";
  chunk: number;
  rows: number;
  /** Bytes read since the last progress report. */
  bytes: number;
  /** The worker's own columns when the chunk outgrew its region, else null (the rows are in the region). */
  moved: Ratings | null;
}

/** Progress within a chunk: bytes read since the last report, and the rows now complete in its region (-1 once it outgrew it). */
interface Progress {
  type: "progress";
  chunk: number;
  bytes: number;
  rows: number;
}

/** A failed chunk: the error as plain fields. */
interface Failed {
  type: "failed";
  chunk: number;
  error: { kind: "parse" | "data" | "other"; message: string; file?: string; line?: number; hint?: string; stack?: string };
}

type Reply = Parsed | Failed | Progress;

/** Options of readNetflixParallel. */
export interface ParallelOptions {
  /** Worker threads to start (at most one per chunk). */
  threads: number;
  /** Called as input bytes are read, with the bytes just read. */
  onBytes?: (bytes: number) => void;
  /** Read size per file (ScanOptions.chunkBytes); workers then also report rows after every read. Tests use tiny ones. */
  chunkBytes?: number;
}

/**
 * Reads Netflix rating files (in the given order) on `threads` worker threads; the result is
 * identical to reading them one after the other with readNetflixRatings into one RatingsBuilder.
 */
export async function readNetflixParallel(files: SourceFile[], opts: ParallelOptions): Promise<RatingsTable> {
  const chunks = planChunks(files, opts.threads, opts.chunkBytes);
  const capacity = chunks.reduce((sum, c) => sum + c.capacity, 0);
  const shared: Ratings = {
    user: new Int32Array(new SharedArrayBuffer(capacity * 4)),
    movie: new Int32Array(new SharedArrayBuffer(capacity * 4)),
    rating: new Float32Array(new SharedArrayBuffer(capacity * 4)),
    day: new Int32Array(new SharedArrayBuffer(capacity * 4)),
  };
  const merger = new Merger(chunks, shared);
  await runChunks(chunks, shared, Math.min(opts.threads, chunks.length), opts.onBytes, merger);
  return merger.finish();
}

/** Cuts `files` into runs of whole files of about total / (threads × CHUNKS_PER_THREAD) bytes, each with its region. */
function planChunks(files: SourceFile[], threads: number, readBytes: number | undefined): Chunk[] {
  const total = files.reduce((sum, f) => sum + f.bytes, 0);
  const target = total / (threads * CHUNKS_PER_THREAD);
  const chunks: Chunk[] = [];
  let current: Chunk | null = null;
  let bytes = 0;
  let start = 0;
  for (const f of files) {
    if (current === null) {
      current = { chunk: chunks.length, files: [], start, capacity: 0, readBytes };
      chunks.push(current);
      bytes = 0;
    }
    current.files.push(f.path);
    // The same estimate readNetflixRatings reserves per file, so a chunk never outgrows its region early.
    current.capacity += netflixRowEstimate(f.bytes);
    start += netflixRowEstimate(f.bytes);
    bytes += f.bytes;
    if (bytes >= target) current = null;
  }
  return chunks;
}

/**
 * Runs the chunks on `threads` workers, handing out chunks in file order as workers free up, and
 * passes progress and parsed chunks to `merger`. Resolves when every chunk is parsed, or rejects
 * with the error of the first failing chunk.
 */
function runChunks(chunks: Chunk[], shared: Ratings, threads: number, onBytes: ((bytes: number) => void) | undefined, merger: Merger): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const running = new Map<Worker, number>();
    const workers: Worker[] = [];
    let next = 0;
    let done = 0;
    /** Index of the first failed chunk (chunks.length while none failed), and its error. */
    let failedAt = chunks.length;
    let failure: Error | null = null;
    let settled = false;

    const stop = (w: Worker): void => {
      running.delete(w);
      void w.terminate();
    };
    const settle = (): void => {
      if (settled) return;
      const busy = [...running.values()].some((k) => k < failedAt);
      if (busy || (failure === null && done < chunks.length)) return;
      settled = true;
      workers.forEach(stop);
      if (failure !== null) reject(failure);
      else resolve();
    };
    const dispatch = (w: Worker): void => {
      running.delete(w);
      if (next < failedAt) {
        running.set(w, next);
        w.postMessage(chunks[next++]!);
      }
    };
    const fail = (k: number, error: Error): void => {
      if (k >= failedAt) return;
      failedAt = k;
      failure = error;
      for (const [w, c] of running) if (c > k) stop(w);
    };

    const start = (): Worker => {
      const w = new Worker(new URL(import.meta.url), { workerData: { role: ROLE, shared } });
      workers.push(w);
      w.on("message", (reply: Reply) => {
        if (reply.type === "failed") {
          fail(reply.chunk, rebuildError(reply.error));
          dispatch(w);
          settle();
          return;
        }
        if (reply.type === "done") {
          // The next chunk first, so the worker does not wait for the merge below.
          dispatch(w);
          done++;
        }
        if (reply.bytes > 0) onBytes?.(reply.bytes);
        if (failure === null) {
          try {
            if (reply.type === "done") merger.parsed(reply);
            else merger.progress(reply.chunk, reply.rows);
          } catch (err) {
            fail(reply.chunk, err instanceof Error ? err : new Error(String(err)));
          }
        }
        if (reply.type === "done") settle();
      });
      // Uncaught errors and unexpected exits (out of memory, a crash) fail the chunk the worker held.
      w.on("error", (err) => {
        const k = running.get(w);
        running.delete(w);
        if (k !== undefined) fail(k, err);
        settle();
      });
      w.on("exit", (code) => {
        const k = running.get(w);
        if (k === undefined) return;
        running.delete(w);
        fail(k, new Error(`a parse worker stopped (exit code ${code}) while reading ${chunks[k]!.files[0]}`));
        settle();
      });
      return w;
    };

    try {
      for (let t = 0; t < threads; t++) dispatch(start());
    } catch (err) {
      // A thread that cannot start (out of resources): end the ones that did.
      settled = true;
      workers.forEach(stop);
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

/**
 * Joins parsed rows in file order into one table with dense ids. Rows move down inside the shared
 * columns: a chunk's rows go after the rows of the chunks before it, never after their place in
 * the chunk's region, and only rows the worker has finished are touched, so a worker still
 * filling its region is never in the way. (Should that worker then outgrow its region, it copies
 * the region into its own arrays while rows are moving; the rows it copies that may have been
 * overwritten are the merged ones, which are never read again.) From a chunk that comes back in
 * the worker's own arrays on, `finish` copies the rows into new columns.
 */
class Merger {
  private readonly users = new IdMapBuilder();
  private readonly movies = new IdMapBuilder();
  /** Parsed chunks not merged yet. */
  private readonly waiting: (Parsed | undefined)[];
  /** Rows complete in each chunk's region, as last reported. */
  private readonly ready: number[];
  /** The chunk being merged, and how many of its rows are merged. */
  private next = 0;
  private partial = 0;
  /** Rows merged in all. */
  private at = 0;

  constructor(
    private readonly chunks: Chunk[],
    private readonly shared: Ratings,
  ) {
    this.waiting = new Array<Parsed | undefined>(chunks.length);
    this.ready = new Array<number>(chunks.length).fill(0);
  }

  /** A worker reports `rows` rows of `chunk` complete in its region (-1: it outgrew it). */
  progress(chunk: number, rows: number): void {
    if (rows > this.ready[chunk]!) this.ready[chunk] = rows;
    this.advance();
  }

  /** A chunk is parsed. */
  parsed(p: Parsed): void {
    this.waiting[p.chunk] = p;
    if (p.moved === null) this.ready[p.chunk] = p.rows;
    this.advance();
  }

  /** Merges, in place, every row whose predecessors are all merged. */
  private advance(): void {
    while (this.next < this.chunks.length) {
      const k = this.next;
      const p = this.waiting[k];
      if (p?.moved) return;
      const ready = this.ready[k]!;
      if (ready > this.partial) this.mergeRows(this.shared, ready);
      if (p === undefined) return;
      this.next++;
      this.partial = 0;
      this.waiting[k] = undefined;
    }
  }

  /** Merges the rest (every chunk is parsed by now) and returns the table. */
  finish(): RatingsTable {
    if (this.next === this.chunks.length) return this.table(this.shared);
    let total = this.at - this.partial;
    for (let k = this.next; k < this.chunks.length; k++) total += this.waiting[k]!.rows;
    const out: Ratings = { user: new Int32Array(total), movie: new Int32Array(total), rating: new Float32Array(total), day: new Int32Array(total) };
    for (const key of ["user", "movie", "rating", "day"] as const) out[key].set(this.shared[key].subarray(0, this.at));
    for (; this.next < this.chunks.length; this.next++, this.partial = 0) this.mergeRows(out, this.waiting[this.next]!.rows);
    return this.table(out);
  }

  /** Moves rows `partial..end` of the current chunk to `out` after the rows merged so far, and gives their ids dense indices. */
  private mergeRows(out: Ratings, end: number): void {
    const moved = this.waiting[this.next]?.moved ?? null;
    const start = this.chunks[this.next]!.start;
    const from = this.partial;
    const at = this.at;
    const n = end - from;
    for (const key of ["user", "movie", "rating", "day"] as const) {
      const to = out[key];
      if (moved !== null) to.set(moved[key].subarray(from, end), at);
      else if (to.buffer !== this.shared[key].buffer) to.set(this.shared[key].subarray(start + from, start + end), at);
      else if (at !== start + from) to.copyWithin(at, start + from, start + end);
    }
    this.users.addAll(out.user, at, at + n);
    this.movies.addAll(out.movie, at, at + n);
    this.at = at + n;
    this.partial = end;
  }

  private table(out: Ratings): RatingsTable {
    return { ratings: trimColumns(out, this.at), users: this.users.finish(), movies: this.movies.finish() };
  }
}

/** The error a worker reported, as the same class with the same message. */
function rebuildError(e: Failed["error"]): Error {
  let error: Error;
  if (e.kind === "parse") {
    const prefix = `${e.file}:${e.line}: `;
    error = new ParseError(e.file!, e.line!, e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message, e.hint);
  } else if (e.kind === "data") {
    error = new DataError(e.message, e.hint);
  } else {
    error = new Error(e.message);
    if (e.stack !== undefined) error.stack = e.stack;
  }
  return error;
}

function describeError(err: unknown): Failed["error"] {
  if (err instanceof ParseError) return { kind: "parse", message: err.message, file: err.file, line: err.line, ...hintOf(err) };
  if (err instanceof DataError) return { kind: "data", message: err.message, ...hintOf(err) };
  const e = err instanceof Error ? err : new Error(String(err));
  return { kind: "other", message: e.message, ...(e.stack !== undefined ? { stack: e.stack } : {}) };
}

function hintOf(err: DataError): { hint?: string } {
  return err.hint !== undefined ? { hint: err.hint } : {};
}

/** Worker side: parses one chunk into its region of the shared columns. */
async function parseChunk(task: Chunk, shared: Ratings, report: (p: Progress) => void): Promise<Parsed> {
  const end = task.start + task.capacity;
  const into = new RatingsBuilder({
    user: shared.user.subarray(task.start, end),
    movie: shared.movie.subarray(task.start, end),
    rating: shared.rating.subarray(task.start, end),
    day: shared.day.subarray(task.start, end),
  });
  let pending = 0;
  const onBytes = (bytes: number): void => {
    pending += bytes;
    if (pending >= Math.min(PROGRESS_BYTES, task.readBytes ?? PROGRESS_BYTES)) {
      // Rows are complete up to the builder's length: scanBytes hands the parser whole lines.
      report({ type: "progress", chunk: task.chunk, bytes: pending, rows: into.user.buffer === shared.user.buffer ? into.length : -1 });
      pending = 0;
    }
  };
  for (const file of task.files) await readNetflixRatings(file, into, task.readBytes === undefined ? { onBytes } : { onBytes, chunkBytes: task.readBytes });
  const n = into.length;
  const moved = into.user.buffer === shared.user.buffer ? null : trimColumns(into, n);
  return { type: "done", chunk: task.chunk, rows: n, bytes: pending, moved };
}

function serve(): void {
  const port = parentPort!;
  const shared = (workerData as { shared: Ratings }).shared;
  port.on("message", (task: Chunk) => {
    parseChunk(task, shared, (p) => port.postMessage(p)).then(
      (reply) => {
        const transfer = reply.moved ? Object.values(reply.moved).map((c: Int32Array | Float32Array) => c.buffer as ArrayBuffer) : [];
        port.postMessage(reply, transfer);
      },
      (err: unknown) => port.postMessage({ type: "failed", chunk: task.chunk, error: describeError(err) } satisfies Reply),
    );
  });
}

if (!isMainThread && (workerData as { role?: unknown } | null)?.role === ROLE) serve();
