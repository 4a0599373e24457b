/**
 * The Engine: one shared memory, its arena and this thread's instance of the kernel module,
 * with typed wrappers for every kernel. A wrapper validates its arguments in TypeScript (the
 * message says what was wrong and what is allowed), calls the kernel in chunks of at most
 * CHUNK_RATINGS ratings (so V8's optimized tier takes over from the baseline one early), checks
 * the status code (KernelError names it) and hands results back as copies.
 *
 * The main thread creates the engine (`Engine.create`), allocates regions, and sends
 * `engine.share()` to workers in workerData; each worker calls `Engine.attach` once, which
 * instantiates the same compiled module against the same memory. Regions travel in task
 * messages as plain `{ ptr, length, dtype }` objects. Each engine holds a small scratch slot in
 * the memory for kernel outputs; a worker that is done calls `close()` to give it back.
 *
 * Division of labour: TypeScript checks shapes, dtypes, bounds and parameters; the kernels
 * check the indices inside the data (STATUS_INDEX_OUT_OF_RANGE), which would cost a pass over
 * the ratings here.
 */
import * as status from "../../assembly/status.js";
import { Arena, BYTES_PER, dtypeOf, type Dtype, type Region, type TypedArrayOf } from "./arena.js";
import {
  AbiError, type Build, createMemory, formatBytes, instantiate, type KernelExports, loadModule, memoryPages, PAGE_BYTES,
} from "./wasm.js";

/** The longest run of ratings one kernel call processes. */
export const CHUNK_RATINGS = 1 << 20;

/** A status code other than STATUS_OK, returned by a kernel. */
export class KernelError extends AbiError {
  constructor(readonly kernel: string, readonly code: number, readonly codeName: string, detail: string) {
    super(`${kernel} failed with ${codeName} (${code}): ${detail}`);
    this.name = "KernelError";
  }
}

const STATUS_NAMES = new Map<number, string>(
  Object.entries(status)
    .filter(([name, value]) => name.startsWith("STATUS_") && typeof value === "number")
    .map(([name, value]) => [value as number, name]),
);

const STATUS_MEANING: Record<string, string> = {
  STATUS_BAD_POINTER: "a pointer was 0 or misaligned",
  STATUS_BAD_SIZE: "a count was negative or a stride not a multiple of 4",
  STATUS_INDEX_OUT_OF_RANGE: "a user or movie index in the data is outside 0..n-1",
  STATUS_BAD_PARAMETER: "a scalar parameter was out of range",
  STATUS_DIVERGED: "the result is not finite: lower the learning rates or raise the regularization",
};

/** Ratings as three equal-length regions (dense indices). */
export interface Coo {
  user: Region<"i32">;
  movie: Region<"i32">;
  rating: Region<"f32">;
}

/**
 * A biased factor model in the arena: P (nUsers × stride) and Q (nMovies × stride) row-major
 * f32, biases bu (nUsers) and bi (nMovies). stride is a multiple of 4 (0: biases only).
 */
export interface FactorModel {
  nUsers: number;
  nMovies: number;
  stride: number;
  P: Region<"f32">;
  Q: Region<"f32">;
  bu: Region<"f32">;
  bi: Region<"f32">;
}

/** SGD hyperparameters for one epoch (see assembly/sgd.ts for the update equations). */
export interface SgdParams {
  mu: number;
  lrBu: number;
  lrBi: number;
  lrP: number;
  lrQ: number;
  regBu: number;
  regBi: number;
  regP: number;
  regQ: number;
}

/** The global mean and the rating scale predictions are clipped to. */
export interface PredictParams {
  mu: number;
  lo: number;
  hi: number;
}

export interface PathOptions {
  /** Use the v128 SIMD path (default) or its scalar twin; both give bit-identical results. */
  simd?: boolean;
}

export interface RangeOptions extends PathOptions {
  /** First rating to process (default 0). */
  start?: number;
  /** One past the last rating to process (default: all). */
  end?: number;
}

/** What a worker needs to attach to the engine (send it in workerData, never in a transferList). */
export interface SharedEngine {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  maximumBytes: number;
  base: number;
  scratchPtr: number;
}

export interface EngineOptions {
  /** Initial memory size in bytes (default 1 MiB). */
  bytes?: number;
  /** The most the memory may grow to (default: `bytes`; at most 4 GiB). */
  maximumBytes?: number;
  build?: Build;
}

// Per-engine scratch for kernel outputs such as the sse: a table of claim flags (one i32 per
// slot) followed by one 64-byte slot per engine, so threads never share a cache line.
const SLOT_BYTES = 64;
const MAX_ENGINES = 255;
const FLAGS_BYTES = 1024;
const SCRATCH_BYTES = FLAGS_BYTES + SLOT_BYTES * MAX_ENGINES;

export class Engine {
  private readonly slotIndex: number;
  private readonly slot: number;
  private closed = false;

  private constructor(
    readonly module: WebAssembly.Module,
    readonly memory: WebAssembly.Memory,
    readonly exports: KernelExports,
    readonly arena: Arena,
    private readonly scratchPtr: number,
  ) {
    const flags = new Int32Array(memory.buffer, scratchPtr, MAX_ENGINES);
    let index = 0;
    while (index < MAX_ENGINES && Atomics.compareExchange(flags, index, 0, 1) !== 0) index++;
    if (index === MAX_ENGINES) {
      throw new AbiError(`at most ${MAX_ENGINES} engines (threads) can share one memory at a time`,
        "close() the engines of workers that have finished");
    }
    this.slotIndex = index;
    this.slot = scratchPtr + FLAGS_BYTES + SLOT_BYTES * index;
  }

  /** Compiles (once) and instantiates the module over a new shared memory, in this thread. */
  static async create(options: EngineOptions = {}): Promise<Engine> {
    const bytes = options.bytes ?? 1 << 20;
    const maximumBytes = options.maximumBytes ?? bytes;
    const pages = memoryPages(bytes, maximumBytes);
    const module = await loadModule(options.build);
    const memory = createMemory(bytes, maximumBytes);
    const exports = instantiate(module, memory);
    const arena = new Arena(memory, exports.heapBase() >>> 0, pages.maximum * PAGE_BYTES, true);
    const scratchPtr = arena.alloc(SCRATCH_BYTES);
    arena.u8(scratchPtr, SCRATCH_BYTES).fill(0);
    return new Engine(module, memory, exports, arena, scratchPtr);
  }

  /** Instantiates the shared module against the shared memory in this (worker) thread. */
  static attach(shared: SharedEngine): Engine {
    const exports = instantiate(shared.module, shared.memory);
    const arena = new Arena(shared.memory, shared.base, shared.maximumBytes, false);
    return new Engine(shared.module, shared.memory, exports, arena, shared.scratchPtr);
  }

  /** The handles a worker needs to attach: the compiled module and the memory travel by handle. */
  share(): SharedEngine {
    return {
      module: this.module,
      memory: this.memory,
      maximumBytes: this.arena.maximumBytes,
      base: this.arena.base,
      scratchPtr: this.scratchPtr,
    };
  }

  /** Gives this engine's scratch slot back (a worker that is done); the engine is unusable afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(new Int32Array(this.memory.buffer, this.scratchPtr, MAX_ENGINES), this.slotIndex, 0);
  }

  /** a·b over two f32 regions of equal length (a multiple of 4). */
  dot(a: Region<"f32">, b: Region<"f32">, options: PathOptions = {}): number {
    const check = this.begin("dot");
    check.region("a", a, "f32", 0);
    check.region("b", b, "f32", a.length);
    check.multipleOf4("length", a.length);
    this.run("vecDot", this.exports.vecDot(a.ptr, b.ptr, a.length, simdFlag(options), this.slot));
    return this.arena.f32(this.slot, 1)[0]!;
  }

  /** y ← y + α·x over two f32 regions of equal length (a multiple of 4). */
  axpy(alpha: number, x: Region<"f32">, y: Region<"f32">, options: PathOptions = {}): void {
    const check = this.begin("axpy");
    check.finite("alpha", alpha);
    check.region("x", x, "f32", 0);
    check.region("y", y, "f32", x.length);
    check.multipleOf4("length", x.length);
    this.run("vecAxpy", this.exports.vecAxpy(alpha, x.ptr, y.ptr, x.length, simdFlag(options)));
  }

  /**
   * One SGD epoch over ratings start..end of `data`, in their order, updating the model in
   * place. Returns the sum of squared errors seen during the pass (before each update).
   */
  sgdEpoch(data: Coo, model: FactorModel, params: SgdParams, options: RangeOptions = {}): number {
    const check = this.begin("sgdEpoch");
    const n = check.coo(data);
    check.model(model);
    check.finite("mu", params.mu);
    for (const name of ["lrBu", "lrBi", "lrP", "lrQ", "regBu", "regBi", "regP", "regQ"] as const) {
      check.nonNegative(name, params[name]);
    }
    const [start, end] = check.range(options, n);
    const { P, Q, bu, bi, nUsers, nMovies, stride } = model;
    let sse = 0;
    for (let at = start; at < end; at += CHUNK_RATINGS) {
      const count = Math.min(CHUNK_RATINGS, end - at);
      this.run("sgdEpoch", this.exports.sgdEpoch(
        data.user.ptr + 4 * at, data.movie.ptr + 4 * at, data.rating.ptr + 4 * at, count, nUsers, nMovies,
        P.ptr, Q.ptr, bu.ptr, bi.ptr, stride,
        params.mu, params.lrBu, params.lrBi, params.lrP, params.lrQ,
        params.regBu, params.regBi, params.regP, params.regQ, simdFlag(options), this.slot,
      ));
      sse += this.arena.f64(this.slot, 1)[0]!;
    }
    return sse;
  }

  /**
   * Σ (r − clip(est))² over ratings start..end; user/movie −1 (unknown) predicts from the parts
   * that exist (see assembly/predict.ts). RMSE = sqrt(sse / count).
   */
  sse(data: Coo, model: FactorModel, params: PredictParams, options: RangeOptions = {}): number {
    const check = this.begin("sse");
    const n = check.coo(data);
    check.model(model);
    check.predictParams(params);
    const [start, end] = check.range(options, n);
    let sum = 0;
    for (let at = start; at < end; at += CHUNK_RATINGS) {
      const count = Math.min(CHUNK_RATINGS, end - at);
      this.run("sse", this.exports.sse(
        data.user.ptr + 4 * at, data.movie.ptr + 4 * at, data.rating.ptr + 4 * at, count,
        model.nUsers, model.nMovies, model.P.ptr, model.Q.ptr, model.bu.ptr, model.bi.ptr, model.stride,
        params.mu, params.lo, params.hi, simdFlag(options), this.slot,
      ));
      sum += this.arena.f64(this.slot, 1)[0]!;
    }
    return sum;
  }

  /**
   * One ALS half-step of the baseline biases (Surprise's BaselineOnly, see assembly/baseline.ts):
   * side "movie" recomputes bi from bu, side "user" recomputes bu from bi. Scratch (f64 sums and
   * i32 counts of the updated side's length) is taken from the arena unless given.
   */
  biasHalfStep(
    side: "movie" | "user",
    data: Coo,
    model: Pick<FactorModel, "nUsers" | "nMovies" | "bu" | "bi">,
    params: { mu: number; reg: number },
    scratch?: { sums: Region<"f64">; counts: Region<"i32"> },
  ): void {
    const check = this.begin("biasHalfStep");
    if (side !== "movie" && side !== "user") check.fail(`side must be "movie" or "user", got ${String(side)}`);
    const n = check.coo(data);
    check.count("nUsers", model.nUsers);
    check.count("nMovies", model.nMovies);
    check.region("bu", model.bu, "f32", model.nUsers);
    check.region("bi", model.bi, "f32", model.nMovies);
    check.finite("mu", params.mu);
    check.nonNegative("reg", params.reg);
    const movieSide = side === "movie";
    const nKey = movieSide ? model.nMovies : model.nUsers;
    const nOther = movieSide ? model.nUsers : model.nMovies;
    const key = movieSide ? data.movie : data.user;
    const other = movieSide ? data.user : data.movie;
    const keyBias = movieSide ? model.bi : model.bu;
    const otherBias = movieSide ? model.bu : model.bi;
    this.withTemp(scratch === undefined, () => {
      const sums = scratch?.sums ?? this.arena.array("f64", nKey);
      const counts = scratch?.counts ?? this.arena.array("i32", nKey);
      check.region("scratch.sums", sums, "f64", nKey);
      check.region("scratch.counts", counts, "i32", nKey);
      this.arena.view(sums).fill(0, 0, nKey);
      this.arena.view(counts).fill(0, 0, nKey);
      for (let at = 0; at < n; at += CHUNK_RATINGS) {
        const count = Math.min(CHUNK_RATINGS, n - at);
        this.run("biasResidualSums", this.exports.biasResidualSums(
          key.ptr + 4 * at, other.ptr + 4 * at, data.rating.ptr + 4 * at, count, nKey, nOther,
          otherBias.ptr, params.mu, sums.ptr, counts.ptr,
        ));
      }
      this.run("biasSolve", this.exports.biasSolve(nKey, params.reg, sums.ptr, counts.ptr, keyBias.ptr));
    });
  }

  /**
   * Clipped predictions for (user[j], movie[j]) pairs; −1 marks an unknown user or movie.
   * Inputs may be typed arrays (copied into the arena for the call) or regions.
   */
  predictPairs(
    users: Int32Array | Region<"i32">,
    movies: Int32Array | Region<"i32">,
    model: FactorModel,
    params: PredictParams,
    options: PathOptions = {},
  ): Float32Array {
    const check = this.begin("predictPairs");
    check.model(model);
    check.predictParams(params);
    return this.withTemp(true, () => {
      const user = this.input(check, "users", users, "i32");
      const movie = this.input(check, "movies", movies, "i32");
      if (movie.length !== user.length) check.fail(`users has ${user.length} entries but movies has ${movie.length}`);
      const out = this.arena.array("f32", user.length);
      for (let at = 0; at < user.length; at += CHUNK_RATINGS) {
        const count = Math.min(CHUNK_RATINGS, user.length - at);
        this.run("predictPairs", this.exports.predictPairs(
          user.ptr + 4 * at, movie.ptr + 4 * at, count, model.nUsers, model.nMovies,
          model.P.ptr, model.Q.ptr, model.bu.ptr, model.bi.ptr, model.stride,
          params.mu, params.lo, params.hi, out.ptr + 4 * at, simdFlag(options),
        ));
      }
      return this.arena.copyOut(out);
    });
  }

  /** Unclipped scores of every movie for user u (−1: an unknown user, scored mu + b_i). */
  scoreUser(u: number, model: FactorModel, mu: number, options: PathOptions = {}): Float32Array {
    const check = this.begin("scoreUser");
    check.model(model);
    check.finite("mu", mu);
    if (!Number.isInteger(u) || u < -1 || u >= model.nUsers) {
      check.fail(`u must be a dense user index in 0..${model.nUsers - 1} or −1 (unknown), got ${u}`);
    }
    return this.withTemp(true, () => {
      const out = this.arena.array("f32", model.nMovies);
      this.run("scoreUser", this.exports.scoreUser(
        u, model.nUsers, model.P.ptr, model.Q.ptr, model.bu.ptr, model.bi.ptr, model.nMovies, model.stride,
        mu, out.ptr, simdFlag(options),
      ));
      return this.arena.copyOut(out);
    });
  }

  /**
   * The k best scores, best first (ties: lower index first; NaN last), skipping indices whose
   * `exclude` byte is non-zero. Returns fewer than k when fewer entries are eligible.
   */
  topN(
    scores: Float32Array | Region<"f32">,
    k: number,
    exclude: Uint8Array | Region<"u8"> | null = null,
  ): { indices: Int32Array; scores: Float32Array } {
    const check = this.begin("topN");
    check.count("k", k);
    return this.withTemp(true, () => {
      const s = this.input(check, "scores", scores, "f32");
      const mask = exclude === null ? null : this.input(check, "exclude", exclude, "u8");
      if (mask !== null && mask.length !== s.length) {
        check.fail(`exclude has ${mask.length} entries but scores has ${s.length}`);
      }
      const outIdx = this.arena.array("i32", k);
      const outScore = this.arena.array("f32", k);
      this.run("topN", this.exports.topN(s.ptr, s.length, mask?.ptr ?? 0, k, outIdx.ptr, outScore.ptr));
      const indices = this.arena.view(outIdx);
      let found = indices.indexOf(-1);
      if (found < 0) found = k;
      return { indices: indices.slice(0, found), scores: this.arena.view(outScore).slice(0, found) };
    });
  }

  /** Starts a wrapper call: its argument checker, after making sure the engine is open. */
  private begin(call: string): Check {
    if (this.closed) throw new AbiError(`${call}: this engine was closed`);
    return new Check(this, call);
  }

  /** A typed-array argument copied into the arena (temporary), or a region argument checked. */
  private input<D extends Dtype>(check: Check, name: string, value: TypedArrayOf[D] | Region<D>, dtype: D): Region<D> {
    if (ArrayBuffer.isView(value)) {
      if (dtypeOf(value) !== dtype) check.fail(`${name} must be a ${dtype} array or region, got a ${value.constructor.name}`);
      return this.arena.copyIn<D>(value as TypedArrayOf[D]);
    }
    check.region(name, value as Region<D>, dtype, 0);
    return value as Region<D>;
  }

  /** Runs `body`, freeing whatever it allocated in the arena afterwards when `temporary`. */
  private withTemp<T>(temporary: boolean, body: () => T): T {
    if (!temporary) return body();
    if (!this.arena.owner) {
      throw new AbiError("this call needs temporary arena space, which only the thread that created the memory has; " +
        "pass regions allocated there");
    }
    const mark = this.arena.mark();
    try {
      return body();
    } finally {
      this.arena.reset(mark);
    }
  }

  private run(kernel: string, code: number): void {
    if (code === status.STATUS_OK) return;
    const name = STATUS_NAMES.get(code) ?? "an unknown status";
    throw new KernelError(kernel, code, name, STATUS_MEANING[name] ?? "see assembly/status.ts");
  }
}

function simdFlag(options: PathOptions): number {
  return options.simd === false ? 0 : 1;
}

/** Argument checks for one wrapper call; every failure names the call, the argument and what is allowed. */
class Check {
  constructor(private readonly engine: Engine, private readonly call: string) {}

  fail(what: string): never {
    throw new AbiError(`${this.call}: ${what}`);
  }

  finite(name: string, value: number): void {
    if (typeof value !== "number" || !Number.isFinite(value)) this.fail(`${name} must be a finite number, got ${value}`);
  }

  nonNegative(name: string, value: number): void {
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      this.fail(`${name} must be a finite number ≥ 0, got ${value}`);
    }
  }

  count(name: string, value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
      this.fail(`${name} must be a whole number in 0..2147483647, got ${value}`);
    }
  }

  multipleOf4(name: string, value: number): void {
    if (value % 4 !== 0) this.fail(`${name} must be a multiple of 4 (rows are padded to 4 floats), got ${value}`);
  }

  /** A region of the given dtype with at least `minLength` elements, inside the memory. */
  region(name: string, region: Region, dtype: Dtype, minLength: number): void {
    if (typeof region !== "object" || region === null || !Number.isSafeInteger(region.ptr) ||
      !Number.isSafeInteger(region.length)) {
      this.fail(`${name} must be a region { ptr, length, dtype } from the arena`);
    }
    if (region.dtype !== dtype) this.fail(`${name} must be a ${dtype} region, got ${String(region.dtype)}`);
    const size = BYTES_PER[dtype];
    if (region.ptr <= 0 || region.ptr % size !== 0) {
      this.fail(`${name}.ptr must be a positive offset aligned to ${size} bytes, got ${region.ptr}`);
    }
    if (region.length < minLength) this.fail(`${name} has ${region.length} elements, at least ${minLength} are needed`);
    const bytes = this.engine.memory.buffer.byteLength;
    if (region.ptr + region.length * size > bytes) {
      this.fail(`${name} (${region.length} × ${dtype} at ${region.ptr}) runs past the end of the ${formatBytes(bytes)} memory`);
    }
  }

  coo(data: Coo): number {
    this.region("data.user", data.user, "i32", 0);
    const n = data.user.length;
    this.count("data.user.length", n);
    this.region("data.movie", data.movie, "i32", 0);
    this.region("data.rating", data.rating, "f32", 0);
    if (data.movie.length !== n || data.rating.length !== n) {
      this.fail(`data columns differ in length (user ${n}, movie ${data.movie.length}, rating ${data.rating.length})`);
    }
    return n;
  }

  model(model: FactorModel): void {
    this.count("nUsers", model.nUsers);
    this.count("nMovies", model.nMovies);
    this.count("stride", model.stride);
    this.multipleOf4("stride", model.stride);
    this.region("P", model.P, "f32", model.nUsers * model.stride);
    this.region("Q", model.Q, "f32", model.nMovies * model.stride);
    this.region("bu", model.bu, "f32", model.nUsers);
    this.region("bi", model.bi, "f32", model.nMovies);
  }

  predictParams(params: PredictParams): void {
    this.finite("mu", params.mu);
    this.finite("lo", params.lo);
    this.finite("hi", params.hi);
    if (params.lo > params.hi) this.fail(`lo must be ≤ hi, got lo ${params.lo} > hi ${params.hi}`);
  }

  range(options: RangeOptions, n: number): [number, number] {
    const start = options.start ?? 0;
    const end = options.end ?? n;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || start > end || end > n) {
      this.fail(`start..end must satisfy 0 ≤ start ≤ end ≤ ${n} (the rating count), got ${start}..${end}`);
    }
    return [start, end];
  }
}
