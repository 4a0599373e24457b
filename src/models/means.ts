/**
 * The reference points every comparison starts from.
 *
 *   global-mean:  r̂(u,i) = μ
 *   user-mean:    r̂(u,i) = μ_u = (Σ_{j∈R(u)} r_uj + shrink·μ) / (|R(u)| + shrink)
 *   movie-mean:   r̂(u,i) = μ_i = (Σ_{v∈R(i)} r_vi + shrink·μ) / (|R(i)| + shrink)
 *
 * `shrink` pulls the means of users or movies with few ratings toward the global mean (0 gives
 * the plain average). Unknown users (movies) get μ.
 */
import type { Dataset } from "../data/types.js";
import type { ArrayData } from "./io.js";
import { Model, type FitOptions } from "./model.js";
import type { ParamSpec } from "./params.js";

export class GlobalMean extends Model {
  readonly algo: string = "global-mean";
  protected mu = 0;

  spec() {
    return { algo: "global-mean", description: "predicts the mean of all training ratings", params: [] as ParamSpec[] };
  }

  protected async fitDense(train: Dataset, _opts: FitOptions): Promise<void> {
    this.mu = mean(train.ratings.rating);
  }

  predictDense(_u: Int32Array, _i: Int32Array, out: Float32Array): void {
    out.fill(this.clip(this.mu));
  }

  protected override fallbackText(_userKnown: boolean, _movieKnown: boolean): string {
    return "the global mean does not depend on users or movies";
  }

  protected clip(x: number): number {
    const { min, max } = this.ratingScale;
    return x < min ? min : x > max ? max : x;
  }

  protected state() {
    return { arrays: {} as Record<string, ArrayData>, scalars: { mu: this.mu } };
  }

  protected restore(_arrays: Record<string, ArrayData>, scalars: Record<string, number>): void {
    this.mu = scalars.mu!;
  }
}

const shrinkParam = (what: string): ParamSpec => ({
  name: "shrink",
  kind: "float",
  default: 0,
  min: 0,
  probe: 5,
  help: `pseudo-ratings at the global mean added to each ${what}'s average (0: plain average)`,
});

/** Shared by user-mean and movie-mean: a shrunk mean per row of one key column. */
abstract class KeyMean extends GlobalMean {
  protected means: Float32Array = new Float32Array(0);
  protected abstract key(train: Dataset): { keys: Int32Array; n: number };

  protected override async fitDense(train: Dataset, _opts: FitOptions): Promise<void> {
    const { rating } = train.ratings;
    this.mu = mean(rating);
    const { keys, n } = this.key(train);
    const sum = new Float64Array(n);
    const cnt = new Float64Array(n);
    for (let r = 0; r < rating.length; r++) {
      sum[keys[r]!]! += rating[r]!;
      cnt[keys[r]!]!++;
    }
    const shrink = this.params.shrink as number;
    this.means = new Float32Array(n);
    for (let k = 0; k < n; k++) {
      this.means[k] = cnt[k]! + shrink > 0 ? (sum[k]! + shrink * this.mu) / (cnt[k]! + shrink) : this.mu;
    }
  }

  protected estimate(k: number): number {
    return this.clip(k >= 0 ? this.means[k]! : this.mu);
  }

  protected override state() {
    return { arrays: { means: this.means } as Record<string, ArrayData>, scalars: { mu: this.mu } };
  }

  protected override restore(arrays: Record<string, ArrayData>, scalars: Record<string, number>): void {
    this.mu = scalars.mu!;
    this.means = arrays.means as Float32Array;
  }
}

export class UserMean extends KeyMean {
  override readonly algo = "user-mean";
  override spec() {
    return { algo: "user-mean", description: "predicts the user's average rating", params: [shrinkParam("user")] };
  }
  protected key(train: Dataset) {
    return { keys: train.ratings.user, n: train.users.length };
  }
  override predictDense(u: Int32Array, _i: Int32Array, out: Float32Array): void {
    for (let k = 0; k < out.length; k++) out[k] = this.estimate(u[k]!);
  }
  protected override fallbackText(userKnown: boolean): string {
    return userKnown ? "the user's mean does not depend on the movie" : "estimated by the global mean";
  }
}

export class MovieMean extends KeyMean {
  override readonly algo = "movie-mean";
  override spec() {
    return { algo: "movie-mean", description: "predicts the movie's average rating", params: [shrinkParam("movie")] };
  }
  protected key(train: Dataset) {
    return { keys: train.ratings.movie, n: train.movies.length };
  }
  override predictDense(_u: Int32Array, i: Int32Array, out: Float32Array): void {
    for (let k = 0; k < out.length; k++) out[k] = this.estimate(i[k]!);
  }
  protected override fallbackText(_userKnown: boolean, movieKnown: boolean): string {
    return movieKnown ? "the movie's mean does not depend on the user" : "estimated by the global mean";
  }
}

export function mean(a: Float32Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k]!;
  return a.length ? s / a.length : 0;
}
