/** The k-NN aggregation kernel (assembly/knn.ts) against a plain reference. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine, KernelError } from "../../src/abi/index.js";
import { Rng } from "../../src/data/rng.js";
import { close, loadPair, randomRatings } from "./corating-fixture.js";

const engine = await Engine.create({ bytes: 8 << 20 });
const { arena } = engine;
const R = randomRatings(11, 30, 25, 0.5);
const rng = new Rng(2);
const values = Float32Array.from(R.rating, (r) => r - 3 + 0.1 * rng.normal());
const L = loadPair(arena, R, values);

/** Surprise's neighbour sums: the k highest similarities among the row's candidates, positive ones only. */
function reference(sim: Float32Array, y: number, k: number): [number, number, number] {
  const { ptr, idx, val } = L.pair.byUser;
  const cands: [number, number][] = [];
  for (let e = ptr[y]!; e < ptr[y + 1]!; e++) if (sim[idx[e]!]! > 0) cands.push([sim[idx[e]!]!, val[e]!]);
  cands.sort((a, b) => b[0] - a[0]);
  let num = 0, den = 0;
  for (const [s, v] of cands.slice(0, k)) {
    num += s * v;
    den += s;
  }
  return [num, den, Math.min(k, cands.length)];
}

test("knnAggregate: the k most similar positive candidates of each row give Σ sim·value, Σ sim and their count", () => {
  const mark = arena.mark();
  // Distinct similarities (no ties at the cut-off), some ≤ 0.
  const perm = rng.permutation(R.nMovies);
  const sim = Float32Array.from(perm, (p) => (p - 6) / R.nMovies);
  const simRegion = arena.copyIn(sim);
  const ys = Int32Array.from({ length: R.nUsers }, (_, u) => u);
  for (const k of [1, 3, 10, 40]) {
    const got = engine.knnAggregate(simRegion, L.byUser, ys, k);
    for (const y of ys) {
      const [num, den, count] = reference(sim, y, k);
      assert.is(got.count[y], count, `k ${k} row ${y} count`);
      assert.is(close([got.num[y]!, got.den[y]!], [num, den], 1e-6), null, `k ${k} row ${y}`);
    }
  }
  const none = engine.knnAggregate(simRegion, L.byUser, ys, 0);
  assert.ok(none.count.every((c) => c === 0) && none.den.every((d) => d === 0));
  arena.reset(mark);
});

test("knnAggregate: a candidate id outside the similarity row is a KernelError", () => {
  const mark = arena.mark();
  const short = arena.zeros("f32", R.nMovies);
  const cand = { ...L.byUser, nCols: 3 };
  assert.throws(() => engine.knnAggregate(short, cand, Int32Array.of(0, 1), 5), (e: unknown) => e instanceof KernelError);
  assert.throws(() => engine.knnAggregate(short, L.byUser, Int32Array.of(R.nUsers), 5), (e: unknown) => e instanceof KernelError);
  arena.reset(mark);
});

test.run();
