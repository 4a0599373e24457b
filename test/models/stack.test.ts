/** gbdt-stack: the 13 hand-made features by hand, the neighbour lists, and out-of-fold training rows. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { csrByUser } from "../../src/data/csr.js";
import { split } from "../../src/data/split.js";
import { evaluateModel } from "../../src/eval/evaluate.js";
import { createModel } from "../../src/models/registry.js";
import { createBases, datasetPredictions, fitBases, parseModelList, supportOf } from "../../src/models/ensemble.js";
import { featureSource, HAND_FEATURES, handFeatures, type FeatureSource } from "../../src/models/stack-features.js";
import { Similarity } from "../../src/models/similarity.js";
import { outOfFoldRows, type GbdtStack } from "../../src/models/stack.js";
import { planted } from "./fixtures.js";

const { train, test: testSet } = planted();

test("the 13 features of a few pairs, by hand", () => {
  // u0: m0=5, m1=3;  u1: m0=4, m2=2, m3=1;  u2: m1=4, m2=5
  const user = Int32Array.of(0, 0, 1, 1, 1, 2, 2);
  const movie = Int32Array.of(0, 1, 0, 2, 3, 1, 2);
  const rating = Float32Array.of(5, 3, 4, 2, 1, 4, 5);
  const g = 24 / 7;
  const src: FeatureSource = {
    gAvg: g,
    uAvg: Float32Array.of(4, 7 / 3, 4.5),
    mAvg: Float32Array.of(4.5, 3.5, 3.5, 1),
    byUser: csrByUser(user, movie, rating, 3, 4),
    userNbr: { ptr: Int32Array.of(0, 2, 3, 5), idx: Int32Array.of(2, 1, 0, 1, 0) },
    movieNbr: { ptr: Int32Array.of(0, 2, 4, 5, 5), idx: Int32Array.of(1, 2, 3, 0, 0) },
    support: { user: Float32Array.of(Math.log(3), Math.log(4), Math.log(3)), movie: Float32Array.of(Math.log(3), Math.log(3), Math.log(3), Math.log(2)) },
  };
  const pairs: [number, number][] = [[0, 2], [1, 1], [-1, 0], [2, -1], [0, 3]];
  const X = new Float32Array(pairs.length * 14).fill(-7);
  handFeatures(src, Int32Array.from(pairs, (p) => p[0]), Int32Array.from(pairs, (p) => p[1]), X, 14, 1);
  const f32 = (a: number[]) => Array.from(Float32Array.from(a));
  const row = (q: number) => Array.from(X.subarray(q * 14, q * 14 + 14));
  const u1 = 7 / 3;
  // (u0, m2): similar users 2 then 1 rated m2 (5, 2); m2's neighbour m0 was rated 5 by u0.
  assert.equal(row(0), f32([-7, g, 4, 3.5, 5, 2, 3.5, 3.5, 3.5, 5, 4, 4, 4, 4]));
  // (u1, m1): u0 rated m1 3; m1's neighbours m3 (1) and m0 (4) were rated by u1.
  assert.equal(row(1), f32([-7, g, u1, 3.5, 3, 3.5, 3.5, 3.5, 3.5, 1, 4, u1, u1, u1]));
  // Unknown user: the global average stands in for uAvg and pads smr.
  assert.equal(row(2), f32([-7, g, g, 4.5, 4.5, 4.5, 4.5, 4.5, 4.5, g, g, g, g, g]));
  // Unknown movie: the global average stands in for mAvg and pads sur.
  assert.equal(row(3), f32([-7, g, 4.5, g, g, g, g, g, g, 4.5, 4.5, 4.5, 4.5, 4.5]));
  // (u0, m3): of u0's neighbours only u1 rated m3; m3 has no neighbours.
  assert.equal(row(4), f32([-7, g, 4, 1, 1, 1, 1, 1, 1, 4, 4, 4, 4, 4]));
  assert.is(HAND_FEATURES.length, 13);
});

test("the source: averages, and every user's and movie's neighbour lists from the similarity", async () => {
  const o = { k: 7, sim: "pearson-baseline" as const, shrinkage: 100, minSupport: 2 };
  const src = await featureSource(train, o);
  const sim = await Similarity.fromDataset(train, o);
  const users = sim.topUsers(Int32Array.from({ length: train.users.length }, (_, u) => u), 7);
  const movies = await sim.topMovies(7);
  await sim.close();
  assert.equal(src.userNbr.idx, users.idx);
  assert.equal(src.userNbr.ptr, users.ptr);
  assert.equal(src.movieNbr.idx, movies.idx);
  for (let x = 0; x < train.users.length; x++) assert.ok(src.userNbr.ptr[x + 1]! - src.userNbr.ptr[x]! <= 7);
  const { user, rating } = train.ratings;
  let s = 0;
  let c = 0;
  for (let r = 0; r < user.length; r++) if (user[r] === 5) (s += rating[r]!), c++;
  assert.ok(Math.abs(src.uAvg[5]! - s / c) < 1e-5);
});

test("training rows come out of fold: base predictions and features from the other folds only", async () => {
  const specs = parseModelList("test", "baseline,movie-mean");
  const { X, y, nFeatures } = await outOfFoldRows(train, specs, { folds: 3, seed: 4, neighbours: { k: 10, sim: "cosine", shrinkage: 100, minSupport: 2 }, support: true });
  assert.is(nFeatures, 17);
  const parts = split(train, { method: "kfold", folds: 3, seed: 4 });
  let row = 0;
  for (const part of parts) {
    const bases = await createBases("test", specs);
    await fitBases(bases, part.train);
    const held = part.test.ratings;
    const preds = datasetPredictions(bases, part.test);
    const counts = supportOf(part.train);
    // The user's average over the other folds (feature uAvg) and the bases' predictions.
    const sums = new Map<number, [number, number]>();
    for (let r = 0; r < part.train.ratings.user.length; r++) {
      const s = sums.get(part.train.ratings.user[r]!) ?? [0, 0];
      s[0] += part.train.ratings.rating[r]!;
      s[1]++;
      sums.set(part.train.ratings.user[r]!, s);
    }
    for (let q = 0; q < held.user.length; q++, row++) {
      assert.is(y[row], held.rating[q]);
      const [s, c] = sums.get(held.user[q]!)!;
      assert.ok(Math.abs(X[row * nFeatures + 1]! - s / c) < 1e-4, "uAvg from the other folds");
      assert.is(X[row * nFeatures + 13], counts.user[held.user[q]!], "support from the other folds");
      assert.is(X[row * nFeatures + 14], counts.movie[held.movie[q]!]);
      assert.is(X[row * nFeatures + 15], preds[0]![q]);
      assert.is(X[row * nFeatures + 16], preds[1]![q]);
    }
  }
  assert.is(row, y.length);
});

test("gbdt-stack learns from its bases and features, and handles unknown users and movies", async () => {
  const stack = (await createModel("gbdt-stack", { bases: "baseline,mf:epochs=60:factors=8:lr=0.01:reg=0.02", trees: 60, folds: 3 }).fit(train)) as GbdtStack;
  const base = await createModel("baseline").fit(train);
  const s = evaluateModel(stack, testSet).rmse;
  const b = evaluateModel(base, testSet).rmse;
  assert.ok(s < b - 0.1, `gbdt-stack ${s.toFixed(4)} vs baseline ${b.toFixed(4)}`);
  assert.equal(stack.featureNames.slice(-5), ["smr5", "log n_u", "log n_i", "baseline#1", "mf#2"]);
  const e = stack.predictOne(999999, 999998);
  assert.is(e.impossible, true);
  assert.ok(e.est >= 1 && e.est <= 5);
});

test.run();
