/**
 * SVD++ (Koren, KDD 2008, "Factorization meets the neighborhood: a multifaceted collaborative
 * filtering model", eq. 15; Surprise's SVDpp): biased matrix factorization whose user vector is
 * completed by the implicit feedback of which movies the user rated,
 *
 *   r̂(u,i) = μ + b_u + b_i + q_i·(p_u + |N(u)|^−½ Σ_{j∈N(u)} y_j),   N(u) = the movies u rated,
 *
 * minimizing Σ (r − r̂)² + regBu·b_u² + regBi·b_i² + regP·‖p_u‖² + regQ·‖q_i‖² + regY·Σ‖y_j‖² by SGD.
 *
 * Training runs on the parallel engine, on LIBMF's block grid as mf does (assembly/svdpp.ts,
 * assembly/implicit.ts), with the paper's per-rating updates — including, after every rating,
 * y_j ← y_j + lrY·(e·|N(u)|^−½·q_i − regY·y_j) for every j ∈ N(u) — but without their
 * O(|N(u)|·k) cost per rating: those updates move the implicit sum z_u by a closed form
 * (z ← (1 − lrY·regY)·z + lrY·e·q_i), so the block kernel keeps z_u current rating by rating, and
 * each y_j is written once per wave of user bins with the accumulated effect of that wave's users
 * (implicitWaves: at least Y_SYNCS_PER_EPOCH waves per epoch). Within a wave, z_u starts from Y as
 * the wave starts, where the paper's SGD moves y_j after each user; test/abi/svdpp.test.ts checks
 * the kernels against a literal per-rating reference with that deferral, and on the MovieLens 100K
 * folds both reach a mean RMSE of 0.899–0.900. Every pass writes rows its task owns
 * (user bins, blocks, movie bins), so workers share the one memory without locks; the
 * deterministic mode runs the same tasks on the calling thread and gives the same bits for a seed.
 * Learning rates are multiplied by `decay` after each epoch. The defaults were chosen on a random
 * 20% validation part of the MovieLens 100K training folds (never their test files).
 *
 * Prediction uses the user vectors U_u = p_u + z_u (svdppUserVectors) in the biased-MF scorer.
 * Unknown users fall back to μ + b_i, unknown movies to μ + b_u.
 */
import type { Region } from "../abi/arena.js";
import { Engine, type SvdppModel } from "../abi/kernels.js";
import { Rng } from "../data/rng.js";
import { holdOut } from "../data/split.js";
import { DataError, type Dataset } from "../data/types.js";
import { gatherInto, MAX_BINS, unpermuteRows } from "../engine/grid.js";
import { layoutArgs } from "../engine/handlers.js";
import { ImplicitGrid, implicitBytes } from "../engine/implicit-grid.js";
import {
  copyValid, gridBins, initFactors, layOutGrid, strideOf, trainingError, trainingPool, type DenseRatings, type SgdCallbacks, type TrainingOptions,
} from "../engine/trainer.js";
import { FactorScorer, ScoredFactorModel } from "./factors.js";
import type { ArrayData } from "./io.js";
import type { FitOptions } from "./model.js";
import type { ParamSpec } from "./params.js";

/** Parameters every SGD factor model of this family shares (factors, epochs, init, decay, seed). */
export function factorParams(defaults: { factors: number; epochs: number; initStd: number; decay: number }): ParamSpec[] {
  return [
    { name: "factors", kind: "int", default: defaults.factors, min: 1, max: 4096, probe: 20, help: "latent factors per user and movie" },
    { name: "epochs", kind: "int", default: defaults.epochs, min: 1, max: 10_000, probe: 7, help: "passes over the ratings" },
    { name: "initStd", kind: "float", default: defaults.initStd, min: 0, help: "standard deviation of the initial factors" },
    { name: "decay", kind: "float", default: defaults.decay, min: 0, minExclusive: true, max: 1, probe: 0.8, help: "learning-rate multiplier per epoch" },
    { name: "seed", kind: "int", default: 1, min: 0, max: 2 ** 32 - 1, help: "random seed (initial factors, rating order)" },
  ];
}

/** A learning rate and a regularization for one term, inheriting `lr` / `reg` unless a default is given. */
export function termParams(term: string, what: string, defaults: { lr?: number; reg?: number } = {}): ParamSpec[] {
  const lr: ParamSpec = defaults.lr === undefined
    ? { name: `lr${term}`, kind: "float", inherits: "lr", default: 0, min: 0, max: 1, help: `learning rate of ${what}` }
    : { name: `lr${term}`, kind: "float", default: defaults.lr, min: 0, max: 1, probe: defaults.lr * 4 || 0.001, help: `learning rate of ${what}` };
  const reg: ParamSpec = defaults.reg === undefined
    ? { name: `reg${term}`, kind: "float", inherits: "reg", default: 0, min: 0, help: `regularization of ${what}` }
    : { name: `reg${term}`, kind: "float", default: defaults.reg, min: 0, probe: defaults.reg * 4 || 0.1, help: `regularization of ${what}` };
  return [lr, reg];
}

export const SVDPP_PARAMS: ParamSpec[] = [
  ...factorParams({ factors: 50, epochs: 60, initStd: 0.02, decay: 0.98 }),
  { name: "lr", kind: "float", default: 0.01, min: 0, minExclusive: true, max: 1, help: "learning rate of the biases and factors (y_j: lrY)" },
  { name: "reg", kind: "float", default: 0.08, min: 0, help: "regularization of the biases and factors (y_j: regY)" },
  ...termParams("Bu", "user biases"),
  ...termParams("Bi", "movie biases"),
  ...termParams("P", "user factors"),
  ...termParams("Q", "movie factors"),
  // The implicit factors want a smaller step and far less shrinkage than the others.
  ...termParams("Y", "implicit movie factors y_j", { lr: 0.002, reg: 0.01 }),
];

export interface SvdppSettings {
  factors: number;
  epochs: number;
  lrBu: number;
  lrBi: number;
  lrP: number;
  lrQ: number;
  lrY: number;
  regBu: number;
  regBi: number;
  regP: number;
  regQ: number;
  regY: number;
  initStd: number;
  decay: number;
  seed: number;
}

export interface SvdppArrays {
  mu: number;
  stride: number;
  P: Float32Array;
  Q: Float32Array;
  Y: Float32Array;
  bu: Float32Array;
  bi: Float32Array;
}

export class SVDpp extends ScoredFactorModel {
  readonly algo = "svdpp";
  private arrays: SvdppArrays | null = null;

  spec() {
    return { algo: "svdpp", description: "SVD++: biased MF with implicit feedback from the movies each user rated (Koren 2008)", params: SVDPP_PARAMS };
  }

  protected async fitDense(train: Dataset, opts: FitOptions): Promise<void> {
    const p = this.params as Record<string, number>;
    const { run, fit, valid } = runControl(train, opts, p.seed!);
    this.arrays = await trainSvdpp(
      train.users.length,
      train.movies.length,
      fit.ratings,
      {
        factors: p.factors!, epochs: p.epochs!,
        lrBu: p.lrBu!, lrBi: p.lrBi!, lrP: p.lrP!, lrQ: p.lrQ!, lrY: p.lrY!,
        regBu: p.regBu!, regBi: p.regBi!, regP: p.regP!, regQ: p.regQ!, regY: p.regY!,
        initStd: p.initStd!, decay: p.decay!, seed: p.seed!,
      },
      { onEpoch: opts.onEpoch, valid: this.validRatings({ valid }), scale: this.ratingScale },
      run,
    );
    await this.prepare(seenLists(train));
  }

  /** After load: N(u) from the seen lists the model keeps (the same lists, in the same order, as on fit). */
  override async ready(): Promise<void> {
    const { seenPtr, seenIdx } = this.context();
    await this.prepare({ ptr: seenPtr, idx: seenIdx });
  }

  private async prepare(implicit: { ptr: Int32Array; idx: Int32Array }): Promise<void> {
    const a = this.arrays!;
    const U = await userVectors(a, implicit);
    this.setScorer(await FactorScorer.create({ mu: a.mu, stride: a.stride, P: U, Q: a.Q, bu: a.bu, bi: a.bi }));
  }

  protected movieFactors() {
    return this.arrays!;
  }

  protected state() {
    const a = this.arrays!;
    return { arrays: { P: a.P, Q: a.Q, Y: a.Y, bu: a.bu, bi: a.bi } as Record<string, ArrayData>, scalars: { mu: a.mu, stride: a.stride } };
  }

  protected restore(arrays: Record<string, ArrayData>, scalars: Record<string, number>): void {
    this.arrays = {
      mu: scalars.mu!,
      stride: scalars.stride!,
      P: arrays.P as Float32Array,
      Q: arrays.Q as Float32Array,
      Y: arrays.Y as Float32Array,
      bu: arrays.bu as Float32Array,
      bi: arrays.bi as Float32Array,
    };
  }
}

const WASM_LIMIT = 2 ** 32;

/** Refuses, before any work, a problem whose engine memory would not fit wasm32's 4 GiB. */
export function checkFits(bytes: number, what: string): void {
  if (bytes <= WASM_LIMIT) return;
  throw new DataError(
    `this problem needs ${(bytes / 2 ** 30).toFixed(2)} GiB of engine memory (${what}); WebAssembly (wasm32) allows 4 GiB`,
    "use fewer factors or fewer ratings",
  );
}

/** Trains SVD++ on the block grid and the engine pool (see the file header); returns the fitted arrays. */
export async function trainSvdpp(
  nUsers: number,
  nMovies: number,
  data: DenseRatings,
  s: SvdppSettings,
  cb: SgdCallbacks,
  run: RunControl = { earlyStop: 0 },
): Promise<SvdppArrays> {
  const n = data.user.length;
  const stride = strideOf(s.factors);
  const nValid = cb.valid?.user.length ?? 0;
  const rows = 4 * stride * (nUsers * (nValid > 0 ? 2 : 1) + 2 * nMovies);
  const bytes = 12 * n + rows + 4 * (nUsers + nMovies) + implicitBytes(nUsers, stride) + 12 * nValid + (4 << 20);
  checkFits(bytes, `${n.toLocaleString("en-US")} ratings, ${nUsers.toLocaleString("en-US")} users × ${nMovies.toLocaleString("en-US")} movies at ${s.factors} factors`);
  const engine = await Engine.create({ bytes, maximumBytes: bytes });
  const pool = trainingPool(engine, n, run);
  try {
    const { arena } = engine;
    const mu = meanOf(data.rating);
    const { bins, waves } = implicitWaves(nMovies, stride, pool.threads);
    const grid = layOutGrid(arena, data, nUsers, nMovies, bins, s.seed);
    const { userRow, movieRow } = grid;
    const model: SvdppModel = {
      nUsers, nMovies, stride,
      P: arena.zeros("f32", nUsers * stride),
      Q: arena.zeros("f32", nMovies * stride),
      Y: arena.zeros("f32", nMovies * stride),
      bu: arena.zeros("f32", nUsers),
      bi: arena.zeros("f32", nMovies),
    };
    const rng = new Rng(s.seed ^ 0x5eed);
    initFactors(arena.view(model.P), userRow, stride, s.factors, s.initStd, rng);
    initFactors(arena.view(model.Q), movieRow, stride, s.factors, s.initStd, rng);
    initFactors(arena.view(model.Y), movieRow, stride, s.factors, s.initStd, rng);
    const implicit = ImplicitGrid.allocate(pool, arena, grid, nMovies, stride, model.Y, model.P);
    const trainLayout = layoutArgs({
      userPtr: grid.coo.user.ptr, moviePtr: grid.coo.movie.ptr, ratingPtr: grid.coo.rating.ptr, n, nUsers, nMovies, stride,
      pPtr: model.P.ptr, qPtr: model.Q.ptr, buPtr: model.bu.ptr, biPtr: model.bi.ptr,
    });
    const valid = cb.valid && nValid > 0 ? { ...copyValid(arena, cb.valid, userRow, movieRow), U: arena.array("f32", nUsers * stride) } : null;
    const validRmse = (): number | null =>
      valid && Math.sqrt(engine.sse(valid, { ...model, P: valid.U }, { mu, lo: cb.scale.min, hi: cb.scale.max }) / nValid);

    const lr = [s.lrBu, s.lrBi, s.lrP, s.lrQ, s.lrY];
    const regs = [s.regBu, s.regBi, s.regP, s.regQ, s.regY];
    const best = new BestEpoch(engine, [model.P, model.Q, model.Y, model.bu, model.bi], run.earlyStop);
    const stop = () => run.signal?.aborted ?? false;
    for (let epoch = 1; epoch <= s.epochs; epoch++) {
      const t0 = performance.now();
      const sse = await implicit.epoch(waves, rng, (start, end) =>
        pool.run({ op: "svdppBlock", args: [...trainLayout, implicit.Z.ptr, mu, ...lr, ...regs, start, end] }), stop, lr[4]!, regs[4]!);
      checkFinite(sse, epoch);
      if (valid) await implicit.sums(null, valid.U);
      const vRmse = validRmse();
      cb.onEpoch?.({ epoch, epochs: s.epochs, trainRmse: Math.sqrt(sse / Math.max(1, n)), validRmse: vRmse, seconds: (performance.now() - t0) / 1000 });
      if (best.stop(epoch, vRmse)) break;
      for (let k = 0; k < lr.length; k++) lr[k]! *= s.decay;
      await new Promise((res) => setImmediate(res));
    }
    best.restore();
    // Back to dense-index order.
    for (const m of [model.P, model.bu]) unpermuteRows(arena.view(m), m === model.P ? stride : 1, userRow);
    for (const m of [model.Q, model.Y, model.bi]) unpermuteRows(arena.view(m), m === model.bi ? 1 : stride, movieRow);
    return {
      mu,
      stride,
      P: arena.copyOut(model.P),
      Q: arena.copyOut(model.Q),
      Y: arena.copyOut(model.Y),
      bu: arena.copyOut(model.bu),
      bi: arena.copyOut(model.bi),
    };
  } catch (err) {
    throw trainingError(err, pool);
  } finally {
    await pool.destroy();
    engine.close();
  }
}

/** How many times per epoch the implicit factors Y are brought up to date (see implicitWaves). */
export const Y_SYNCS_PER_EPOCH = 8;

/**
 * The grid of an implicit-feedback model and its waves: groups of user bins run one after the
 * other, each wave's z_u computed from Y just before its blocks and its y_j steps applied just
 * after. Within a wave, y_j moves once for all the wave's users; more waves bring the result
 * closer to moving it after every user, as the paper's SGD does, and keep the batched step of a
 * movie rated by very many users small enough to converge. A wave holds threads + 1 user bins,
 * so the block scheduler always finds a free block for every thread.
 */
export function implicitWaves(nMovies: number, stride: number, threads: number): { bins: number; waves: number[][] } {
  const perWave = threads > 1 ? threads + 1 : 1;
  const bins = Math.min(MAX_BINS, Math.max(gridBins(nMovies, stride, threads), Y_SYNCS_PER_EPOCH * perWave));
  const waves: number[][] = [];
  for (let r = 0; r < bins; r += perWave) waves.push(Array.from({ length: Math.min(perWave, bins - r) }, (_, k) => r + k));
  return { bins, waves };
}

/** What a training loop honours of FitOptions: threads, Ctrl-C, and early stopping on the validation ratings. */
export interface RunControl extends Pick<TrainingOptions, "threads" | "deterministic"> {
  signal?: AbortSignal;
  /** Stop after this many epochs without a better validation RMSE, keeping the best epoch (0: off). */
  earlyStop: number;
}

/**
 * RunControl from FitOptions, and the ratings a run fits and validates on: FitOptions.valid, or —
 * with early stopping and none given — a seeded random share (validFraction, default 0.02) of the
 * training ratings held out for validation, as mf does.
 */
export function runControl(train: Dataset, opts: FitOptions, seed: number): { run: RunControl; fit: Dataset; valid: Dataset | undefined } {
  const earlyStop = opts.earlyStop ?? 0;
  const run = { signal: opts.signal, earlyStop, threads: opts.threads, deterministic: opts.deterministic };
  if (earlyStop <= 0 || opts.valid) return { run, fit: train, valid: opts.valid };
  const { train: fit, valid } = holdOut(train, opts.validFraction ?? 0.02, seed);
  return { run, fit, valid };
}

/**
 * Early stopping: remembers the model regions at the epoch with the best validation RMSE, says
 * when `patience` epochs have passed without a better one, and puts the best epoch back.
 */
export class BestEpoch {
  private best: { rmse: number; epoch: number; state: Float32Array[] } | null = null;

  constructor(private readonly engine: Engine, private readonly regions: Region<"f32">[], private readonly patience: number) {}

  /** Records this epoch's validation RMSE; true when training should stop. */
  stop(epoch: number, validRmse: number | null): boolean {
    if (this.patience <= 0 || validRmse === null) return false;
    if (!this.best || validRmse < this.best.rmse) {
      this.best = { rmse: validRmse, epoch, state: this.regions.map((r) => this.engine.arena.copyOut(r)) };
      return false;
    }
    return epoch - this.best.epoch >= this.patience;
  }

  /** Puts the best epoch's state back into the regions (nothing without early stopping). */
  restore(): void {
    this.best?.state.forEach((x, k) => this.engine.arena.view(this.regions[k]!).set(x));
  }
}

export function checkFinite(sse: number, epoch: number): void {
  if (!Number.isFinite(sse)) {
    throw new DataError(`training diverged in epoch ${epoch} (the error grew without bound)`, "lower the learning rates (--lr) or raise the regularization (--reg)");
  }
}

export function meanOf(values: Float32Array): number {
  let sum = 0;
  for (let r = 0; r < values.length; r++) sum += values[r]!;
  return values.length ? sum / values.length : 0;
}

/**
 * Ratings grouped by user: ptr (nUsers + 1 CSR offsets) and order, the rating indices row by row,
 * by a stable counting sort (each user's ratings in dataset order).
 */
export function byUser(user: Int32Array, nUsers: number): { ptr: Int32Array; order: Uint32Array } {
  const ptr = new Int32Array(nUsers + 1);
  for (let r = 0; r < user.length; r++) ptr[user[r]! + 1]!++;
  for (let u = 0; u < nUsers; u++) ptr[u + 1]! += ptr[u]!;
  const next = ptr.slice(0, nUsers);
  const order = new Uint32Array(user.length);
  for (let r = 0; r < user.length; r++) order[next[user[r]!]!++] = r;
  return { ptr, order };
}

/** Each user's rated movies in dataset order: the model's seen lists (Model's context), as N(u). */
export function seenLists(train: Dataset): { ptr: Int32Array; idx: Int32Array } {
  const { user, movie } = train.ratings;
  const { ptr, order } = byUser(user, train.users.length);
  return { ptr, idx: gatherInto(movie, order, new Int32Array(order.length)) };
}

/** U_u = p_u + |N(u)|^−½ Σ_{j∈N(u)} y_j for every user, computed by the engine. */
export async function userVectors(
  a: { stride: number; P: Float32Array; Y: Float32Array },
  implicit: { ptr: Int32Array; idx: Int32Array },
): Promise<Float32Array> {
  const nUsers = implicit.ptr.length - 1;
  const nMovies = a.stride ? a.Y.length / a.stride : 0;
  const bytes = 4 * (2 * a.P.length + a.Y.length + implicit.ptr.length + implicit.idx.length) + (1 << 20);
  const engine = await Engine.create({ bytes, maximumBytes: bytes });
  try {
    const { arena } = engine;
    const U = arena.array("f32", a.P.length);
    const model = { nUsers, nMovies, stride: a.stride, P: arena.copyIn(a.P), Y: arena.copyIn(a.Y) };
    engine.svdppUserVectors({ ptr: arena.copyIn(implicit.ptr), idx: arena.copyIn(implicit.idx) }, model, U);
    return arena.copyOut(U);
  } finally {
    engine.close();
  }
}
