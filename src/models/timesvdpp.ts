/**
 * timeSVD++ (Koren, KDD 2009, "Collaborative filtering with temporal dynamics", eq. 11 with the
 * biases of eq. 10 and the user-factor drift of section 4.2): SVD++ whose biases, scale and user
 * factors move with the day t of the rating,
 *
 *   r̂(u,i,t) = μ + b_u + α_u·dev_u(t) + b_{u,t} + (b_i + b_{i,Bin(t)})·(c_u + c_{u,t})
 *              + q_i·(p_u + α_pu·dev_u(t) + |N(u)|^−½ Σ_{j∈N(u)} y_j)
 *
 *   dev_u(t) = sign(t − t_u)·|t − t_u|^β     t_u = the mean day of u's training ratings
 *   Bin(t)   = the day's bin among `bins` equal bins over the training days
 *   b_{u,t}, c_{u,t}: one value per (user, day) present in the training data; c_u starts at 1
 *   and is regularized towards 1.
 *
 * Training runs on the parallel engine exactly as SVD++ does (see svdpp.ts): the ratings, each
 * with its user-day index, are laid out on LIBMF's block grid; every epoch goes through the waves
 * of user bins (implicitWaves), each wave computing z_u = |N(u)|^−½ Σ y_j for its users, running
 * its blocks on the worker pool (assembly/timesvdpp.ts: the per-rating updates of every term, z_u
 * kept current rating by rating in closed form), then moving each y_j once with the accumulated
 * effect of the wave's per-rating y_j updates (the deferred y-step of assembly/implicit.ts).
 * A block writes the per-user terms (p_u, α_pu, b_u, α_u, c_u, and b_{u,t}, c_{u,t} of the users'
 * own days) of its users and the per-movie terms (q_i, b_i, b_{i,Bin}) of its movies only, so
 * blocks that share no bin run at once without locks; the deterministic mode runs the same tasks
 * on the calling thread and gives the same bits for a seed. Learning rates decay by `decay` per
 * epoch (BellKor: 0.9). Each term has its own learning rate and regularization: the biases and
 * factors shared with SVD++ inherit `lr` / `reg`, the time terms and y_j have their own defaults,
 * chosen (like everything else) on a random 20% validation part of the MovieLens 100K training
 * folds, never their test files.
 *
 * The day of a prediction: predictDataset uses each rating's day (what evaluation uses);
 * predict/predictOne/recommend, which have no day, use the user's last training day. A day the
 * user has no training ratings on has b_{u,t} = c_{u,t} = 0; days outside the training range fall
 * in the first or last bin. Unknown users fall back to μ + b_i + b_{i,Bin(t)} (the latest bin
 * without a day), unknown movies to μ + b_u + α_u·dev_u(t) + b_{u,t}.
 */
import type { Arena } from "../abi/arena.js";
import {
  Engine, TIME_SVDPP_HYPER_LENGTH, timeSvdppHyper, type TimePairs, type TimeSvdppModel, type TimeSvdppParams, type TimeSvdppPredictor,
} from "../abi/kernels.js";
import { Rng } from "../data/rng.js";
import type { Dataset } from "../data/types.js";
import { unpermuteRows } from "../engine/grid.js";
import { ImplicitGrid, implicitBytes } from "../engine/implicit-grid.js";
import { timeSvdppBlockTask, type TimeSvdppLayout } from "../engine/timesvdpp-tasks.js";
import { copyValid, initFactors, layOutGrid, strideOf, trainingError, trainingPool, type GridLayout, type SgdCallbacks } from "../engine/trainer.js";
import type { ArrayData } from "./io.js";
import { Model, type FitOptions } from "./model.js";
import type { ParamSpec } from "./params.js";
import {
  BestEpoch, byUser, checkFinite, checkFits, factorParams, implicitWaves, meanOf, runControl, seenLists, termParams, userVectors, type RunControl,
} from "./svdpp.js";
import { cosineRow, rowNorms } from "./factors.js";

export const TIMESVDPP_PARAMS: ParamSpec[] = [
  ...factorParams({ factors: 50, epochs: 60, initStd: 0.02, decay: 0.98 }),
  { name: "lr", kind: "float", default: 0.01, min: 0, minExclusive: true, max: 1, help: "learning rate of b_u, b_i, p_u, q_i" },
  { name: "reg", kind: "float", default: 0.08, min: 0, help: "regularization of b_u, b_i, p_u, q_i" },
  { name: "bins", kind: "int", default: 30, min: 1, max: 10_000, probe: 5, help: "time bins of the movie biases b_{i,Bin(t)} over the training days" },
  { name: "beta", kind: "float", default: 0.4, min: 0, max: 2, probe: 1, help: "exponent β of the drift dev_u(t) = sign(t − t_u)·|t − t_u|^β" },
  ...termParams("Bu", "user biases b_u"),
  ...termParams("Bi", "movie biases b_i"),
  ...termParams("P", "user factors p_u"),
  ...termParams("Q", "movie factors q_i"),
  ...termParams("Y", "implicit movie factors y_j", { lr: 0.002, reg: 0.01 }),
  ...termParams("Alpha", "user bias drift α_u", { lr: 0.0001, reg: 1 }),
  ...termParams("But", "per-day user biases b_{u,t}", { lr: 0.002, reg: 0.01 }),
  ...termParams("BiBin", "time-binned movie biases b_{i,Bin(t)}", { lr: 0.0005, reg: 1 }),
  ...termParams("Cu", "user scales c_u (regularized towards 1)", { lr: 0.005, reg: 0.05 }),
  ...termParams("Cut", "per-day user scales c_{u,t}", { lr: 0.002, reg: 0.02 }),
  ...termParams("AlphaP", "user factor drift α_pu", { lr: 0.00005, reg: 0.1 }),
];

/** The fitted arrays (see TimeSvdppModel in src/abi/kernels.ts) and the day tables. */
interface TimeArrays {
  mu: number;
  stride: number;
  nBins: number;
  /** First and last training day (days since 1970-01-01): the range the bins cut. */
  dayMin: number;
  dayMax: number;
  P: Float32Array;
  AP: Float32Array;
  Q: Float32Array;
  Y: Float32Array;
  bu: Float32Array;
  alpha: Float32Array;
  cu: Float32Array;
  bi: Float32Array;
  biBin: Float32Array;
  but: Float32Array;
  cut: Float32Array;
  /** User-day index: user u's training days, sorted, are days.day[days.ptr[u] .. days.ptr[u+1]). */
  dayPtr: Int32Array;
  dayList: Int32Array;
  /** t_u: the mean day of each user's training ratings. */
  meanDay: Float64Array;
}

/** A clipping range wide enough to leave ranking scores as they are. */
const UNCLIPPED = { min: -3.4e38, max: 3.4e38 };

const PARAM_ARRAYS = ["P", "AP", "Q", "Y", "bu", "alpha", "cu", "bi", "biBin", "but", "cut"] as const;
const SCALARS = ["mu", "stride", "nBins", "dayMin", "dayMax"] as const;

export class TimeSVDpp extends Model {
  readonly algo = "timesvdpp";
  private arrays: TimeArrays | null = null;
  private scorer: TimeScorer | null = null;
  private qNorms: Float32Array | null = null;

  spec() {
    return {
      algo: "timesvdpp",
      description: "timeSVD++: SVD++ with drifting user biases, per-day user biases and scales, time-binned movie biases and user factor drift (Koren 2009)",
      params: TIMESVDPP_PARAMS,
    };
  }

  protected async fitDense(train: Dataset, opts: FitOptions): Promise<void> {
    const params = this.params as Record<string, number>;
    const { run, fit, valid: held } = runControl(train, opts, params.seed!);
    const valid = held ? { ...this.alignIds(held), rating: held.ratings.rating, day: held.ratings.day } : undefined;
    this.arrays = await trainTimeSvdpp(fit, params, { onEpoch: opts.onEpoch, scale: this.ratingScale }, valid, run);
    await this.prepare(seenLists(train));
  }

  /** After load: N(u) from the seen lists the model keeps (the same lists, in the same order, as on fit). */
  override async ready(): Promise<void> {
    const { seenPtr, seenIdx } = this.context();
    await this.prepare({ ptr: seenPtr, idx: seenIdx });
  }

  private async prepare(implicit: { ptr: Int32Array; idx: Int32Array }): Promise<void> {
    this.qNorms = null;
    this.scorer = await TimeScorer.create(this.arrays!, await userVectors(this.arrays!, implicit));
  }

  /** Estimates on each user's last training day (no day is given). */
  predictDense(u: Int32Array, i: Int32Array, out: Float32Array): void {
    out.set(this.scorer!.predict(this.lastDayPairs(u, i), this.ratingScale));
  }

  /** Unclipped scores of every movie on the user's last training day (a ranking score). */
  override scoreUser(u: number, out: Float32Array): void {
    const i = Int32Array.from(out, (_, k) => k);
    out.set(this.scorer!.predict(this.lastDayPairs(new Int32Array(out.length).fill(u), i), UNCLIPPED));
  }

  /** Pairs dated on each user's last training day (the last training day overall for unknown users). */
  private lastDayPairs(u: Int32Array, i: Int32Array): TimePairs {
    const a = this.arrays!;
    const day = Int32Array.from(u, (x) => (x >= 0 && a.dayPtr[x + 1]! > a.dayPtr[x]! ? a.dayList[a.dayPtr[x + 1]! - 1]! : a.dayMax));
    return timePairs(a, u, i, day, this.params.beta as number);
  }

  /** Estimates on the day of each rating of `ds`. */
  override predictDataset(ds: Dataset): Float32Array {
    const { u, i } = this.alignIds(ds);
    return this.scorer!.predict(timePairs(this.arrays!, u, i, ds.ratings.day, this.params.beta as number), this.ratingScale);
  }

  /** Cosine similarity of movie factors q_i · q_j / (‖q_i‖ ‖q_j‖) (0 for a zero vector). */
  protected override similarityRow(i: number, out: Float32Array): void {
    const { Q, stride } = this.arrays!;
    this.qNorms ??= rowNorms(Q, stride);
    cosineRow(Q, stride, this.qNorms, i, out);
  }

  protected override fallbackText(userKnown: boolean, movieKnown: boolean): string {
    if (!userKnown && !movieKnown) return "estimated by the global mean μ";
    return userKnown
      ? "estimated by μ + b_u + α_u·dev_u(t) + b_{u,t} (no movie terms)"
      : "estimated by μ + b_i + b_{i,Bin(t)} (the movie's baseline)";
  }

  protected state() {
    const a = this.arrays!;
    const arrays: Record<string, ArrayData> = { dayPtr: a.dayPtr, dayList: a.dayList, meanDay: a.meanDay };
    for (const k of PARAM_ARRAYS) arrays[k] = a[k];
    return { arrays, scalars: Object.fromEntries(SCALARS.map((k) => [k, a[k]])) };
  }

  protected restore(arrays: Record<string, ArrayData>, scalars: Record<string, number>): void {
    const a = { dayPtr: arrays.dayPtr, dayList: arrays.dayList, meanDay: arrays.meanDay } as Partial<TimeArrays>;
    for (const k of PARAM_ARRAYS) a[k] = arrays[k] as Float32Array;
    for (const k of SCALARS) a[k] = scalars[k]!;
    this.arrays = a as TimeArrays;
  }
}

/** The user-day index of a rating set: each user's sorted distinct days, and each rating's index. */
function dayIndex(user: Int32Array, day: Int32Array, nUsers: number): { dayPtr: Int32Array; dayList: Int32Array; ratingDay: Int32Array; meanDay: Float64Array } {
  const { ptr, order } = byUser(user, nUsers);
  const dayPtr = new Int32Array(nUsers + 1);
  const list = new Int32Array(user.length);
  const ratingDay = new Int32Array(user.length);
  const meanDay = new Float64Array(nUsers);
  let nDays = 0;
  for (let u = 0; u < nUsers; u++) {
    const rows = order.subarray(ptr[u]!, ptr[u + 1]!);
    const days = Int32Array.from(rows, (r) => day[r]!).sort();
    let sum = 0;
    for (let k = 0; k < days.length; k++) {
      sum += days[k]!;
      if (k === 0 || days[k] !== days[k - 1]) list[nDays++] = days[k]!;
    }
    dayPtr[u + 1] = nDays;
    meanDay[u] = days.length ? sum / days.length : 0;
    for (const r of rows) ratingDay[r] = lowerBound(list, day[r]!, dayPtr[u]!, nDays);
  }
  return { dayPtr, dayList: list.slice(0, nDays), ratingDay, meanDay };
}

/** First index k of sorted `a` with a[k] ≥ x (a.length when none). */
function lowerBound(a: Int32Array, x: number, from = 0, to = a.length): number {
  let lo = from, hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The bin of a day among nBins equal bins over [dayMin, dayMax]; days outside fall in the end bins. */
function binOf(day: number, a: Pick<TimeArrays, "nBins" | "dayMin" | "dayMax">): number {
  const bin = Math.floor(((day - a.dayMin) * a.nBins) / (a.dayMax - a.dayMin + 1));
  return Math.min(a.nBins - 1, Math.max(0, bin));
}

/** dev_u(t) = sign(t − t_u)·|t − t_u|^β. */
function devOf(day: number, meanDay: number, beta: number): number {
  const d = day - meanDay;
  return Math.sign(d) * Math.abs(d) ** beta;
}

/** What turns a day into the kernel's columns: the bins' range and the user-day index. */
type DayTables = Pick<TimeArrays, "nBins" | "dayMin" | "dayMax" | "dayPtr" | "dayList" | "meanDay">;

/** The kernel's pair columns for (u, i, day): user-day index (−1 if u has no rating that day), bin, dev. */
function timePairs(a: DayTables, u: Int32Array, i: Int32Array, day: Int32Array, beta: number): TimePairs {
  const n = u.length;
  const ud = new Int32Array(n);
  const bin = new Int32Array(n);
  const dev = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const x = u[k]!;
    const t = day[k]!;
    bin[k] = binOf(t, a);
    if (x < 0 || a.dayPtr[x + 1] === a.dayPtr[x]) {
      ud[k] = -1;
      continue;
    }
    const at = lowerBound(a.dayList, t, a.dayPtr[x]!, a.dayPtr[x + 1]!);
    ud[k] = at < a.dayPtr[x + 1]! && a.dayList[at] === t ? at : -1;
    dev[k] = devOf(t, a.meanDay[x]!, beta);
  }
  return { user: u, movie: i, day: ud, bin, dev };
}

/** Trains timeSVD++ on the block grid and the engine pool (see the file header); returns the fitted arrays and day tables. */
async function trainTimeSvdpp(
  train: Dataset,
  p: Record<string, number>,
  cb: Omit<SgdCallbacks, "valid">,
  valid: { u: Int32Array; i: Int32Array; rating: Float32Array; day: Int32Array } | undefined,
  run: RunControl,
): Promise<TimeArrays> {
  const { user, movie, rating, day } = train.ratings;
  const nUsers = train.users.length;
  const nMovies = train.movies.length;
  const n = user.length;
  const nBins = p.bins!;
  const stride = strideOf(p.factors!);
  const days = dayIndex(user, day, nUsers);
  const nDays = days.dayList.length;
  let dayMin = Infinity, dayMax = -Infinity;
  for (let r = 0; r < n; r++) {
    dayMin = Math.min(dayMin, day[r]!);
    dayMax = Math.max(dayMax, day[r]!);
  }
  const shape = { nBins, dayMin, dayMax };
  const nValid = valid?.u.length ?? 0;
  const bytes = 16 * n + 4 * stride * (nUsers * (nValid > 0 ? 3 : 2) + 2 * nMovies) + implicitBytes(nUsers, stride) +
    4 * (3 * nUsers + nMovies * (1 + nBins)) + 16 * nDays + 4 * TIME_SVDPP_HYPER_LENGTH + 28 * nValid + (4 << 20);
  checkFits(bytes, `${n.toLocaleString("en-US")} ratings on ${nDays.toLocaleString("en-US")} user-days, ${nUsers.toLocaleString("en-US")} users × ${nMovies.toLocaleString("en-US")} movies at ${p.factors} factors`);
  const engine = await Engine.create({ bytes, maximumBytes: bytes });
  const pool = trainingPool(engine, n, run);
  try {
    const { arena } = engine;
    const mu = meanOf(rating);
    // Each rating's user-day index travels with it into grid order; it indexes the per-day tables,
    // which the renumbering of users and movies leaves alone.
    const dayColumn = arena.array("i32", n);
    const { bins, waves } = implicitWaves(nMovies, stride, pool.threads);
    const grid = layOutGrid(arena, { user, movie, rating }, nUsers, nMovies, bins, p.seed!, [
      [days.ratingDay, arena.view(dayColumn)],
    ]);
    const { userRow, movieRow } = grid;
    const dayBin = new Int32Array(nDays);
    const dayDev = new Float32Array(nDays);
    for (let u = 0; u < nUsers; u++) {
      for (let d = days.dayPtr[u]!; d < days.dayPtr[u + 1]!; d++) {
        dayBin[d] = binOf(days.dayList[d]!, shape);
        dayDev[d] = devOf(days.dayList[d]!, days.meanDay[u]!, p.beta!);
      }
    }
    // Per-user and per-movie rows in the grid's renumbered order; per-day tables by user-day index.
    const model: TimeSvdppModel = {
      nUsers, nMovies, nDays, nBins, stride,
      P: arena.zeros("f32", nUsers * stride),
      AP: arena.zeros("f32", nUsers * stride),
      Q: arena.zeros("f32", nMovies * stride),
      Y: arena.zeros("f32", nMovies * stride),
      bu: arena.zeros("f32", nUsers),
      alpha: arena.zeros("f32", nUsers),
      cu: arena.zeros("f32", nUsers),
      bi: arena.zeros("f32", nMovies),
      biBin: arena.zeros("f32", nMovies * nBins),
      but: arena.zeros("f32", nDays),
      cut: arena.zeros("f32", nDays),
      dayBin: arena.copyIn(dayBin),
      dayDev: arena.copyIn(dayDev),
    };
    arena.view(model.cu).fill(1);
    const rng = new Rng(p.seed! ^ 0x5eed);
    initFactors(arena.view(model.P), userRow, stride, p.factors!, p.initStd!, rng);
    initFactors(arena.view(model.Q), movieRow, stride, p.factors!, p.initStd!, rng);
    initFactors(arena.view(model.Y), movieRow, stride, p.factors!, p.initStd!, rng);
    const implicit = ImplicitGrid.allocate(pool, arena, grid, nMovies, stride, model.Y, model.P);
    const hyper = arena.array("f32", TIME_SVDPP_HYPER_LENGTH);
    const layout: TimeSvdppLayout = { data: { ...grid.coo, day: dayColumn }, model, Z: implicit.Z, mu, hyper };

    // Validation pairs in the arena once: day columns from the dense ids, users and movies as the grid's rows.
    const validPairs = valid && nValid > 0 ? arenaPairs(arena, timePairs({ ...shape, ...days }, valid.u, valid.i, valid.day, p.beta!), valid.rating, grid) : null;
    const U = validPairs ? arena.array("f32", nUsers * stride) : undefined;
    const validRmse = (): number | null => {
      if (!validPairs) return null;
      const est = engine.timeSvdppPredict(validPairs, { ...model, U: U! }, { mu, lo: cb.scale.min, hi: cb.scale.max });
      let sse = 0;
      for (let k = 0; k < nValid; k++) sse += (valid!.rating[k]! - est[k]!) ** 2;
      return Math.sqrt(sse / nValid);
    };

    const params = Object.fromEntries(Object.entries(p).filter(([k]) => k.startsWith("lr") || k.startsWith("reg"))) as Omit<TimeSvdppParams, "mu">;
    const lrNames = Object.keys(params).filter((k) => k.startsWith("lr") && k !== "lr") as (keyof typeof params)[];
    const best = new BestEpoch(engine, PARAM_ARRAYS.map((k) => model[k]), run.earlyStop);
    const stop = () => run.signal?.aborted ?? false;
    for (let epoch = 1; epoch <= p.epochs!; epoch++) {
      const t0 = performance.now();
      // This epoch's rates, written while no task runs; every block task reads them.
      timeSvdppHyper(params, arena.view(hyper));
      const sse = await implicit.epoch(waves, rng, (start, end) => pool.run(timeSvdppBlockTask(layout, start, end)), stop, params.lrY, params.regY);
      checkFinite(sse, epoch);
      if (U) await implicit.sums(null, U);
      const vRmse = validRmse();
      cb.onEpoch?.({ epoch, epochs: p.epochs!, trainRmse: Math.sqrt(sse / Math.max(1, n)), validRmse: vRmse, seconds: (performance.now() - t0) / 1000 });
      if (best.stop(epoch, vRmse)) break;
      for (const k of lrNames) params[k] *= p.decay!;
      await new Promise((res) => setImmediate(res));
    }
    best.restore();
    // Back to dense-index order.
    for (const [m, width] of [[model.P, stride], [model.AP, stride], [model.bu, 1], [model.alpha, 1], [model.cu, 1]] as const) {
      unpermuteRows(arena.view(m), width, userRow);
    }
    for (const [m, width] of [[model.Q, stride], [model.Y, stride], [model.bi, 1], [model.biBin, nBins]] as const) {
      unpermuteRows(arena.view(m), width, movieRow);
    }
    const out = Object.fromEntries(PARAM_ARRAYS.map((k) => [k, arena.copyOut(model[k])]));
    return { ...(out as Record<(typeof PARAM_ARRAYS)[number], Float32Array>), mu, stride, ...shape, dayPtr: days.dayPtr, dayList: days.dayList, meanDay: days.meanDay };
  } catch (err) {
    throw trainingError(err, pool);
  } finally {
    await pool.destroy();
    engine.close();
  }
}

/** Pairs copied into the arena, their known users and movies (≥ 0) renumbered as the grid's rows (copyValid). */
function arenaPairs(arena: Arena, pairs: TimePairs, rating: Float32Array, grid: GridLayout): TimePairs {
  const { user, movie } = copyValid(arena, { user: pairs.user as Int32Array, movie: pairs.movie as Int32Array, rating }, grid.userRow, grid.movieRow);
  return { user, movie, day: arena.copyIn(pairs.day as Int32Array), bin: arena.copyIn(pairs.bin as Int32Array), dev: arena.copyIn(pairs.dev as Float32Array) };
}

/** Pairs per predict call: bounds the arena space a batch borrows. */
const PREDICT_CHUNK = 1 << 20;

/** Answers with a fitted timeSVD++: its arrays (with U = p_u + z_u instead of P and Y) in an engine. */
class TimeScorer {
  private constructor(private readonly engine: Engine, private readonly model: TimeSvdppPredictor, private readonly mu: number) {}

  static async create(a: TimeArrays, U: Float32Array): Promise<TimeScorer> {
    const held = [U, a.AP, a.Q, a.bu, a.alpha, a.cu, a.bi, a.biBin, a.but, a.cut];
    const bytes = 4 * held.reduce((s, x) => s + x.length, 0) + 24 * PREDICT_CHUNK + 4 * a.stride + (1 << 20);
    const engine = await Engine.create({ bytes, maximumBytes: bytes });
    const { arena } = engine;
    const model: TimeSvdppPredictor = {
      nUsers: a.bu.length, nMovies: a.bi.length, nDays: a.but.length, nBins: a.nBins, stride: a.stride,
      U: arena.copyIn(U), AP: arena.copyIn(a.AP), Q: arena.copyIn(a.Q),
      bu: arena.copyIn(a.bu), alpha: arena.copyIn(a.alpha), cu: arena.copyIn(a.cu),
      bi: arena.copyIn(a.bi), biBin: arena.copyIn(a.biBin), but: arena.copyIn(a.but), cut: arena.copyIn(a.cut),
    };
    return new TimeScorer(engine, model, a.mu);
  }

  predict(pairs: TimePairs, scale: { min: number; max: number }): Float32Array {
    const n = pairs.user.length;
    const out = new Float32Array(n);
    const cols = pairs as { user: Int32Array; movie: Int32Array; day: Int32Array; bin: Int32Array; dev: Float32Array };
    for (let at = 0; at < n; at += PREDICT_CHUNK) {
      const end = Math.min(n, at + PREDICT_CHUNK);
      const part = {
        user: cols.user.subarray(at, end), movie: cols.movie.subarray(at, end), day: cols.day.subarray(at, end),
        bin: cols.bin.subarray(at, end), dev: cols.dev.subarray(at, end),
      };
      out.set(this.engine.timeSvdppPredict(part, this.model, { mu: this.mu, lo: scale.min, hi: scale.max }), at);
    }
    return out;
  }
}
