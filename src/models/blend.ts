/**
 * Linear blending of base models, as the Netflix Prize teams blended on the probe set (Töscher,
 * Jahrer, Bell 2009, "The BigChaos solution to the Netflix Grand Prize", §2; Koren 2009, "The
 * BellKor solution to the Netflix Grand Prize"):
 *
 *   r̂(u,i) = w_0 + Σ_k w_k · p_k(u,i)
 *            [ + a_u·ℓ_u + a_i·ℓ_i + Σ_k (p_k − p̄_k)·(v_k·ℓ_u + z_k·ℓ_i) ]      with support=counts
 *
 * where p_k is base model k's estimate and ℓ_u = log(1 + n_u), ℓ_i = log(1 + n_i) the user's and
 * movie's training rating counts, centred (the support terms let a model weigh more where the
 * data behind it is richer, as in the Prize teams' blends).
 *
 * 1. The training data is cut into fit and held-out parts (`holdout`): each user's latest `last`
 *    ratings by date (how the Netflix probe set was built); one of `folds` random parts; or each of
 *    `folds` random parts in turn (kfold: every training rating is held out once, which gives the
 *    regression many more rows for `folds` + 1 fits of each base model instead of 2). "auto"
 *    picks probe when the training data was itself cut by date, else one random part.
 * 2. Every base model is fitted on each fit part and predicts its held-out part.
 * 3. Ridge regression of the held-out ratings on those predictions (and support terms):
 *      min Σ (r − r̂)² + reg · n · Σ w²     (n held-out ratings; w_0 not penalized)
 * 4. Every base model is refitted on all the training data; estimates combine theirs with w.
 *
 * Base models are named by `bases` (see ensemble.ts: "baseline,mf:factors=50,...") and use their
 * own defaults otherwise. Unknown users or movies get the combination of the base models' fallbacks.
 */
import { DataError, type Dataset } from "../data/types.js";
import {
  basePredictions, CombiningModel, createBases, datasetPredictions, fitBases, heldOutParts, supportOf,
  type BaseSpec, type HoldoutOptions, type Support,
} from "./ensemble.js";
import type { ArrayData } from "./io.js";
import type { FitOptions } from "./model.js";
import type { ParamSpec, Params } from "./params.js";

const PROBE = { param: "holdout", values: ["probe", "auto"] };
const PARTS = { param: "holdout", values: ["kfold", "random", "auto"] };

export const BLEND_PARAMS: ParamSpec[] = [
  {
    name: "bases",
    kind: "text",
    default: "baseline,mf,knn-item,knn-user,svdpp,timesvdpp,slopeone",
    probe: "baseline,user-mean",
    help: 'base models, comma-separated, each with optional :name=value parameters (e.g. "baseline,mf:factors=50")',
  },
  { name: "reg", kind: "float", default: 0.001, min: 0, help: "ridge penalty on the blend weights, per held-out rating" },
  { name: "support", kind: "choice", choices: ["counts", "none"], default: "counts", help: "also regress on log rating counts of the user and movie and their products with each estimate" },
  {
    name: "holdout",
    kind: "choice",
    choices: ["auto", "probe", "kfold", "random"],
    default: "auto",
    help: "held-out ratings: each user's latest (probe), every random fold in turn (kfold), one random fold, or auto: probe when the training data was cut by date, else random",
  },
  { name: "last", kind: "int", default: 5, min: 1, max: 1000, probe: 3, when: PROBE, help: "each user's latest ratings held out by the probe holdout" },
  { name: "folds", kind: "int", default: 5, min: 2, max: 100, probe: 3, when: PARTS, help: "random folds of the training data: kfold holds out each in turn, random (also used for data without dates) the first" },
  { name: "seed", kind: "int", default: 1, min: 0, max: 2 ** 32 - 1, when: PARTS, help: "random seed of the folds" },
];

/** Intercept and weights minimizing Σ (y − w_0 − Σ_k w_k x_k)² + reg · n · Σ_k w_k². */
export function ridge(cols: Float32Array[], y: Float32Array, reg: number): { intercept: number; weights: Float64Array } {
  const m = cols.length;
  const n = y.length;
  if (n === 0) throw new DataError("ridge regression needs at least one row");
  const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / n;
  const xm = cols.map(mean);
  const ym = mean(y);
  const A = new Float64Array(m * m);
  const b = new Float64Array(m);
  for (let r = 0; r < n; r++) {
    const yr = y[r]! - ym;
    for (let j = 0; j < m; j++) {
      const xj = cols[j]![r]! - xm[j]!;
      b[j] += xj * yr;
      for (let k = 0; k <= j; k++) A[j * m + k] += xj * (cols[k]![r]! - xm[k]!);
    }
  }
  let trace = 0;
  for (let j = 0; j < m; j++) trace += A[j * m + j]!;
  // A vanishing jitter keeps identical columns solvable when reg is 0.
  const diag = reg * n + 1e-12 * (trace / Math.max(1, m) + 1);
  for (let j = 0; j < m; j++) {
    A[j * m + j] += diag;
    for (let k = 0; k < j; k++) A[k * m + j] = A[j * m + k]!;
  }
  const weights = choleskySolve(A, b, m);
  let intercept = ym;
  for (let j = 0; j < m; j++) intercept -= weights[j]! * xm[j]!;
  return { intercept, weights };
}

/** Solves A x = b for a symmetric positive definite m × m matrix A (row-major). */
function choleskySolve(A: Float64Array, b: Float64Array, m: number): Float64Array {
  const L = new Float64Array(m * m);
  for (let j = 0; j < m; j++) {
    let d = A[j * m + j]!;
    for (let k = 0; k < j; k++) d -= L[j * m + k]! ** 2;
    if (!(d > 0)) throw new DataError("the blend's normal equations are singular", "give --reg a positive value");
    const ljj = Math.sqrt(d);
    L[j * m + j] = ljj;
    for (let i = j + 1; i < m; i++) {
      let s = A[i * m + j]!;
      for (let k = 0; k < j; k++) s -= L[i * m + k]! * L[j * m + k]!;
      L[i * m + j] = s / ljj;
    }
  }
  const z = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * m + k]! * z[k]!;
    z[i] = s / L[i * m + i]!;
  }
  const x = new Float64Array(m);
  for (let i = m - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < m; k++) s -= L[k * m + i]! * x[k]!;
    x[i] = s / L[i * m + i]!;
  }
  return x;
}

export class Blend extends CombiningModel {
  readonly algo = "blend";
  /** [w_0, then one weight per column of `columns`]. */
  private w: Float64Array = new Float64Array(0);
  /** support=counts: the training support, and the held-out means the columns are centred by ([log n_u, log n_i, p_1 .. p_m]). */
  private support: Support | null = null;
  private center: Float64Array = new Float64Array(0);

  spec() {
    return { algo: "blend", description: "ridge regression over base models' predictions on a held-out part, then bases refitted on all data", params: BLEND_PARAMS };
  }

  /**
   * The fitted combination: the intercept; each base model (in `bases` order) with its weight w_k;
   * and every term's weight by name ("mf#2", then with support "log n_u", "mf#2 × log n_u", ...).
   */
  get weights(): { intercept: number; bases: { algo: string; params: Params; weight: number }[]; terms: { term: string; weight: number }[] } {
    const names = this.bases.map((m, k) => `${m.algo}#${k + 1}`);
    const terms = this.support ? [...names, "log n_u", "log n_i", ...names.map((n) => `${n} × log n_u`), ...names.map((n) => `${n} × log n_i`)] : names;
    return {
      intercept: this.w[0]!,
      bases: this.bases.map((m, k) => ({ algo: m.algo, params: m.params, weight: this.w[k + 1]! })),
      terms: terms.map((term, k) => ({ term, weight: this.w[k + 1]! })),
    };
  }

  protected async fitDense(train: Dataset, opts: FitOptions): Promise<void> {
    const p = this.params as { reg: number; support: string; holdout: HoldoutOptions["method"]; last: number; folds: number; seed: number };
    const t0 = performance.now();
    const rows = await heldOutRows(train, this.baseSpecs(), { method: p.holdout, last: p.last, folds: p.folds, seed: p.seed }, p.support === "counts", opts);
    this.center = rows.lu ? centres(rows) : new Float64Array(0);
    const cols = this.columns(rows);
    const { intercept, weights } = ridge(cols, rows.y, p.reg);
    this.w = Float64Array.of(intercept, ...weights);
    if (opts.onEpoch) {
      const combined = new Float32Array(rows.y.length);
      this.combine(cols, combined, true);
      let se = 0;
      for (let r = 0; r < rows.y.length; r++) se += (combined[r]! - rows.y[r]!) ** 2;
      opts.onEpoch({ epoch: 1, epochs: 1, trainRmse: Math.sqrt(se / rows.y.length), validRmse: null, seconds: (performance.now() - t0) / 1000 });
    }
    this.bases = await this.newBases();
    await fitBases(this.bases, train, opts);
    this.support = p.support === "counts" ? supportOf(train) : null;
  }

  /** The support values ℓ_u, ℓ_i of pairs (0 for unknown users or movies), or nulls without support. */
  private supportAt(u: Int32Array, i: Int32Array): Pick<Rows, "lu" | "li"> {
    const s = this.support;
    if (!s) return { lu: null, li: null };
    return { lu: Float32Array.from(u, (x) => (x >= 0 ? s.user[x]! : 0)), li: Float32Array.from(i, (x) => (x >= 0 ? s.movie[x]! : 0)) };
  }

  /**
   * The regression's columns: the base models' estimates p_k, and with support the centred ℓ_u,
   * ℓ_i and the products (p_k − p̄_k)·ℓ_u, (p_k − p̄_k)·ℓ_i.
   */
  private columns(rows: Omit<Rows, "y">): Float32Array[] {
    const { preds } = rows;
    if (!rows.lu || !rows.li) return preds;
    const c = this.center;
    const lu = rows.lu.map((v) => v - c[0]!);
    const li = rows.li.map((v) => v - c[1]!);
    const cross = (l: Float32Array) => preds.map((p, k) => Float32Array.from(p, (v, r) => (v - c[2 + k]!) * l[r]!));
    return [...preds, lu, li, ...cross(lu), ...cross(li)];
  }

  /** out = w_0 + Σ_k w_k · cols[k], clipped to the rating scale when asked. */
  private combine(cols: Float32Array[], out: Float32Array, clip: boolean): void {
    const w = this.w;
    const { min, max } = this.ratingScale;
    for (let r = 0; r < out.length; r++) {
      let s = w[0]!;
      for (let k = 0; k < cols.length; k++) s += w[k + 1]! * cols[k]![r]!;
      out[r] = clip ? (s < min ? min : s > max ? max : s) : s;
    }
  }

  predictDense(u: Int32Array, i: Int32Array, out: Float32Array): void {
    this.combine(this.columns({ preds: basePredictions(this.bases, u, i), ...this.supportAt(u, i) }), out, true);
  }

  /** Estimates for the ratings of `ds`, each base model predicting on the ratings' days. */
  override predictDataset(ds: Dataset): Float32Array {
    const { u, i } = this.alignIds(ds);
    const out = new Float32Array(u.length);
    this.combine(this.columns({ preds: datasetPredictions(this.bases, ds), ...this.supportAt(u, i) }), out, true);
    return out;
  }

  override scoreUser(u: number, out: Float32Array): void {
    const n = out.length;
    const scores = this.bases.map((m) => {
      const s = new Float32Array(n);
      m.scoreUser(u, s);
      return s;
    });
    const support = this.supportAt(new Int32Array(n).fill(u), Int32Array.from({ length: n }, (_, i) => i));
    this.combine(this.columns({ preds: scores, ...support }), out, false);
  }

  protected override fallbackText(): string {
    return "estimated by blending the base models' fallbacks";
  }

  protected ownState() {
    const arrays: Record<string, ArrayData> = { w: this.w, center: this.center };
    if (this.support) Object.assign(arrays, { supportUser: this.support.user, supportMovie: this.support.movie });
    return { arrays, scalars: {} };
  }

  protected restoreOwn(arrays: Record<string, ArrayData>): void {
    this.w = arrays.w as Float64Array;
    this.center = arrays.center as Float64Array;
    this.support = arrays.supportUser ? { user: arrays.supportUser as Float32Array, movie: arrays.supportMovie as Float32Array } : null;
  }
}

/** Held-out rows of the regression: base estimates, support values (with support) and ratings. */
interface Rows {
  preds: Float32Array[];
  lu: Float32Array | null;
  li: Float32Array | null;
  y: Float32Array;
}

/** Every held-out part's ratings with the estimates of base models fitted on the rest, concatenated. */
async function heldOutRows(train: Dataset, specs: BaseSpec[], o: HoldoutOptions, withSupport: boolean, fit: FitOptions): Promise<Rows> {
  const parts = heldOutParts(train, o);
  const n = parts.reduce((s, p) => s + p.held.meta.nRatings, 0);
  const rows: Rows = {
    preds: specs.map(() => new Float32Array(n)),
    lu: withSupport ? new Float32Array(n) : null,
    li: withSupport ? new Float32Array(n) : null,
    y: new Float32Array(n),
  };
  let at = 0;
  for (const part of parts) {
    const held = part.held;
    const bases = await createBases("blend bases", specs);
    await fitBases(bases, part.fit, fit);
    const { user, movie, rating } = held.ratings;
    datasetPredictions(bases, held).forEach((p, k) => rows.preds[k]!.set(p, at));
    if (withSupport) {
      const s = supportOf(part.fit);
      for (let r = 0; r < user.length; r++) {
        rows.lu![at + r] = s.user[user[r]!]!;
        rows.li![at + r] = s.movie[movie[r]!]!;
      }
    }
    rows.y.set(rating, at);
    at += user.length;
  }
  return rows;
}

/** Held-out means the support columns are centred by: [ℓ̄_u, ℓ̄_i, p̄_1 .. p̄_m]. */
function centres(rows: Rows): Float64Array {
  const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
  return Float64Array.of(mean(rows.lu!), mean(rows.li!), ...rows.preds.map(mean));
}
