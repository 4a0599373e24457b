/**
 * Biased matrix factorization by SGD on the engine (the `mf` model, and `baseline` with method
 * "sgd", which is the same loop with no factors).
 *
 * Lay-out: the training ratings are copied once into the shared memory in block-grid order (see
 * grid.ts): users and movies permuted by the seed, bins × bins blocks, each block sorted by
 * (user, movie). An epoch runs the SGD kernel once over every block, on a pool of worker threads
 * that share that memory, scheduled so that no two running blocks share users or movies
 * (scheduler.ts, LIBMF's FPSGD). Learning rates are multiplied by `decay` after every epoch;
 * validation RMSE is computed by the pool after each epoch, and can stop training early.
 * The deterministic mode runs the same tasks on the calling thread in a seeded order.
 *
 * Memory is planned before any work: the shared memory is sized for the ratings, the factor
 * matrices and the validation ratings, and a problem that cannot fit wasm32's 4 GiB is refused
 * with what would fit.
 */
import { availableParallelism } from "node:os";
import { Engine, type Coo, type FactorModel, type SgdParams } from "../abi/kernels.js";
import { Rng } from "../data/rng.js";
import { DataError } from "../data/types.js";
import type { Arena } from "../abi/arena.js";
import { arrangeGrid, binRowOrder, remapColumn, unpermuteRows, type Grid, type GridColumn } from "./grid.js";
import { layoutArgs } from "./handlers.js";
import { EnginePool } from "./pool.js";
import { runEpoch, StopRequested } from "./scheduler.js";

/** The per-term learning rates and regularization of the kernel (SgdParams), and the run's own settings. */
export interface SgdSettings extends Omit<SgdParams, "mu"> {
  factors: number;
  epochs: number;
  /** Standard deviation of the initial factor values (normal, mean 0). */
  initStd: number;
  /** Learning rates are multiplied by this after each epoch. */
  decay: number;
  seed: number;
}

/** Dense-index ratings (a model's own index space). */
export interface DenseRatings {
  user: Int32Array;
  movie: Int32Array;
  rating: Float32Array;
}

/** The fitted model as views of the training memory: copy what you keep, then drop them. */
export interface SgdResult {
  mu: number;
  stride: number;
  P: Float32Array;
  Q: Float32Array;
  bu: Float32Array;
  bi: Float32Array;
}

export interface SgdCallbacks {
  onEpoch?: (info: { epoch: number; epochs: number; trainRmse: number; validRmse: number | null; seconds: number }) => void;
  /** Ratings to report RMSE on after each epoch; −1 marks ids unknown to the model. */
  valid?: DenseRatings;
  scale: { min: number; max: number };
}

const WASM_LIMIT = 2 ** 32;
/** Target bytes of one block-column of Q: small enough to stay in L2 while a block runs. */
const Q_BLOCK_BYTES = 256 * 1024;

export function strideOf(factors: number): number {
  return Math.ceil(factors / 4) * 4;
}

/** Bytes of shared memory a training run needs (ratings, factors, validation ratings, slack). */
export function plannedBytes(nRatings: number, nUsers: number, nMovies: number, factors: number, nValid = 0): number {
  const stride = strideOf(factors);
  return 12 * nRatings + 4 * (nUsers + nMovies) * (stride + 1) + 12 * nValid + (4 << 20);
}

/**
 * The shared memory a training run needs, checked before any work: a problem that cannot fit
 * wasm32's 4 GiB is refused with what would fit.
 */
export function planMemory(nRatings: number, nUsers: number, nMovies: number, factors: number, nValid = 0): number {
  const bytes = plannedBytes(nRatings, nUsers, nMovies, factors, nValid);
  if (bytes <= WASM_LIMIT) return bytes;
  const perRating = 12;
  const fixed = bytes - perRating * (nRatings + nValid);
  const fits = Math.max(0, Math.floor((WASM_LIMIT - fixed) / perRating));
  throw new DataError(
    `this problem needs ${(bytes / 2 ** 30).toFixed(2)} GiB of engine memory (${nRatings.toLocaleString("en-US")} ratings, ${nUsers.toLocaleString("en-US")} users × ${nMovies.toLocaleString("en-US")} movies at ${factors} factors); WebAssembly (wasm32) allows 4 GiB`,
    fixed >= WASM_LIMIT
      ? `the factor matrices alone need more than 4 GiB at ${factors} factors; use fewer factors`
      : `at ${factors} factors about ${fits.toLocaleString("en-US")} ratings fit; use fewer factors or fewer ratings`,
  );
}

/** The grid size: enough blocks that a block-column of Q stays cache-sized. */
export function binsFor(nMovies: number, stride: number): number {
  return Math.max(1, Math.min(64, Math.ceil((nMovies * Math.max(stride, 4) * 4) / Q_BLOCK_BYTES)));
}

export interface TrainingOptions {
  /**
   * Worker threads; default: the cores, fewer for small problems (see autoThreads), and none (the
   * calling thread) when one is enough.
   */
  threads?: number;
  /** One thread, on the calling thread, fixed seeded block order: bit-identical results for a seed. */
  deterministic?: boolean;
  /** Stop after this many epochs without a better validation RMSE, keeping the best epoch's model (0: off). */
  earlyStop?: number;
  /** With earlyStop and no validation set given: the share of training ratings held out for it. */
  validFraction?: number;
  /** Aborting it stops training between blocks (Ctrl-C); the run then rejects with StopRequested. */
  signal?: AbortSignal;
}

/** Ratings per thread below which another thread costs more than it saves. */
const RATINGS_PER_THREAD = 500_000;

/** The default thread count: every core for large problems, fewer for small ones. */
export function autoThreads(nRatings: number): number {
  return Math.max(1, Math.min(availableParallelism(), Math.floor(nRatings / RATINGS_PER_THREAD)));
}

/**
 * The pool a training run uses: deterministic, or too small for a second thread, runs the tasks on
 * the calling thread; an explicit thread count always gets worker threads.
 */
export function trainingPool(engine: Engine, nRatings: number, opts: TrainingOptions): EnginePool {
  const threads = opts.deterministic ? 1 : opts.threads ?? autoThreads(nRatings);
  const inline = opts.deterministic === true || (opts.threads === undefined && threads === 1);
  return EnginePool.create(engine, { threads, inline });
}

export async function trainSgd(
  nUsers: number,
  nMovies: number,
  all: DenseRatings,
  s: SgdSettings,
  cb: SgdCallbacks,
  opts: TrainingOptions = {},
): Promise<SgdResult> {
  const earlyStop = opts.earlyStop ?? 0;
  let data = all;
  let validData = cb.valid ?? null;
  if (earlyStop > 0 && !validData) {
    const parts = holdOut(all, opts.validFraction ?? 0.02, s.seed);
    data = parts.train;
    validData = parts.valid;
  }
  const n = data.user.length;
  const stride = strideOf(s.factors);
  const nValid = validData?.user.length ?? 0;
  const bytes = planMemory(n, nUsers, nMovies, s.factors, nValid);
  const engine = await Engine.create({ bytes, maximumBytes: bytes });
  const pool = trainingPool(engine, n, opts);
  const { arena } = engine;
  try {
    let sum = 0;
    for (let r = 0; r < n; r++) sum += data.rating[r]!;
    const mu = n ? sum / n : 0;

    // At least (threads+1)² blocks, so a worker always finds a free block.
    const bins = gridBins(nMovies, stride, pool.threads);
    const { coo, grid, userRow, movieRow } = layOutGrid(arena, data, nUsers, nMovies, bins, s.seed);

    const model: FactorModel = {
      nUsers,
      nMovies,
      stride,
      P: arena.zeros("f32", nUsers * stride),
      Q: arena.zeros("f32", nMovies * stride),
      bu: arena.zeros("f32", nUsers),
      bi: arena.zeros("f32", nMovies),
    };
    const rng = new Rng(s.seed ^ 0x5eed);
    initFactors(arena.view(model.P), userRow, stride, s.factors, s.initStd, rng);
    initFactors(arena.view(model.Q), movieRow, stride, s.factors, s.initStd, rng);
    const layout = (c: Coo, len: number) =>
      layoutArgs({
        userPtr: c.user.ptr, moviePtr: c.movie.ptr, ratingPtr: c.rating.ptr, n: len, nUsers, nMovies, stride,
        pPtr: model.P.ptr, qPtr: model.Q.ptr, buPtr: model.bu.ptr, biPtr: model.bi.ptr,
      });
    const trainLayout = layout(coo, n);

    const valid = validData && nValid > 0 ? copyValid(arena, validData, userRow, movieRow) : null;
    const validRmse = async (): Promise<number | null> => {
      if (!valid) return null;
      const args = layout(valid, nValid);
      const parts: Promise<number>[] = [];
      const step = Math.ceil(nValid / pool.threads);
      for (let at = 0; at < nValid; at += step) {
        parts.push(pool.run({ op: "sse", args: [...args, mu, cb.scale.min, cb.scale.max, at, Math.min(nValid, at + step)] }));
      }
      return Math.sqrt((await Promise.all(parts)).reduce((a, b) => a + b, 0) / nValid);
    };

    const lr = [s.lrBu, s.lrBi, s.lrP, s.lrQ];
    const regs = [s.regBu, s.regBi, s.regP, s.regQ];
    let best: { rmse: number; epoch: number; state: Float32Array[] } | null = null;
    const stop = () => opts.signal?.aborted ?? false;
    arena.beginTask();
    try {
      for (let epoch = 1; epoch <= s.epochs; epoch++) {
        const t0 = performance.now();
        const sse = await runEpoch(grid, pool.threads, rng, (start, end) =>
          pool.run({ op: "sgd", args: [...trainLayout, mu, ...lr, ...regs, start, end] }), stop);
        if (!Number.isFinite(sse)) {
          throw new DataError(`training diverged in epoch ${epoch} (the error grew without bound)`, "lower the learning rates (--lr) or raise the regularization (--reg)");
        }
        const vRmse = await validRmse();
        cb.onEpoch?.({ epoch, epochs: s.epochs, trainRmse: Math.sqrt(sse / Math.max(1, n)), validRmse: vRmse, seconds: (performance.now() - t0) / 1000 });
        for (let k = 0; k < 4; k++) lr[k]! *= s.decay;
        if (earlyStop > 0 && vRmse !== null) {
          if (!best || vRmse < best.rmse) {
            best = { rmse: vRmse, epoch, state: [model.P, model.Q, model.bu, model.bi].map((r) => arena.copyOut(r)) };
          } else if (epoch - best.epoch >= earlyStop) {
            break;
          }
        }
        // Let progress bars and signals through between epochs.
        await new Promise((res) => setImmediate(res));
      }
    } finally {
      arena.endTask();
    }
    if (best) [model.P, model.Q, model.bu, model.bi].forEach((r, k) => arena.view(r).set(best!.state[k]!));
    // Back to dense-index order.
    unpermuteRows(arena.view(model.P), stride, userRow);
    unpermuteRows(arena.view(model.Q), stride, movieRow);
    unpermuteRows(arena.view(model.bu), 1, userRow);
    unpermuteRows(arena.view(model.bi), 1, movieRow);
    // Views, not copies: the caller copies what it keeps, and this memory goes when they are dropped.
    return {
      mu,
      stride,
      P: arena.view(model.P),
      Q: arena.view(model.Q),
      bu: arena.view(model.bu),
      bi: arena.view(model.bi),
    };
  } catch (err) {
    throw trainingError(err, pool);
  } finally {
    await pool.destroy();
    engine.close();
  }
}

/**
 * What a failed training run throws: a data error or Ctrl-C as it is, anything else as "training
 * failed" (saying when it came from a worker thread) with the cause attached.
 */
export function trainingError(err: unknown, pool: EnginePool): Error {
  if (err instanceof DataError || err instanceof StopRequested) return err;
  return new Error(`training failed${pool.inline ? "" : " in a worker thread"}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/** The grid size for a run on `threads` threads: cache-sized block columns, and (threads+1)² blocks at least. */
export function gridBins(nMovies: number, stride: number, threads: number): number {
  return Math.max(binsFor(nMovies, stride), threads > 1 ? threads + 1 : 1);
}

/** Training ratings on the block grid in the engine memory (see layOutGrid). */
export interface GridLayout {
  coo: Coo;
  grid: Omit<Grid, "order">;
  /** Each user's (movie's) renumbered row: the rows of a bin are contiguous, bin after bin. */
  userRow: Int32Array;
  movieRow: Int32Array;
  /** bins + 1 offsets: the rows of user bin b are userStart[b] .. userStart[b+1]. */
  userStart: Uint32Array;
}

/**
 * Lays the ratings (and any `extra` per-rating columns) out in grid order straight into the
 * engine's memory, then renumbers users and movies bin by bin (binRowOrder): a block then sweeps
 * P and Q forward.
 */
export function layOutGrid(
  arena: Arena, data: DenseRatings, nUsers: number, nMovies: number, bins: number, seed: number, extra: GridColumn[] = [],
): GridLayout {
  const n = data.user.length;
  const coo: Coo = { user: arena.array("i32", n), movie: arena.array("i32", n), rating: arena.array("f32", n) };
  const grid = arrangeGrid(data.user, data.movie, nUsers, nMovies, bins, seed, [
    [data.user, arena.view(coo.user)],
    [data.movie, arena.view(coo.movie)],
    [data.rating, arena.view(coo.rating)],
    ...extra,
  ]);
  const userRow = binRowOrder(grid.userBin, bins);
  const movieRow = binRowOrder(grid.movieBin, bins);
  remapColumn(arena.view(coo.user), userRow);
  remapColumn(arena.view(coo.movie), movieRow);
  const userStart = new Uint32Array(bins + 1);
  for (const b of grid.userBin) userStart[b + 1]!++;
  for (let b = 0; b < bins; b++) userStart[b + 1]! += userStart[b]!;
  return { coo, grid, userRow, movieRow, userStart };
}

/** Validation ratings copied into the arena with the grid's row numbers; unknown ids (−1) stay −1. */
export function copyValid(arena: Arena, d: DenseRatings, userRow: Int32Array, movieRow: Int32Array): Coo {
  const valid: Coo = { user: arena.copyIn<"i32">(d.user), movie: arena.copyIn<"i32">(d.movie), rating: arena.copyIn<"f32">(d.rating) };
  for (const [col, rows] of [[arena.view(valid.user), userRow], [arena.view(valid.movie), movieRow]] as const) {
    for (let k = 0; k < col.length; k++) if (col[k]! >= 0) col[k] = rows[col[k]!]!;
  }
  return valid;
}

/** A seeded random share of the ratings held out (for early stopping), the rest kept in order. */
function holdOut(d: DenseRatings, fraction: number, seed: number): { train: DenseRatings; valid: DenseRatings } {
  if (!(fraction > 0 && fraction < 1)) throw new DataError(`validFraction must be between 0 and 1 (got ${fraction})`);
  const rng = new Rng(seed ^ 0xea51);
  const n = d.user.length;
  const pick = new Uint8Array(n);
  let nValid = 0;
  for (let r = 0; r < n; r++) if (rng.next() < fraction) (pick[r] = 1), nValid++;
  const take = (want: number, len: number): DenseRatings => {
    const out = { user: new Int32Array(len), movie: new Int32Array(len), rating: new Float32Array(len) };
    for (let r = 0, k = 0; r < n; r++) {
      if (pick[r] !== want) continue;
      out.user[k] = d.user[r]!;
      out.movie[k] = d.movie[r]!;
      out.rating[k++] = d.rating[r]!;
    }
    return out;
  };
  return { train: take(0, n - nValid), valid: take(1, nValid) };
}

/**
 * N(0, std²) in the first `factors` lanes of each row, drawn in dense-index order and written at
 * each entity's renumbered row; the padding lanes stay 0.
 */
export function initFactors(m: Float32Array, rowOf: Int32Array, stride: number, factors: number, std: number, rng: Rng): void {
  for (let x = 0; x < rowOf.length; x++) {
    const base = rowOf[x]! * stride;
    for (let f = 0; f < factors; f++) m[base + f] = std * rng.normal();
  }
}
