/** The comparison table: rows are means over the parts of a split, in the order asked. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { compareModels, defaultAlgos, LARGE_TRAIN, parseAlgos, SLOW_ON_LARGE, splitParts } from "../../src/eval/compare.js";
import { evaluateModel } from "../../src/eval/evaluate.js";
import { rankingMetrics } from "../../src/eval/ranking.js";
import { algorithmNames, createModel } from "../../src/models/registry.js";
import { planted } from "../models/fixtures.js";

const { train } = planted();

test("each row averages the algorithm's scores over the parts", async () => {
  const parts = splitParts(train, "cv").slice(0, 2);
  const seen: string[] = [];
  const rows = await compareModels(parts, parseAlgos("baseline,movie-mean:shrink=5"), {
    k: 5,
    maxUsers: 50,
    onPart: (algo, part) => seen.push(`${algo} ${part}`),
  });
  assert.equal(seen, ["baseline fold1", "baseline fold2", "movie-mean fold1", "movie-mean fold2"]);
  assert.equal(rows.map((r) => r.algo), ["baseline", "movie-mean"]);
  assert.is(rows[1]!.params.shrink, 5);
  const per = await Promise.all(parts.map(async (p) => {
    const m = await createModel("baseline").fit(p.train);
    return { test: evaluateModel(m, p.test), train: evaluateModel(m, p.train), rank: rankingMetrics(m, p.test, { k: 5, maxUsers: 50 }) };
  }));
  const mean = (f: (x: (typeof per)[0]) => number) => (f(per[0]!) + f(per[1]!)) / 2;
  assert.ok(Math.abs(rows[0]!.rmse - mean((x) => x.test.rmse)) < 1e-12);
  assert.ok(Math.abs(rows[0]!.mape - mean((x) => x.test.mape)) < 1e-12);
  assert.ok(Math.abs(rows[0]!.trainRmse - mean((x) => x.train.rmse)) < 1e-12);
  assert.ok(Math.abs(rows[0]!["ndcg@5"]! - mean((x) => x.rank.ndcg)) < 1e-12);
  assert.ok(rows[0]!.fitSeconds >= 0 && rows[0]!.predictSeconds >= 0);
});

test("splits: temporal and probe give one part, cv five", () => {
  assert.is(splitParts(train, "temporal").length, 1);
  assert.is(splitParts(train, "probe")[0]!.test.meta.nRatings, 300 * 5);
  assert.is(splitParts(train, "cv").length, 5);
});

test("default algorithms: all, less the slow ones on large data; --algos is checked before fitting", () => {
  assert.equal(defaultAlgos(1000).map((a) => a.algo), algorithmNames());
  const large = defaultAlgos(LARGE_TRAIN + 1).map((a) => a.algo);
  for (const slow of SLOW_ON_LARGE) assert.not.ok(large.includes(slow), slow);
  assert.ok(large.includes("mf"));
  assert.throws(() => parseAlgos("mf,nope"), /unknown algorithm "nope"/);
  assert.throws(() => parseAlgos("mf:factors=0"), /factors must be ≥ 1/);
});

test.run();
