/**
 * Biased matrix factorization by SGD on the engine (the `mf` model, and `baseline` with method
 * "sgd", which is the same loop with no factors).
 *
 * Lay-out: the training ratings are copied once into the shared memory in block-grid order (see
 * grid.ts): users and movies permuted by the seed, bins × bins blocks, each block sorted by
 * (user, movie). An epoch visits the blocks in a fresh seeded random order and runs the SGD
 * kernel over each block; learning rates are multiplied by `decay` after every epoch.
 *
 * Memory is planned before any work: the shared memory is sized for the ratings, the factor
 * matrices and the validation ratings, and a problem that cannot fit wasm32's 4 GiB is refused
 * with what would fit.
 */
import { Engine, type Coo, type FactorModel } from "../abi/kernels.js";
import { Rng } from "../data/rng.js";
import { DataError } from "../data/types.js";
import { buildGrid, gatherInto } from "./grid.js";

export interface SgdSettings {
  factors: number;
  epochs: number;
  lrBu: number;
  lrBi: number;
  lrP: number;
  lrQ: number;
  regBu: number;
  regBi: number;
  regP: number;
  regQ: number;
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

/** The grid size: enough blocks that a block-column of Q stays cache-sized. */
export function binsFor(nMovies: number, stride: number): number {
  return Math.max(1, Math.min(64, Math.ceil((nMovies * Math.max(stride, 4) * 4) / Q_BLOCK_BYTES)));
}

export async function trainSgd(
  nUsers: number,
  nMovies: number,
  data: DenseRatings,
  s: SgdSettings,
  cb: SgdCallbacks,
): Promise<SgdResult> {
  const n = data.user.length;
  const stride = strideOf(s.factors);
  const nValid = cb.valid?.user.length ?? 0;
  const bytes = plannedBytes(n, nUsers, nMovies, s.factors, nValid);
  if (bytes > WASM_LIMIT) {
    const perRating = 12;
    const fixed = bytes - perRating * (n + nValid);
    const fits = Math.max(0, Math.floor((WASM_LIMIT - fixed) / perRating));
    throw new DataError(
      `this problem needs ${(bytes / 2 ** 30).toFixed(2)} GiB of engine memory (${n.toLocaleString("en-US")} ratings, ${nUsers.toLocaleString("en-US")} users × ${nMovies.toLocaleString("en-US")} movies at ${s.factors} factors); WebAssembly (wasm32) allows 4 GiB`,
      `at ${s.factors} factors about ${fits.toLocaleString("en-US")} ratings fit; use fewer factors or fewer ratings`,
    );
  }
  const engine = await Engine.create({ bytes, maximumBytes: bytes });
  const { arena } = engine;

  let sum = 0;
  for (let r = 0; r < n; r++) sum += data.rating[r]!;
  const mu = n ? sum / n : 0;

  // Ratings in grid order, straight into the shared memory.
  const bins = binsFor(nMovies, stride);
  const grid = buildGrid(data.user, data.movie, nUsers, nMovies, bins, s.seed);
  const coo: Coo = { user: arena.array("i32", n), movie: arena.array("i32", n), rating: arena.array("f32", n) };
  gatherInto(data.user, grid.order, arena.view(coo.user));
  gatherInto(data.movie, grid.order, arena.view(coo.movie));
  gatherInto(data.rating, grid.order, arena.view(coo.rating));

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
  initFactors(arena.view(model.P), nUsers, stride, s.factors, s.initStd, rng);
  initFactors(arena.view(model.Q), nMovies, stride, s.factors, s.initStd, rng);

  let valid: Coo | null = null;
  if (cb.valid && nValid > 0) {
    valid = { user: arena.copyIn(cb.valid.user), movie: arena.copyIn(cb.valid.movie), rating: arena.copyIn(cb.valid.rating) };
  }

  const lr = { lrBu: s.lrBu, lrBi: s.lrBi, lrP: s.lrP, lrQ: s.lrQ };
  const nBlocks = bins * bins;
  for (let epoch = 1; epoch <= s.epochs; epoch++) {
    const t0 = performance.now();
    let sse = 0;
    for (const b of rng.permutation(nBlocks)) {
      const start = grid.blockStart[b]!;
      const end = grid.blockStart[b + 1]!;
      if (end === start) continue;
      sse += engine.sgdEpoch(coo, model, { mu, ...lr, regBu: s.regBu, regBi: s.regBi, regP: s.regP, regQ: s.regQ }, { start, end });
    }
    if (!Number.isFinite(sse)) {
      throw new DataError(`training diverged in epoch ${epoch} (the error grew without bound)`, "lower the learning rates (--lr) or raise the regularization (--reg)");
    }
    const validRmse = valid ? Math.sqrt(engine.sse(valid, model, { mu, lo: cb.scale.min, hi: cb.scale.max }) / nValid) : null;
    cb.onEpoch?.({ epoch, epochs: s.epochs, trainRmse: Math.sqrt(sse / Math.max(1, n)), validRmse, seconds: (performance.now() - t0) / 1000 });
    lr.lrBu *= s.decay;
    lr.lrBi *= s.decay;
    lr.lrP *= s.decay;
    lr.lrQ *= s.decay;
    // Let progress bars and signals through between epochs.
    await new Promise((res) => setImmediate(res));
  }
  const result = {
    mu,
    stride,
    P: arena.copyOut(model.P),
    Q: arena.copyOut(model.Q),
    bu: arena.copyOut(model.bu),
    bi: arena.copyOut(model.bi),
  };
  engine.close();
  return result;
}

/** N(0, std²) in the first `factors` lanes of each row; the padding lanes stay 0. */
function initFactors(m: Float32Array, rows: number, stride: number, factors: number, std: number, rng: Rng): void {
  for (let r = 0; r < rows; r++) {
    const base = r * stride;
    for (let f = 0; f < factors; f++) m[base + f] = std * rng.normal();
  }
}
