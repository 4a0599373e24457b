/**
 * Baseline estimates (Koren 2010, "Factor in the neighbors", §2.1; Surprise's BaselineOnly):
 *
 *   r̂(u,i) = μ + b_u + b_i
 *
 * fitted by regularized least squares  min Σ (r − μ − b_u − b_i)² + λ_u Σ b_u² + λ_i Σ b_i²
 *
 * - method "als" (default): alternating exact solves, movies then users, `epochs` times:
 *     b_i = Σ_{u∈R(i)} (r_ui − μ − b_u) / (regI + |R(i)|),   b_u = Σ_{i∈R(u)} (r_ui − μ − b_i) / (regU + |R(u)|)
 * - method "sgd": stochastic gradient descent with learning rate `lr` and regularization `reg`
 *   (the mf kernel with no factors): b_u += lr·(e − reg·b_u), b_i += lr·(e − reg·b_i).
 *
 * Unknown users (movies) get b_u = 0 (b_i = 0). Surprise's ALS defaults are regU 15, regI 10; ours
 * (5, 3) were chosen on a random validation part of the MovieLens 100K training folds.
 */
import { Engine } from "../abi/kernels.js";
import type { Dataset } from "../data/types.js";
import { EnginePool } from "../engine/pool.js";
import { alsEpochs, alsTask, type AlsLayout, type AlsSettings } from "../engine/similarity-tasks.js";
import { trainSgd } from "../engine/trainer.js";
import { FactorScorer } from "./factors.js";
import type { ArrayData } from "./io.js";
import { mean } from "./means.js";
import { Model, type FitOptions } from "./model.js";
import type { ParamSpec } from "./params.js";

const ALS = { param: "method", values: ["als"] };
const SGD = { param: "method", values: ["sgd"] };

export const BASELINE_PARAMS: ParamSpec[] = [
  { name: "method", kind: "choice", choices: ["als", "sgd"], default: "als", help: "how the biases are fitted" },
  { name: "epochs", kind: "int", default: 10, min: 1, max: 10_000, probe: 1, help: "passes over the ratings" },
  { name: "regU", kind: "float", default: 5, min: 0, when: ALS, help: "ALS regularization of user biases" },
  { name: "regI", kind: "float", default: 3, min: 0, when: ALS, help: "ALS regularization of movie biases" },
  { name: "lr", kind: "float", default: 0.005, min: 0, minExclusive: true, max: 1, when: SGD, help: "SGD learning rate" },
  { name: "reg", kind: "float", default: 0.02, min: 0, probe: 0.5, when: SGD, help: "SGD regularization" },
];

export class Baseline extends Model {
  readonly algo = "baseline";
  private mu = 0;
  private bu: Float32Array = new Float32Array(0);
  private bi: Float32Array = new Float32Array(0);
  private scorer: FactorScorer | null = null;

  spec() {
    return { algo: "baseline", description: "μ + b_u + b_i, regularized biases (Surprise's BaselineOnly)", params: BASELINE_PARAMS };
  }

  protected async fitDense(train: Dataset, opts: FitOptions): Promise<void> {
    const p = this.params as { method: string; epochs: number; regU: number; regI: number; lr: number; reg: number };
    const nU = train.users.length;
    const nM = train.movies.length;
    if (p.method === "sgd") {
      const valid = this.validRatings(opts);
      const r = await trainSgd(nU, nM, train.ratings, {
        factors: 0, epochs: p.epochs, lrBu: p.lr, lrBi: p.lr, lrP: 0, lrQ: 0, regBu: p.reg, regBi: p.reg, regP: 0, regQ: 0,
        initStd: 0, decay: 1, seed: 0,
      }, { onEpoch: opts.onEpoch, valid, scale: this.ratingScale }, opts);
      this.mu = r.mu;
      this.bu = r.bu;
      this.bi = r.bi;
    } else {
      await this.fitAls(train, p.epochs, p.regU, p.regI, opts);
    }
    await this.prepare();
  }

  private async fitAls(train: Dataset, epochs: number, regU: number, regI: number, opts: FitOptions): Promise<void> {
    ({ mu: this.mu, bu: this.bu, bi: this.bi } = await alsBiases(train, { epochs, regU, regI }, opts.onEpoch));
  }

  private async prepare(): Promise<void> {
    this.scorer = await FactorScorer.create({ mu: this.mu, stride: 0, P: new Float32Array(0), Q: new Float32Array(0), bu: this.bu, bi: this.bi });
    ({ bu: this.bu, bi: this.bi } = this.scorer.arrays());
  }

  override async ready(): Promise<void> {
    await this.prepare();
  }

  predictDense(u: Int32Array, i: Int32Array, out: Float32Array): void {
    this.scorer!.predict(u, i, out, this.ratingScale);
  }

  override scoreUser(u: number, out: Float32Array): void {
    this.scorer!.scoreUser(u, out);
  }

  protected state() {
    return { arrays: { bu: this.bu, bi: this.bi } as Record<string, ArrayData>, scalars: { mu: this.mu } };
  }

  protected restore(arrays: Record<string, ArrayData>, scalars: Record<string, number>): void {
    this.mu = scalars.mu!;
    this.bu = arrays.bu as Float32Array;
    this.bi = arrays.bi as Float32Array;
  }
}

/** μ and the biases fitted by ALS. */
export interface AlsBiases {
  mu: number;
  bu: Float32Array;
  bi: Float32Array;
}

/**
 * μ (the mean rating) and the biases b_u, b_i fitted by ALS from zero biases, `epochs` times the
 * movie half-step then the user half-step (see assembly/baseline.ts); `onEpoch` gets the training
 * RMSE after each epoch.
 */
export async function alsBiases(
  train: Dataset, s: { epochs: number; regU: number; regI: number }, onEpoch?: FitOptions["onEpoch"],
): Promise<AlsBiases> {
  const { user, movie, rating } = train.ratings;
  const n = user.length;
  const p = await alsProblem(train, s);
  try {
    let t0 = performance.now();
    alsEpochs(p.engine, p.layout, p.settings, onEpoch && ((epoch) => {
      const bu = p.engine.arena.view(p.layout.model.bu);
      const bi = p.engine.arena.view(p.layout.model.bi);
      let se = 0;
      for (let r = 0; r < n; r++) se += (rating[r]! - p.settings.mu - bu[user[r]!]! - bi[movie[r]!]!) ** 2;
      onEpoch({ epoch, epochs: s.epochs, trainRmse: Math.sqrt(se / n), validRmse: null, seconds: (performance.now() - t0) / 1000 });
      t0 = performance.now();
    }));
    return p.result();
  } finally {
    p.engine.close();
  }
}

/**
 * alsBiases on a worker thread: resolves once the worker runs the fit, to the fit's result, so the
 * calling thread can do other work meanwhile (the same kernels on the same data: the same biases).
 */
export async function alsBiasesOnWorker(train: Dataset, s: { epochs: number; regU: number; regI: number }): Promise<{ biases: Promise<AlsBiases> }> {
  let pool: EnginePool | null = null;
  // The worker thread starts while the ratings are copied in.
  const p = await alsProblem(train, s, (engine) => (pool = EnginePool.create(engine, { threads: 1 }))).catch(async (err) => {
    await pool?.destroy();
    throw err;
  });
  const release = async () => {
    await pool?.destroy();
    p.engine.close();
  };
  try {
    // With the thread ready, the fit's task is posted at once and runs while this thread works.
    await pool!.run(alsTask(p.layout, { ...p.settings, epochs: 0 }));
  } catch (err) {
    await release();
    throw err;
  }
  const biases = pool!.run(alsTask(p.layout, p.settings)).then(() => p.result()).finally(release);
  // A failure is reported to whoever awaits `biases`; a caller that fails first must not crash the process.
  biases.catch(() => undefined);
  return { biases };
}

/**
 * The ratings and zero biases in an engine of their own, and how to read the biases back;
 * `created` sees the engine before the ratings are copied in.
 */
async function alsProblem(train: Dataset, s: { epochs: number; regU: number; regI: number }, created?: (engine: Engine) => void) {
  const { user, movie, rating } = train.ratings;
  const n = user.length;
  const nUsers = train.users.length;
  const nMovies = train.movies.length;
  const bytes = 12 * n + 16 * (nUsers + nMovies) + (1 << 20);
  const engine = await Engine.create({ bytes, maximumBytes: bytes });
  try {
    created?.(engine);
    const mu = mean(rating);
    const { arena } = engine;
    const layout: AlsLayout = {
      data: { user: arena.copyIn<"i32">(user), movie: arena.copyIn<"i32">(movie), rating: arena.copyIn<"f32">(rating) },
      model: { nUsers, nMovies, bu: arena.zeros("f32", nUsers), bi: arena.zeros("f32", nMovies) },
      movieScratch: { sums: arena.array("f64", nMovies), counts: arena.array("i32", nMovies) },
      userScratch: { sums: arena.array("f64", nUsers), counts: arena.array("i32", nUsers) },
    };
    const result = (): AlsBiases => ({ mu, bu: arena.copyOut(layout.model.bu), bi: arena.copyOut(layout.model.bi) });
    return { engine, layout, settings: { mu, ...s } as AlsSettings, result };
  } catch (err) {
    engine.close();
    throw err;
  }
}
