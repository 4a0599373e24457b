/** Ranking metrics against hand-computed values on tiny lists and a tiny dataset. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { makeDataset } from "../../src/data/dataset.js";
import { rankingMetrics, rankListScores, scoreRankings } from "../../src/eval/ranking.js";
import { createModel } from "../../src/models/registry.js";

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

test("one list: precision, recall, NDCG and AP by hand", () => {
  // Hits at positions 1 and 3; 3 relevant movies; k = 4.
  const s = rankListScores(["a", "b", "c", "d"], new Set(["a", "c", "e"]), 4);
  close(s.precision, 2 / 4, "precision");
  close(s.recall, 2 / 3, "recall");
  close(s.ndcg, (1 + 1 / 2) / (1 + 1 / Math.log2(3) + 1 / 2), "ndcg");
  close(s.ap, (1 / 1 + 2 / 3) / 3, "ap");

  // A list shorter than k still divides precision by k; the ideal DCG has min(k, |Rel|) terms.
  const t = rankListScores(["x", "y"], new Set(["y"]), 2);
  close(t.precision, 0.5, "precision");
  close(t.recall, 1, "recall");
  close(t.ndcg, 1 / Math.log2(3), "ndcg");
  close(t.ap, 1 / 2, "ap");

  const none = rankListScores([1, 2, 3], new Set([9]), 3);
  assert.equal(none, { precision: 0, recall: 0, ndcg: 0, ap: 0 });
  assert.throws(() => rankListScores([1], new Set<number>(), 1), /at least one relevant/);
});

test("only the first k entries count", () => {
  const s = rankListScores([1, 2, 3], new Set([3]), 2);
  assert.equal(s, { precision: 0, recall: 0, ndcg: 0, ap: 0 });
});

test("means over users and catalogue coverage", () => {
  const s = scoreRankings([["a", "b", "c", "d"], ["x", "y"]], [new Set(["a", "c", "e"]), new Set(["y"])], 4, 10);
  close(s.precision, (2 / 4 + 1 / 4) / 2, "precision");
  close(s.recall, (2 / 3 + 1) / 2, "recall");
  close(s.coverage, 6 / 10, "coverage");
  assert.is(s.users, 2);
});

/** Movie means 10 > 11 > 12 > 13 > 14 > 15, so movie-mean recommends unseen movies in that order. */
function tiny() {
  const rows = {
    train: [[1, 10, 5], [1, 12, 4], [1, 14, 2], [2, 11, 5], [2, 13, 3], [2, 15, 1], [3, 10, 5], [3, 11, 4], [4, 12, 4], [4, 13, 3]],
    test: [[1, 11, 5], [1, 13, 2], [2, 10, 4], [2, 12, 5], [2, 14, 4], [3, 15, 1], [4, 14, 5]],
  };
  const users = Int32Array.of(1, 2, 3, 4);
  const movies = Int32Array.of(10, 11, 12, 13, 14, 15);
  const make = (r: number[][]) =>
    makeDataset({
      ratings: {
        user: Int32Array.from(r, (x) => x[0]! - 1),
        movie: Int32Array.from(r, (x) => x[1]! - 10),
        rating: Float32Array.from(r, (x) => x[2]!),
        day: new Int32Array(r.length),
      },
      users,
      movies,
      source: "test",
      sources: [],
      ratingScale: { min: 1, max: 5 },
    });
  return { train: make(rows.train), test: make(rows.test) };
}

test("rankingMetrics: a model's recommendations against the test set, by hand", async () => {
  const { train, test: testSet } = tiny();
  const model = await createModel("movie-mean").fit(train);
  // user 1: list [11, 13], Rel {11}; user 2: [10, 12], Rel {10, 12, 14}; user 3: no relevant (skipped);
  // user 4: [10, 11], Rel {14}.
  const s = rankingMetrics(model, testSet, { k: 2 });
  assert.is(s.users, 3);
  assert.is(s.skippedUsers, 1);
  assert.is(s.sampledOut, 0);
  close(s.precision, (1 / 2 + 1 + 0) / 3, "precision");
  close(s.recall, (1 + 2 / 3 + 0) / 3, "recall");
  close(s.ndcg, (1 + 1 + 0) / 3, "ndcg");
  close(s.map, (1 + 1 + 0) / 3, "map");
  close(s.coverage, 4 / 6, "coverage");
});

test("rankingMetrics: the user cap samples a seeded subset; bad k is refused", async () => {
  const { train, test: testSet } = tiny();
  const model = await createModel("movie-mean").fit(train);
  let progress = 0;
  const a = rankingMetrics(model, testSet, { k: 2, maxUsers: 2, seed: 3, batch: 1, onProgress: (d) => (progress = d) });
  assert.is(a.users, 2);
  assert.is(a.sampledOut, 1);
  assert.is(progress, 2);
  assert.equal(rankingMetrics(model, testSet, { k: 2, maxUsers: 2, seed: 3 }), a);
  assert.throws(() => rankingMetrics(model, testSet, { k: 0 }), /k must be a whole number/);
});

test.run();
