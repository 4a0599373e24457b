/** Ridge blending: the solver, the held-out procedure, base lists, and nesting base models. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { makeDataset } from "../../src/data/dataset.js";
import { Rng } from "../../src/data/rng.js";
import { split } from "../../src/data/split.js";
import { DataError } from "../../src/data/types.js";
import { StopRequested } from "../../src/engine/scheduler.js";
import { evaluateModel } from "../../src/eval/evaluate.js";
import { createModel } from "../../src/models/registry.js";
import { Blend, ridge } from "../../src/models/blend.js";
import { createBases, datasetPredictions, fitBases, heldOutParts, parseModelList } from "../../src/models/ensemble.js";
import { planted } from "./fixtures.js";

const { train, test: testSet } = planted();
const BASES = "baseline,mf:epochs=20:factors=4";

test("ridge: recovers exact weights with reg 0, shrinks them with reg > 0, solves identical columns", () => {
  const rng = new Rng(1);
  const n = 200;
  const x1 = Float32Array.from({ length: n }, () => rng.normal());
  const x2 = Float32Array.from({ length: n }, () => rng.normal());
  const y = Float32Array.from({ length: n }, (_, r) => 0.5 + 2 * x1[r]! - x2[r]!);
  const exact = ridge([x1, x2], y, 0);
  assert.ok(Math.abs(exact.intercept - 0.5) < 1e-5);
  assert.ok(Math.abs(exact.weights[0]! - 2) < 1e-5 && Math.abs(exact.weights[1]! + 1) < 1e-5);
  const shrunk = ridge([x1, x2], y, 0.5);
  assert.ok(Math.hypot(...shrunk.weights) < Math.hypot(...exact.weights) - 0.1);
  const twice = ridge([x1, x1], Float32Array.from(x1, (v) => 0.5 + 2 * v), 0);
  assert.ok(Math.abs(twice.weights[0]! + twice.weights[1]! - 2) < 1e-6, "identical columns share the weight");
  assert.ok(Math.abs(twice.weights[0]! - twice.weights[1]!) < 1e-3, "evenly");
  assert.throws(() => ridge([x1], new Float32Array(0), 0), /at least one row/);
});

test("bases lists: parameters after colons; syntax errors at construction, unknown names at fit", async () => {
  assert.equal(parseModelList("x", "baseline, mf:factors=50:epochs=7 ,knn-item"), [
    { algo: "baseline", params: {} },
    { algo: "mf", params: { factors: "50", epochs: "7" } },
    { algo: "knn-item", params: {} },
  ]);
  assert.throws(() => createModel("blend", { bases: "baseline,,mf" }), (e: Error) => e instanceof DataError && /blend bases: .* empty entry/.test(e.message));
  assert.throws(() => createModel("blend", { bases: "mf:factors" }), /where name=value was expected/);
  try {
    await createModel("blend", { bases: "baseline,nope" }).fit(train);
    assert.unreachable("unknown base accepted");
  } catch (err) {
    assert.match((err as Error).message, 'blend bases: unknown algorithm "nope"');
  }
  try {
    await createModel("blend", { bases: "mf:factors=-2" }).fit(train);
    assert.unreachable("bad base parameter accepted");
  } catch (err) {
    assert.match((err as Error).message, "blend bases: mf: factors must be ≥ 1");
  }
});

test("the weights are the ridge fit of held-out predictions by bases fitted on the rest; bases are then refitted on all data", async () => {
  const blend = (await createModel("blend", { bases: BASES, reg: 0.01, support: "none", holdout: "probe" }).fit(train)) as Blend;
  const { fit, held } = heldOutParts(train, { method: "probe", last: 5, folds: 10, seed: 1 })[0]!;
  assert.is(held.meta.nRatings, 300 * 5, "each user's latest 5 ratings are held out");
  const bases = await createBases("test", parseModelList("test", BASES));
  await fitBases(bases, fit);
  const want = ridge(datasetPredictions(bases, held), held.ratings.rating, 0.01);
  const got = blend.weights;
  assert.ok(Math.abs(got.intercept - want.intercept) < 1e-9);
  assert.equal(got.terms.map((t) => t.term), ["baseline#1", "mf#2"]);
  got.terms.forEach((t, k) => assert.ok(Math.abs(t.weight - want.weights[k]!) < 1e-9, t.term));
  assert.equal(got.bases.map((b) => b.algo), ["baseline", "mf"]);
  assert.is(got.bases[1]!.params.factors, 4);
  assert.is(got.bases[1]!.weight, got.terms[1]!.weight);

  // Estimates combine the refitted bases' estimates with those weights.
  const full = await createBases("test", parseModelList("test", BASES));
  await fitBases(full, train);
  const preds = datasetPredictions(full, testSet);
  const out = blend.predictDataset(testSet);
  for (let r = 0; r < out.length; r += 37) {
    const est = Math.min(5, Math.max(1, want.intercept + preds.reduce((s, p, k) => s + want.weights[k]! * p[r]!, 0)));
    assert.ok(Math.abs(out[r]! - est) < 1e-4);
  }
});

test("support terms: log counts and their products with each estimate, fitted on every fold with kfold", async () => {
  const blend = (await createModel("blend", { bases: BASES, holdout: "kfold", folds: 3 }).fit(train)) as Blend;
  assert.equal(blend.weights.terms.map((t) => t.term), ["baseline#1", "mf#2", "log n_u", "log n_i", "baseline#1 × log n_u", "mf#2 × log n_u", "baseline#1 × log n_i", "mf#2 × log n_i"]);
  const parts = heldOutParts(train, { method: "kfold", last: 5, folds: 3, seed: 1 });
  assert.is(parts.length, 3);
  assert.is(parts.reduce((s, p) => s + p.held.meta.nRatings, 0), train.meta.nRatings, "every rating is held out once");
  assert.ok(evaluateModel(blend, testSet).rmse < 0.7);
});

test("auto holdout: each user's latest ratings when the training data was cut by date, else a random fold", () => {
  const [temporal] = split(train, { method: "temporal", ratio: 0.8 });
  const byDate = heldOutParts(temporal!.train, { method: "auto", last: 2, folds: 10, seed: 1 });
  assert.is(byDate.length, 1);
  assert.equal(byDate[0]!.held.meta.split?.method, "probe");
  const prize = makeDataset({
    ratings: train.ratings, users: train.users, movies: train.movies, source: "split", sources: [], ratingScale: train.meta.ratingScale,
    split: { method: "netflix-probe" },
  });
  assert.equal(heldOutParts(prize, { method: "auto", last: 2, folds: 10, seed: 1 })[0]!.held.meta.split?.method, "probe");
  const random = heldOutParts(train, { method: "auto", last: 2, folds: 10, seed: 1 });
  assert.equal(random[0]!.held.meta.split?.method, "kfold");
  assert.is(random[0]!.held.meta.nRatings, Math.floor(train.meta.nRatings / 10));
});

test("blending beats or matches its best base model on held-out data", async () => {
  const blend = await createModel("blend", { bases: BASES }).fit(train);
  const rmse = evaluateModel(blend, testSet).rmse;
  for (const spec of parseModelList("test", BASES)) {
    const base = await createModel(spec.algo, spec.params).fit(train);
    const b = evaluateModel(base, testSet).rmse;
    assert.ok(rmse <= b + 0.005, `blend ${rmse.toFixed(4)} vs ${spec.algo} ${b.toFixed(4)}`);
  }
});

test("without dates the held-out part is one random fold", async () => {
  const undated = makeDataset({
    ratings: { ...train.ratings, day: new Int32Array(train.ratings.user.length) },
    users: train.users,
    movies: train.movies,
    source: "test",
    sources: [],
    ratingScale: { min: 1, max: 5 },
  });
  const { held } = heldOutParts(undated, { method: "probe", last: 5, folds: 10, seed: 1 })[0]!;
  assert.is(held.meta.nRatings, Math.floor(undated.meta.nRatings / 10));
  const m = await createModel("blend", { bases: BASES }).fit(undated);
  assert.ok(evaluateModel(m, testSet).rmse < 1);
});

test("an aborted stop signal stops fitting with StopRequested", async () => {
  const ctl = new AbortController();
  ctl.abort();
  for (const algo of ["blend", "gbdt-stack"]) {
    try {
      await createModel(algo, { bases: BASES }).fit(train, { signal: ctl.signal });
      assert.unreachable(`${algo} ignored the signal`);
    } catch (err) {
      assert.instance(err, StopRequested, algo);
    }
  }
});

test.run();
