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
    return this.chunkedSum("sgdEpoch", start, end, (at, count) => this.exports.sgdEpoch(
      data.user.ptr + 4 * at, data.movie.ptr + 4 * at, data.rating.ptr + 4 * at, count, nUsers, nMovies,
      P.ptr, Q.ptr, bu.ptr, bi.ptr, stride,
      params.mu, params.lrBu, params.lrBi, params.lrP, params.lrQ,
      params.regBu, params.regBi, params.regP, params.regQ, simdFlag(options), this.slot,
    ));
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
    return this.chunkedSum("sse", start, end, (at, count) => this.exports.sse(
      data.user.ptr + 4 * at, data.movie.ptr + 4 * at, data.rating.ptr + 4 * at, count,
      model.nUsers, model.nMovies, model.P.ptr, model.Q.ptr, model.bu.ptr, model.bi.ptr, model.stride,
      params.mu, params.lo, params.hi, simdFlag(options), this.slot,
    ));
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

  /**
   * Runs a kernel over ratings start..end in calls of at most CHUNK_RATINGS (`call` gets the first
   * rating and the count) and sums the f64 each call leaves in the result slot.
   */
  private chunkedSum(kernel: string, start: number, end: number, call: (at: number, count: number) => number): number {
    let sum = 0;
    for (let at = start; at < end; at += CHUNK_RATINGS) {
      this.run(kernel, call(at, Math.min(CHUNK_RATINGS, end - at)));
      sum += this.arena.f64(this.slot, 1)[0]!;
    }
    return sum;
  }

  private run(kernel: string, code: number): void {
    if (code === status.STATUS_OK) return;
    const name = STATUS_NAMES.get(code) ?? "an unknown status";
    throw new KernelError(kernel, code, name, STATUS_MEANING[name] ?? "see assembly/status.ts");
  }
  // ---- svdpp / timesvdpp ----

  /**
   * SVD++'s rating updates over ratings start..end of a grid block (assembly/svdpp.ts), moving
   * each user's implicit sum in `Z` with them. Returns the sum of squared errors of the pass.
   */
  svdppBlock(data: Coo, model: FactorModel, Z: Region<"f32">, params: SvdppParams, options: RangeOptions = {}): number {
    const check = this.begin("svdppBlock");
    const n = check.coo(data);
    check.model(model);
    check.region("Z", Z, "f32", model.nUsers * model.stride);
    check.finite("mu", params.mu);
    for (const name of ["lrBu", "lrBi", "lrP", "lrQ", "lrY", "regBu", "regBi", "regP", "regQ", "regY"] as const) {
      check.nonNegative(name, params[name]);
    }
    const [start, end] = check.range(options, n);
    const { P, Q, bu, bi, nUsers, nMovies, stride } = model;
    return this.chunkedSum("svdppBlock", start, end, (at, count) => this.exports.svdppBlock(
      data.user.ptr + 4 * at, data.movie.ptr + 4 * at, data.rating.ptr + 4 * at, count, nUsers, nMovies,
      P.ptr, Q.ptr, Z.ptr, bu.ptr, bi.ptr, stride,
      params.mu, params.lrBu, params.lrBi, params.lrP, params.lrQ, params.lrY,
      params.regBu, params.regBi, params.regP, params.regQ, params.regY, simdFlag(options), this.slot,
    ));
  }

  /**
   * z_u = |N(u)|^−½ Σ y_j over the grid ratings start..end for users u0..u1−1 (assembly/implicit.ts;
   * every rating of the range must belong to one of them), copied to Z0; with `out`, also
   * out_u = p_u + z_u.
   */
  implicitSums(data: Pick<Coo, "user" | "movie">, s: ImplicitState, users: [number, number], options: RangeOptions & { out?: Region<"f32"> } = {}): void {
    const check = this.begin("implicitSums");
    const n = this.checkImplicitState(check, data, s);
    const [u0, u1] = check.range({ start: users[0], end: users[1] }, s.nUsers, "users", "the user count");
    const [start, end] = check.range(options, n);
    if (options.out) check.region("out", options.out, "f32", s.nUsers * s.stride);
    if (options.out && !s.P) check.fail("out needs the user factors P");
    if (s.P) check.region("P", s.P, "f32", s.nUsers * s.stride);
    this.run("implicitSums", this.exports.implicitSums(
      u0, u1, start, end, data.user.ptr, data.movie.ptr, s.nUsers, s.nMovies, s.count.ptr, s.Y.ptr, s.Z.ptr, s.Z0.ptr,
      s.P?.ptr ?? 0, options.out?.ptr ?? 0, s.stride, simdFlag(options),
    ));
  }

  /** keep_u = keepY^{m_u} and Z0_u ← s_u·(Z_u − keep_u·Z0_u) for users u0..u1−1 (assembly/implicit.ts). */
  implicitDelta(s: ImplicitState, users: [number, number], keepY: number, options: PathOptions = {}): void {
    const check = this.begin("implicitDelta");
    this.checkImplicitState(check, null, s);
    const [u0, u1] = check.range({ start: users[0], end: users[1] }, s.nUsers, "users", "the user count");
    check.finite("keepY", keepY);
    this.run("implicitDelta", this.exports.implicitDelta(u0, u1, s.nUsers, s.count.ptr, s.Z.ptr, s.Z0.ptr, s.keep.ptr, s.stride, keepY, simdFlag(options)));
  }

  /** y_j ← keep_u·y_j + D_u (D in Z0) for the grid ratings start..end, in order (assembly/implicit.ts). */
  implicitScatter(data: Pick<Coo, "user" | "movie">, s: ImplicitState, options: RangeOptions = {}): void {
    const check = this.begin("implicitScatter");
    const n = this.checkImplicitState(check, data, s);
    const [start, end] = check.range(options, n);
    this.run("implicitScatter", this.exports.implicitScatter(
      start, end, data.user.ptr, data.movie.ptr, s.nUsers, s.nMovies, s.keep.ptr, s.Z0.ptr, s.Y.ptr, s.stride, simdFlag(options),
    ));
  }

  /** out_u = p_u + |N(u)|^−½ Σ_{j∈N(u)} y_j for every user: the vectors SVD++ predicts with. */
  svdppUserVectors(
    implicit: ImplicitFeedback,
    model: Pick<SvdppModel, "nUsers" | "nMovies" | "stride" | "P" | "Y">,
    out: Region<"f32">,
    options: PathOptions = {},
  ): void {
    const check = this.begin("svdppUserVectors");
    this.checkShape(check, model.nUsers, model.nMovies, model.stride);
    this.checkImplicit(check, implicit, model.nUsers);
    check.region("P", model.P, "f32", model.nUsers * model.stride);
    check.region("Y", model.Y, "f32", model.nMovies * model.stride);
    check.region("out", out, "f32", model.nUsers * model.stride);
    this.run("svdppUserVectors", this.exports.svdppUserVectors(
      implicit.ptr.ptr, implicit.idx.ptr, implicit.idx.length, model.nUsers, model.nMovies,
      model.P.ptr, model.Y.ptr, model.stride, out.ptr, simdFlag(options),
    ));
  }

  /**
   * timeSVD++'s rating updates over ratings start..end of a grid block (assembly/timesvdpp.ts),
   * moving each user's implicit sum in `Z` with them; `data.day` holds each rating's user-day
   * index. `params.hyper` holds the learning rates and regularizations (timeSvdppHyper), checked
   * here. Returns the sum of squared errors of the pass.
   */
  timeSvdppBlock(
    data: TimeCoo,
    model: Omit<TimeSvdppModel, "Y">,
    Z: Region<"f32">,
    params: { mu: number; hyper: Region<"f32"> },
    options: RangeOptions = {},
  ): number {
    const check = this.begin("timeSvdppBlock");
    const n = check.coo(data);
    check.region("data.day", data.day, "i32", n);
    this.checkTimeModel(check, model);
    check.region("P", model.P, "f32", model.nUsers * model.stride);
    check.region("Z", Z, "f32", model.nUsers * model.stride);
    check.region("dayBin", model.dayBin, "i32", model.nDays);
    check.region("dayDev", model.dayDev, "f32", model.nDays);
    check.finite("mu", params.mu);
    check.region("hyper", params.hyper, "f32", TIME_SVDPP_HYPER_LENGTH);
    const hyper = this.arena.view(params.hyper);
    TIME_SVDPP_TERMS.forEach((term, k) => {
      check.nonNegative(`lr${term}`, hyper[k]!);
      check.nonNegative(`reg${term}`, hyper[TIME_SVDPP_TERMS.length + k]!);
    });
    const [start, end] = check.range(options, n);
    const m = model;
    return this.chunkedSum("timeSvdppBlock", start, end, (at, count) => this.exports.timeSvdppBlock(
      data.user.ptr + 4 * at, data.movie.ptr + 4 * at, data.rating.ptr + 4 * at, data.day.ptr + 4 * at, count,
      m.nUsers, m.nMovies, m.nDays, m.nBins, m.dayBin.ptr, m.dayDev.ptr, m.P.ptr, m.AP.ptr, m.Q.ptr, Z.ptr, m.stride,
      m.bu.ptr, m.alpha.ptr, m.cu.ptr, m.bi.ptr, m.biBin.ptr, m.but.ptr, m.cut.ptr,
      params.mu, params.hyper.ptr, simdFlag(options), this.slot,
    ));
  }

  /**
   * Clipped timeSVD++ estimates for pairs (user, movie, user-day, bin, dev); −1 marks an unknown
   * user, movie, user-day or bin. `model.U` holds the user vectors p_u + z_u (svdppUserVectors).
   */
  timeSvdppPredict(pairs: TimePairs, model: TimeSvdppPredictor, params: PredictParams, options: PathOptions = {}): Float32Array {
    const check = this.begin("timeSvdppPredict");
    this.checkTimeModel(check, model);
    check.region("U", model.U, "f32", model.nUsers * model.stride);
    check.predictParams(params);
    return this.withTemp(true, () => {
      const user = this.input(check, "pairs.user", pairs.user, "i32");
      const n = user.length;
      const columns = [
        this.input(check, "pairs.movie", pairs.movie, "i32"),
        this.input(check, "pairs.day", pairs.day, "i32"),
        this.input(check, "pairs.bin", pairs.bin, "i32"),
        this.input(check, "pairs.dev", pairs.dev, "f32"),
      ] as const;
      columns.forEach((column, k) => {
        if (column.length !== n) check.fail(`pairs.${["movie", "day", "bin", "dev"][k]} has ${column.length} entries but pairs.user has ${n}`);
      });
      const [movie, day, bin, dev] = columns;
      const work = this.arena.array("f32", model.stride);
      const out = this.arena.array("f32", n);
      for (let at = 0; at < n; at += CHUNK_RATINGS) {
        const count = Math.min(CHUNK_RATINGS, n - at);
        this.run("timeSvdppPredict", this.exports.timeSvdppPredict(
          user.ptr + 4 * at, movie.ptr + 4 * at, day.ptr + 4 * at, bin.ptr + 4 * at, dev.ptr + 4 * at, count,
          model.nUsers, model.nMovies, model.nDays, model.nBins, model.U.ptr, model.AP.ptr, model.Q.ptr, model.stride,
          model.bu.ptr, model.alpha.ptr, model.cu.ptr, model.bi.ptr, model.biBin.ptr, model.but.ptr, model.cut.ptr,
          params.mu, params.lo, params.hi, work.ptr, out.ptr + 4 * at, simdFlag(options),
        ));
      }
      return this.arena.copyOut(out);
    });
  }

  /** The implicit-feedback state (and, when given, the grid ratings, whose count it returns). */
  private checkImplicitState(check: Check, data: Pick<Coo, "user" | "movie"> | null, s: ImplicitState): number {
    this.checkShape(check, s.nUsers, s.nMovies, s.stride);
    check.region("count", s.count, "i32", s.nUsers);
    check.region("keep", s.keep, "f32", s.nUsers);
    check.region("Y", s.Y, "f32", s.nMovies * s.stride);
    check.region("Z", s.Z, "f32", s.nUsers * s.stride);
    check.region("Z0", s.Z0, "f32", s.nUsers * s.stride);
    if (!data) return 0;
    check.region("data.user", data.user, "i32", 0);
    check.region("data.movie", data.movie, "i32", data.user.length);
    return data.user.length;
  }

  private checkShape(check: Check, nUsers: number, nMovies: number, stride: number): void {
    check.count("nUsers", nUsers);
    check.count("nMovies", nMovies);
    check.count("stride", stride);
    check.multipleOf4("stride", stride);
  }

  private checkImplicit(check: Check, implicit: ImplicitFeedback, nUsers: number): void {
    check.region("implicit.ptr", implicit.ptr, "i32", nUsers + 1);
    check.region("implicit.idx", implicit.idx, "i32", 0);
    check.count("implicit.idx.length", implicit.idx.length);
  }

  /** The regions every timeSVD++ call reads (not P, Y and the per-day tables, which only training reads). */
  private checkTimeModel(check: Check, m: Omit<TimeSvdppModel, "P" | "Y" | "dayBin" | "dayDev">): void {
    this.checkShape(check, m.nUsers, m.nMovies, m.stride);
    check.count("nDays", m.nDays);
    check.count("nBins", m.nBins);
    check.region("AP", m.AP, "f32", m.nUsers * m.stride);
    check.region("Q", m.Q, "f32", m.nMovies * m.stride);
    for (const name of ["bu", "alpha", "cu"] as const) check.region(name, m[name], "f32", m.nUsers);
    check.region("bi", m.bi, "f32", m.nMovies);
    check.region("biBin", m.biBin, "f32", m.nMovies * m.nBins);
    check.region("but", m.but, "f32", m.nDays);
    check.region("cut", m.cut, "f32", m.nDays);
  }

  // ---- similarity and neighbourhoods ----

  /**
   * Adds the co-ratings of row `row` of the key CSR to `acc` (assembly/similarity.ts), in the given
   * accumulator layout; with `upper`, only the entries after the rating itself in each rater's row.
   */
  coAccumulate(
    key: KeyCsrRegions, row: number, other: CsrRegions, layout: AccumulatorLayout, acc: Region<"f32">,
    options: PathOptions & { upper?: boolean } = {},
  ): void {
    const check = this.begin("coAccumulate");
    this.checkCsrPair(check, key, other);
    if (!Number.isInteger(row) || row < 0 || row >= key.nRows) check.fail(`row must be in 0..${key.nRows - 1}, got ${row}`);
    if (!(layout in ACCUMULATOR_LANES)) check.fail(`layout must be one of ${Object.keys(ACCUMULATOR_LANES).join(", ")}, got ${String(layout)}`);
    check.region("acc", acc, "f32", other.nCols * ACCUMULATOR_LANES[layout]);
    const ptr = this.arena.view(key.ptr);
    const start = ptr[row]!;
    this.run("coAccumulate", this.exports.coAccumulate(
      key.idx.ptr + 4 * start, key.cross.ptr + 4 * start, ptr[row + 1]! - start,
      other.ptr.ptr, other.idx.ptr, other.val.ptr, other.nRows, other.nCols,
      LAYOUT_CODES[layout], options.upper ? 1 : 0, acc.ptr, simdFlag(options),
    ));
  }

  /**
   * Similarities of columns c0..c1−1 from `acc` (accumulated in the layout of `params.kind`) into
   * `out` (and 1/0 into `mask` where top-k must skip / may keep the column); clears those accumulators.
   */
  similarityFinalize(
    acc: Region<"f32">, nCols: number, c0: number, c1: number, params: SimilarityParams,
    out: Region<"f32">, mask: Region<"u8"> | null = null,
  ): void {
    const check = this.begin("similarityFinalize");
    check.count("nCols", nCols);
    if (!Number.isInteger(c0) || !Number.isInteger(c1) || c0 < 0 || c1 < c0 || c1 > nCols) {
      check.fail(`c0..c1 must satisfy 0 ≤ c0 ≤ c1 ≤ ${nCols}, got ${c0}..${c1}`);
    }
    const kind = this.checkSimilarity(check, params);
    check.region("acc", acc, "f32", nCols * ACCUMULATOR_LANES[SIMILARITY_LAYOUT[params.kind]]);
    check.region("out", out, "f32", nCols);
    if (mask !== null) check.region("mask", mask, "u8", nCols);
    this.run("similarityFinalize", this.exports.similarityFinalize(
      acc.ptr, nCols, c0, c1, kind, params.minSupport, params.shrinkage, out.ptr, mask?.ptr ?? 0,
    ));
  }

  /**
   * Similarity rows of the key rows listed in `rows` (one task of a row range): each row's
   * similarity to every column into `scratch.out` (row r at r·nCols with `dense`, else the same
   * nCols floats reused), its own column 1, and with `top` its k best positive similarities (itself
   * excluded), best first, at top.idx/top.score[r·k ..] (−1 / NaN past the last one found).
   */
  similarityRows(
    rows: Region<"i32">, key: KeyCsrRegions, other: CsrRegions, params: SimilarityParams, scratch: SimilarityScratch,
    top: TopRegions | null, options: PathOptions & { dense?: boolean } = {},
  ): void {
    const check = this.begin("similarityRows");
    this.checkCsrPair(check, key, other);
    const kind = this.checkSimilarity(check, params);
    check.region("rows", rows, "i32", 0);
    const nCols = other.nCols;
    check.region("scratch.acc", scratch.acc, "f32", nCols * ACCUMULATOR_LANES[SIMILARITY_LAYOUT[params.kind]]);
    check.region("scratch.out", scratch.out, "f32", options.dense ? rows.length * nCols : nCols);
    if (top !== null) {
      check.count("top.k", top.k);
      check.region("scratch.mask", scratch.mask, "u8", nCols);
      check.region("top.idx", top.idx, "i32", rows.length * top.k);
      check.region("top.score", top.score, "f32", rows.length * top.k);
    }
    this.run("similarityRows", this.exports.similarityRows(
      rows.ptr, rows.length, key.ptr.ptr, key.idx.ptr, key.cross.ptr, key.nRows,
      other.ptr.ptr, other.idx.ptr, other.val.ptr, other.nRows, nCols,
      kind, params.minSupport, params.shrinkage,
      scratch.acc.ptr, scratch.out.ptr, options.dense ? 1 : 0, scratch.mask.ptr,
      top?.k ?? 0, top?.idx.ptr ?? 0, top?.score.ptr ?? 0, simdFlag(options),
    ));
  }

  /**
   * Rows r0..r1−1 of the upper triangle of a symmetric similarity matrix (key rows and columns the
   * same n items) into `tri` (packed: pair i < j at i·n − i(i+1)/2 + j − i − 1), accumulating for
   * each row only the columns after it. `acc` is scratch (zero on entry, left zero).
   */
  similarityUpper(
    r0: number, r1: number, key: KeyCsrRegions, other: CsrRegions, params: SimilarityParams, acc: Region<"f32">,
    tri: Region<"f32">, options: PathOptions = {},
  ): void {
    const check = this.begin("similarityUpper");
    this.checkCsrPair(check, key, other);
    const kind = this.checkSimilarity(check, params);
    const n = key.nRows;
    if (other.nCols !== n) check.fail(`key has ${n} rows but other has ${other.nCols} columns: not a symmetric problem`);
    this.checkRowRange(check, r0, r1, n);
    check.region("acc", acc, "f32", n * ACCUMULATOR_LANES[SIMILARITY_LAYOUT[params.kind]]);
    check.region("tri", tri, "f32", (n * (n - 1)) / 2);
    this.run("similarityUpper", this.exports.similarityUpper(
      r0, r1, key.ptr.ptr, key.idx.ptr, key.cross.ptr, other.ptr.ptr, other.idx.ptr, other.val.ptr, other.nRows, n,
      kind, params.minSupport, params.shrinkage, acc.ptr, tri.ptr, simdFlag(options),
    ));
  }

  /**
   * Rows r0..r1−1's k best positive similarities (the row itself excluded) from the packed upper
   * triangle of an n × n symmetric matrix, into top.idx/top.score[(i − r0)·k ..], best first,
   * −1 / NaN past the last one found. `rows` (f32) and `mask` (u8), TOPK_BLOCK × n each, are scratch.
   */
  triangleTopK(
    r0: number, r1: number, n: number, tri: Region<"f32">, scratch: { rows: Region<"f32">; mask: Region<"u8"> }, top: TopRegions,
  ): void {
    const check = this.begin("triangleTopK");
    check.count("n", n);
    this.checkRowRange(check, r0, r1, n);
    check.region("tri", tri, "f32", (n * (n - 1)) / 2);
    check.region("scratch.rows", scratch.rows, "f32", TOPK_BLOCK * n);
    check.region("scratch.mask", scratch.mask, "u8", TOPK_BLOCK * n);
    check.count("top.k", top.k);
    check.region("top.idx", top.idx, "i32", (r1 - r0) * top.k);
    check.region("top.score", top.score, "f32", (r1 - r0) * top.k);
    this.run("triangleTopK", this.exports.triangleTopK(
      r0, r1, n, tri.ptr, scratch.rows.ptr, scratch.mask.ptr, top.k, top.idx.ptr, top.score.ptr,
    ));
  }

  /**
   * k-NN sums for a query with similarities `sim` to every candidate id (assembly/knn.ts): for each
   * row y in `ys`, over its candidates in `cand`, the k most similar with similarity > 0 give
   * num = Σ sim·value, den = Σ sim and count. Returns copies.
   */
  knnAggregate(
    sim: Region<"f32">, cand: CsrRegions, ys: Int32Array | Region<"i32">, k: number,
  ): { num: Float64Array; den: Float64Array; count: Int32Array } {
    const check = this.begin("knnAggregate");
    this.checkCsr(check, "cand", cand);
    check.region("sim", sim, "f32", cand.nCols);
    check.count("k", k);
    return this.withTemp(true, () => {
      const y = this.input(check, "ys", ys, "i32");
      const n = y.length;
      const heapSim = this.arena.array("f32", Math.max(1, k));
      const heapVal = this.arena.array("f32", Math.max(1, k));
      const num = this.arena.array("f64", n);
      const den = this.arena.array("f64", n);
      const count = this.arena.array("i32", n);
      this.run("knnAggregate", this.exports.knnAggregate(
        sim.ptr, cand.nCols, cand.ptr.ptr, cand.idx.ptr, cand.val.ptr, cand.nRows,
        y.ptr, n, k, heapSim.ptr, heapVal.ptr, num.ptr, den.ptr, count.ptr,
      ));
      return { num: this.arena.copyOut(num), den: this.arena.copyOut(den), count: this.arena.copyOut(count) };
    });
  }

  /**
   * SlopeOne deviations and co-rating counts of movie rows r0..r1−1 (assembly/slopeone.ts) into the
   * packed upper triangles `tri.dev` / `tri.count`; `key` is the by-movie CSR of ratings with cross
   * indices into `other`, the by-user CSR. `acc` (f32, 4 per movie) is scratch, zero on entry.
   */
  slopeOneRows(
    r0: number, r1: number, key: KeyCsrRegions, other: CsrRegions, acc: Region<"f32">, tri: SlopeOneTriangle,
    options: PathOptions = {},
  ): void {
    const check = this.begin("slopeOneRows");
    this.checkCsrPair(check, key, other);
    const nMovies = key.nRows;
    if (other.nCols !== nMovies) check.fail(`key has ${nMovies} rows but other has ${other.nCols} columns`);
    this.checkRowRange(check, r0, r1, nMovies);
    check.region("acc", acc, "f32", 4 * nMovies);
    this.checkTriangle(check, tri, nMovies);
    this.run("slopeOneRows", this.exports.slopeOneRows(
      r0, r1, key.ptr.ptr, key.idx.ptr, key.cross.ptr,
      other.ptr.ptr, other.idx.ptr, other.val.ptr, other.nRows, nMovies,
      acc.ptr, tri.dev.ptr, tri.count.ptr, simdFlag(options),
    ));
  }

  /**
   * SlopeOne sums for pairs (us[t], is[t]) (dense, known) over the movies each user rated in
   * `user` (by-user CSR of ratings) with c(i, j) ≥ minSupport: weighted num = Σ (dev + r)·c,
   * den = Σ c; plain num = Σ dev, den = their count. Returns copies.
   */
  slopeOnePredict(
    us: Int32Array | Region<"i32">, is: Int32Array | Region<"i32">, user: CsrRegions, tri: SlopeOneTriangle,
    minSupport: number, weighted: boolean,
  ): { num: Float64Array; den: Float64Array } {
    const check = this.begin("slopeOnePredict");
    this.checkCsr(check, "user", user);
    this.checkTriangle(check, tri, user.nCols);
    if (!Number.isInteger(minSupport) || minSupport < 1) check.fail(`minSupport must be a whole number ≥ 1, got ${minSupport}`);
    return this.withTemp(true, () => {
      const u = this.input(check, "us", us, "i32");
      const i = this.input(check, "is", is, "i32");
      if (i.length !== u.length) check.fail(`us has ${u.length} entries but is has ${i.length}`);
      const num = this.arena.array("f64", u.length);
      const den = this.arena.array("f64", u.length);
      this.run("slopeOnePredict", this.exports.slopeOnePredict(
        u.ptr, i.ptr, u.length, user.ptr.ptr, user.idx.ptr, user.val.ptr, user.nRows, user.nCols,
        tri.dev.ptr, tri.count.ptr, minSupport, weighted ? 1 : 0, num.ptr, den.ptr,
      ));
      return { num: this.arena.copyOut(num), den: this.arena.copyOut(den) };
    });
  }

  private checkCsr(check: Check, name: string, m: CsrRegions | KeyCsrRegions): void {
    check.count(`${name}.nRows`, m.nRows);
    check.count(`${name}.nCols`, m.nCols);
    check.region(`${name}.ptr`, m.ptr, "i32", m.nRows + 1);
    check.region(`${name}.idx`, m.idx, "i32", 0);
    if ("val" in m) check.region(`${name}.val`, m.val, "f32", m.idx.length);
  }

  private checkRowRange(check: Check, r0: number, r1: number, n: number): void {
    if (!Number.isInteger(r0) || !Number.isInteger(r1) || r0 < 0 || r1 < r0 || r1 > n) {
      check.fail(`r0..r1 must satisfy 0 ≤ r0 ≤ r1 ≤ ${n}, got ${r0}..${r1}`);
    }
  }

  /** The key CSR (with cross indices into `other`) and the other CSR of the same ratings. */
  private checkCsrPair(check: Check, key: KeyCsrRegions, other: CsrRegions): void {
    this.checkCsr(check, "key", key);
    this.checkCsr(check, "other", other);
    check.region("key.cross", key.cross, "i32", key.idx.length);
    if (key.idx.length !== other.idx.length) check.fail(`key has ${key.idx.length} entries but other has ${other.idx.length}`);
    if (key.nCols !== other.nRows) check.fail(`key has ${key.nCols} columns but other has ${other.nRows} rows: not two layouts of one matrix`);
  }

  private checkSimilarity(check: Check, params: SimilarityParams): number {
    const code = SIMILARITY_CODES[params.kind];
    if (code === undefined) check.fail(`kind must be one of ${SIMILARITY_KINDS.join(", ")}, got ${String(params.kind)}`);
    check.nonNegative("minSupport", params.minSupport);
    check.nonNegative("shrinkage", params.shrinkage);
    return code;
  }

  private checkTriangle(check: Check, tri: SlopeOneTriangle, nMovies: number): void {
    const pairs = (nMovies * (nMovies - 1)) / 2;
    check.region("tri.dev", tri.dev, "f32", pairs);
    check.region("tri.count", tri.count, "i32", pairs);
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

  range(options: RangeOptions, n: number, what = "start..end", of = "the rating count"): [number, number] {
    const start = options.start ?? 0;
    const end = options.end ?? n;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || start > end || end > n) {
      this.fail(`${what} must satisfy 0 ≤ start ≤ end ≤ ${n} (${of}), got ${start}..${end}`);
    }
    return [start, end];
  }
}

// ---- svdpp / timesvdpp ----

/** Implicit feedback N(u) as CSR by user: idx[ptr[u] .. ptr[u+1]) (may share the ratings' regions). */
export interface ImplicitFeedback {
  ptr: Region<"i32">;
  idx: Region<"i32">;
}

/** An SVD++ model: a biased factor model plus the implicit factors Y (nMovies × stride). */
export interface SvdppModel extends FactorModel {
  Y: Region<"f32">;
}

/**
 * The implicit-feedback state of SVD++ and timeSVD++ on the grid (assembly/implicit.ts): per user
 * the count m_u = |N(u)|, the sums Z and their epoch-start copy Z0 (then the y-step D), and keep_u;
 * per movie the implicit factors Y; P only for the user vectors p_u + z_u.
 */
export interface ImplicitState {
  nUsers: number;
  nMovies: number;
  stride: number;
  count: Region<"i32">;
  keep: Region<"f32">;
  Y: Region<"f32">;
  Z: Region<"f32">;
  Z0: Region<"f32">;
  P?: Region<"f32">;
}

export interface SvdppParams extends SgdParams {
  lrY: number;
  regY: number;
}

/** timeSVD++'s trained terms, in the order of the kernel's hyperparameter block. */
export const TIME_SVDPP_TERMS = ["Bu", "Alpha", "But", "Bi", "BiBin", "Cu", "Cut", "P", "Q", "Y", "AlphaP"] as const;
export type TimeSvdppTerm = (typeof TIME_SVDPP_TERMS)[number];

/** The global mean, and a learning rate and a regularization per term (see assembly/timesvdpp.ts). */
export type TimeSvdppParams = { mu: number } & Record<`lr${TimeSvdppTerm}` | `reg${TimeSvdppTerm}`, number>;

/** Floats of timeSVD++'s hyperparameter block: a learning rate per term, then a regularization per term. */
export const TIME_SVDPP_HYPER_LENGTH = 2 * TIME_SVDPP_TERMS.length;

/** The hyperparameter block timeSvdppBlock reads, in its order, written into `out`. */
export function timeSvdppHyper(
  params: Omit<TimeSvdppParams, "mu">,
  out: Float32Array = new Float32Array(TIME_SVDPP_HYPER_LENGTH),
): Float32Array {
  TIME_SVDPP_TERMS.forEach((term, k) => {
    out[k] = params[`lr${term}`];
    out[TIME_SVDPP_TERMS.length + k] = params[`reg${term}`];
  });
  return out;
}

/** Ratings in COO (grid order) with each rating's user-day index. */
export interface TimeCoo extends Coo {
  day: Region<"i32">;
}

/**
 * A timeSVD++ model in the arena. Per user: P, AP (α_pu) rows, bu, alpha (α_u), cu; per movie: Q,
 * Y rows, bi, biBin (nMovies × nBins); per user-day d: but (b_{u,t}), cut (c_{u,t}), dayBin (the
 * day's item-bias bin) and dayDev (dev_u(t)).
 */
export interface TimeSvdppModel {
  nUsers: number;
  nMovies: number;
  nDays: number;
  nBins: number;
  stride: number;
  P: Region<"f32">;
  AP: Region<"f32">;
  Q: Region<"f32">;
  Y: Region<"f32">;
  bu: Region<"f32">;
  alpha: Region<"f32">;
  cu: Region<"f32">;
  bi: Region<"f32">;
  biBin: Region<"f32">;
  but: Region<"f32">;
  cut: Region<"f32">;
  dayBin: Region<"i32">;
  dayDev: Region<"f32">;
}

/** What timeSVD++ predicts with: the model without P and Y, plus the user vectors U = p_u + z_u. */
export type TimeSvdppPredictor = Omit<TimeSvdppModel, "P" | "Y" | "dayBin" | "dayDev"> & { U: Region<"f32"> };

/** Pairs to predict: dense user, movie, user-day index, item-bias bin (−1: unknown) and dev_u(t). */
export interface TimePairs {
  user: Int32Array | Region<"i32">;
  movie: Int32Array | Region<"i32">;
  day: Int32Array | Region<"i32">;
  bin: Int32Array | Region<"i32">;
  dev: Float32Array | Region<"f32">;
}

// ---- similarity and neighbourhoods ----

/** A CSR in the arena: row r's entries are idx/val[ptr[r] .. ptr[r+1]), columns < nCols. */
export interface CsrRegions {
  nRows: number;
  nCols: number;
  ptr: Region<"i32">;
  idx: Region<"i32">;
  val: Region<"f32">;
}

/**
 * The key side of a co-rating computation: the same ratings by the other axis, without values;
 * entry e is the rating of row `idx[e]` of the other CSR found there at index `cross[e]`.
 */
export interface KeyCsrRegions {
  nRows: number;
  nCols: number;
  ptr: Region<"i32">;
  idx: Region<"i32">;
  cross: Region<"i32">;
}

export const SIMILARITY_KINDS = ["cosine", "pearson", "pearson-baseline", "msd"] as const;
export type SimilarityKind = (typeof SIMILARITY_KINDS)[number];

/** How co-ratings are summed per column (see assembly/similarity.ts). */
export type AccumulatorLayout = "products" | "moments" | "differences";

/** Rows triangleTopK assembles at once (its scratch is TOPK_BLOCK × n; see assembly/similarity.ts). */
export const TOPK_BLOCK = 16;

/** f32 lanes per column of each accumulator layout. */
export const ACCUMULATOR_LANES: Readonly<Record<AccumulatorLayout, number>> = { products: 4, moments: 8, differences: 4 };

/** The layout each similarity accumulates in. */
export const SIMILARITY_LAYOUT: Readonly<Record<SimilarityKind, AccumulatorLayout>> = {
  cosine: "products",
  pearson: "moments",
  "pearson-baseline": "products",
  msd: "differences",
};

const LAYOUT_CODES: Readonly<Record<AccumulatorLayout, number>> = { products: 0, moments: 1, differences: 2 };
const SIMILARITY_CODES: Readonly<Record<string, number>> = { cosine: 0, pearson: 1, "pearson-baseline": 2, msd: 3 };

export interface SimilarityParams {
  kind: SimilarityKind;
  /** Pairs with fewer co-ratings get similarity 0. */
  minSupport: number;
  /** Pearson-baseline's shrinkage: ρ·(n − 1)/(n − 1 + shrinkage). */
  shrinkage: number;
}

/** Per-task scratch of similarityRows: accumulators, the similarity row(s), the top-k skip mask. */
export interface SimilarityScratch {
  acc: Region<"f32">;
  out: Region<"f32">;
  mask: Region<"u8">;
}

/** Top-k output of similarityRows: k slots per row. */
export interface TopRegions {
  k: number;
  idx: Region<"i32">;
  score: Region<"f32">;
}

/** SlopeOne's packed upper triangles (pair i < j at i·n − i(i+1)/2 + j − i − 1). */
export interface SlopeOneTriangle {
  dev: Region<"f32">;
  count: Region<"i32">;
}
