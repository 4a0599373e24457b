/**
 * timeSVD++ on the engine pool: deterministic mode gives the same bits for a seed, one worker
 * thread computes what deterministic mode computes, and two workers reach its accuracy.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { generateDataset } from "../../src/data/generate.js";
import { split } from "../../src/data/split.js";
import { evaluateModel } from "../../src/eval/evaluate.js";
import type { Model } from "../../src/models/model.js";
import { createModel } from "../../src/models/registry.js";

const ds = generateDataset({ users: 3000, movies: 500, ratings: 150_000, seed: 7 });
const [part] = split(ds, { method: "probe", last: 5, seed: 7 });
const train = part!.train;
const testPart = part!.test;
const params = { factors: 8, epochs: 4, lr: 0.01, reg: 0.05, initStd: 0.05 };
const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** The model's estimates on the first test ratings, each on its own day. */
const estimates = (m: Model) => m.predictDataset(testPart).subarray(0, 3000);

test("timesvdpp: deterministic mode gives the same bits for a seed, and one worker thread the same as deterministic mode", async () => {
  const a = await createModel("timesvdpp", params).fit(train, { deterministic: true });
  const b = await createModel("timesvdpp", params).fit(train, { deterministic: true });
  const worker = await createModel("timesvdpp", params).fit(train, { threads: 1 });
  assert.equal(bits(estimates(b)), bits(estimates(a)), "deterministic, twice");
  assert.equal(bits(estimates(worker)), bits(estimates(a)), "one worker vs deterministic");
  const other = await createModel("timesvdpp", { ...params, seed: 2 }).fit(train, { deterministic: true });
  assert.not.equal(bits(estimates(other)), bits(estimates(a)), "another seed");
});

test("timesvdpp: two workers reach the test RMSE of one within 0.002", async () => {
  const one = evaluateModel(await createModel("timesvdpp", params).fit(train, { threads: 1 }), testPart).rmse;
  const two = evaluateModel(await createModel("timesvdpp", params).fit(train, { threads: 2 }), testPart).rmse;
  assert.ok(Math.abs(one - two) <= 0.002, `1 worker ${one.toFixed(5)} vs 2 workers ${two.toFixed(5)}`);
});

test.run();
