/** Small in-memory datasets for model tests: a planted low-rank matrix with known noise. */
import { makeDataset } from "../../src/data/dataset.js";
import { Rng } from "../../src/data/rng.js";
import type { Dataset } from "../../src/data/types.js";

export interface Planted {
  train: Dataset;
  test: Dataset;
  /** RMSE of the planted (noise-free) ratings against the noisy test ratings. */
  noiseRmse: number;
}

/**
 * users × movies with each user rating `perUser` distinct movies; r = 3.5 + b_u + b_i + p_u·q_i + noise,
 * kept continuous and clipped to [1, 5]. The last `testPerUser` of each user's ratings are the test set;
 * train and test share id tables (raw ids are dense + 1000, titles "Movie i").
 */
export function planted(opts: { users?: number; movies?: number; perUser?: number; testPerUser?: number; rank?: number; noise?: number; seed?: number } = {}): Planted {
  const { users = 300, movies = 120, perUser = 40, testPerUser = 5, rank = 3, noise = 0.3, seed = 7 } = opts;
  const rng = new Rng(seed);
  const bu = Float64Array.from({ length: users }, () => 0.3 * rng.normal());
  const bi = Float64Array.from({ length: movies }, () => 0.4 * rng.normal());
  const P = Float64Array.from({ length: users * rank }, () => 0.6 * rng.normal());
  const Q = Float64Array.from({ length: movies * rank }, () => 0.6 * rng.normal());
  const rows: { u: number; i: number; r: number; truth: number; day: number }[][] = [[], []];
  for (let u = 0; u < users; u++) {
    const picks = rng.permutation(movies).subarray(0, perUser);
    picks.forEach((i, k) => {
      let dot = 0;
      for (let f = 0; f < rank; f++) dot += P[u * rank + f]! * Q[i * rank + f]!;
      const truth = Math.min(5, Math.max(1, 3.5 + bu[u]! + bi[i]! + dot));
      const r = Math.min(5, Math.max(1, truth + noise * rng.normal()));
      rows[k >= perUser - testPerUser ? 1 : 0]!.push({ u, i, r, truth, day: 11000 + k });
    });
  }
  const users_ = Int32Array.from({ length: users }, (_, u) => u + 1000);
  const movies_ = Int32Array.from({ length: movies }, (_, i) => i + 1000);
  const titles = Array.from({ length: movies }, (_, i) => `Movie ${i}`);
  const make = (part: (typeof rows)[0]) =>
    makeDataset({
      ratings: {
        user: Int32Array.from(part, (x) => x.u),
        movie: Int32Array.from(part, (x) => x.i),
        rating: Float32Array.from(part, (x) => x.r),
        day: Int32Array.from(part, (x) => x.day),
      },
      users: users_,
      movies: movies_,
      titles,
      source: "test",
      sources: [],
      ratingScale: { min: 1, max: 5 },
    });
  const se = rows[1]!.reduce((s, x) => s + (x.r - x.truth) ** 2, 0);
  return { train: make(rows[0]!), test: make(rows[1]!), noiseRmse: Math.sqrt(se / rows[1]!.length) };
}
