/**
 * Biased matrix factorization by SGD (Funk 2006; Koren, Bell, Volinsky 2009 "Matrix factorization
 * techniques for recommender systems", eq. 5; Surprise's SVD; LIBMF's model with biases):
 *
 *   r̂(u,i) = μ + b_u + b_i + p_u·q_i
 *
 * minimizing Σ (r_ui − r̂)² + regBu·b_u² + regBi·b_i² + regP·‖p_u‖² + regQ·‖q_i‖² by SGD over the
 * ratings (the epoch kernel in assembly/sgd.ts, ratings in LIBMF's block-grid order):
 *
 *   e = r − r̂;  b_u += lrBu(e − regBu·b_u);  b_i += lrBi(e − regBi·b_i);
 *   p_u += lrP(e·q_i − regP·p_u);  q_i += lrQ(e·p_u − regQ·q_i)
 *
 * Learning rates are multiplied by `decay` after every epoch. Factors start N(0, initStd²), biases
 * at 0. The defaults were chosen on a random validation part of the MovieLens 100K training
 * folds (never their test files). Unknown users (movies) fall back to μ + b_i (μ + b_u): the baseline part of the model.
 */
import type { Dataset } from "../data/types.js";
import { trainSgd } from "../engine/trainer.js";
import { FactorScorer, ScoredFactorModel } from "./factors.js";
import type { ArrayData } from "./io.js";
import type { FitOptions } from "./model.js";
import type { ParamSpec } from "./params.js";

export const MF_PARAMS: ParamSpec[] = [
  { name: "factors", kind: "int", default: 100, min: 1, max: 4096, probe: 20, help: "latent factors per user and movie" },
  { name: "epochs", kind: "int", default: 100, min: 1, max: 10_000, probe: 10, help: "passes over the ratings" },
  { name: "lr", kind: "float", default: 0.005, min: 0, minExclusive: true, max: 1, help: "learning rate of every term" },
  { name: "reg", kind: "float", default: 0.08, min: 0, help: "regularization of every term" },
  { name: "lrBu", kind: "float", inherits: "lr", default: 0, min: 0, max: 1, help: "learning rate of user biases" },
  { name: "lrBi", kind: "float", inherits: "lr", default: 0, min: 0, max: 1, help: "learning rate of movie biases" },
  { name: "lrP", kind: "float", inherits: "lr", default: 0, min: 0, max: 1, help: "learning rate of user factors" },
  { name: "lrQ", kind: "float", inherits: "lr", default: 0, min: 0, max: 1, help: "learning rate of movie factors" },
  { name: "regBu", kind: "float", inherits: "reg", default: 0, min: 0, help: "regularization of user biases" },
  { name: "regBi", kind: "float", inherits: "reg", default: 0, min: 0, help: "regularization of movie biases" },
  { name: "regP", kind: "float", inherits: "reg", default: 0, min: 0, help: "regularization of user factors" },
  { name: "regQ", kind: "float", inherits: "reg", default: 0, min: 0, help: "regularization of movie factors" },
  { name: "initStd", kind: "float", default: 0.003, min: 0, help: "standard deviation of the initial factors" },
  { name: "decay", kind: "float", default: 1, min: 0, minExclusive: true, max: 1, probe: 0.8, help: "learning-rate multiplier per epoch" },
  { name: "seed", kind: "int", default: 1, min: 0, max: 2 ** 32 - 1, help: "random seed (initial factors, rating order)" },
];

export class MF extends ScoredFactorModel {
  readonly algo = "mf";
  private factors: { mu: number; stride: number; P: Float32Array; Q: Float32Array; bu: Float32Array; bi: Float32Array } | null = null;

  spec() {
    return { algo: "mf", description: "biased matrix factorization μ + b_u + b_i + p_u·q_i by SGD", params: MF_PARAMS };
  }

  protected async fitDense(train: Dataset, opts: FitOptions): Promise<void> {
    const p = this.params as Record<string, number>;
    const valid = this.validRatings(opts);
    const fitted = await trainSgd(
      train.users.length,
      train.movies.length,
      train.ratings,
      {
        factors: p.factors!, epochs: p.epochs!,
        lrBu: p.lrBu!, lrBi: p.lrBi!, lrP: p.lrP!, lrQ: p.lrQ!,
        regBu: p.regBu!, regBi: p.regBi!, regP: p.regP!, regQ: p.regQ!,
        initStd: p.initStd!, decay: p.decay!, seed: p.seed!,
      },
      { onEpoch: opts.onEpoch, valid, scale: this.ratingScale },
      opts,
    );
    // The scorer's memory becomes the model's only copy of its arrays; the training memory goes.
    this.factors = fitted;
    await this.ready();
  }

  override async ready(): Promise<void> {
    const scorer = await FactorScorer.create(this.factors!);
    this.setScorer(scorer);
    this.factors = scorer.arrays();
  }

  protected movieFactors() {
    return this.factors!;
  }

  protected state() {
    const f = this.factors!;
    return { arrays: { P: f.P, Q: f.Q, bu: f.bu, bi: f.bi } as Record<string, ArrayData>, scalars: { mu: f.mu, stride: f.stride } };
  }

  protected restore(arrays: Record<string, ArrayData>, scalars: Record<string, number>): void {
    this.factors = {
      mu: scalars.mu!,
      stride: scalars.stride!,
      P: arrays.P as Float32Array,
      Q: arrays.Q as Float32Array,
      bu: arrays.bu as Float32Array,
      bi: arrays.bi as Float32Array,
    };
  }
}
