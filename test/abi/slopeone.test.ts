/** The SlopeOne kernels (assembly/slopeone.ts) against plain references. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine } from "../../src/abi/index.js";
import { close, coRatings, dense, loadPair, randomRatings } from "./corating-fixture.js";

const engine = await Engine.create({ bytes: 8 << 20 });
const { arena } = engine;
const R = randomRatings(21, 35, 14, 0.4);
const L = loadPair(arena, R);
const byMovie = dense(R, R.rating, true);
const n = R.nMovies;
const pairs = (n * (n - 1)) / 2;

function triangle(simd: boolean) {
  const tri = { dev: arena.array("f32", pairs), count: arena.array("i32", pairs) };
  const acc = arena.zeros("f32", 4 * n);
  engine.slopeOneRows(0, 5, L.movieKey, L.byUser, acc, tri, { simd });
  engine.slopeOneRows(5, n, L.movieKey, L.byUser, acc, tri, { simd });
  return tri;
}

test("slopeOneRows: dev(i, j) = mean of r_ui − r_uj over co-raters and c(i, j) for every i < j, on both paths", () => {
  const mark = arena.mark();
  const simd = triangle(true);
  const scalar = triangle(false);
  assert.equal(Array.from(arena.view(simd.dev)), Array.from(arena.view(scalar.dev)));
  const dev: number[] = [];
  const count: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const co = coRatings(byMovie, i, j);
      count.push(co.length);
      dev.push(co.length ? co.reduce((s, [x, y]) => s + x - y, 0) / co.length : 0);
    }
  }
  assert.equal(Array.from(arena.view(simd.count)), count);
  assert.is(close(arena.view(simd.dev), dev), null);
  arena.reset(mark);
});

test("slopeOnePredict: weighted and plain sums over the user's other movies with enough co-raters", () => {
  const mark = arena.mark();
  const tri = triangle(true);
  const dev = arena.view(tri.dev);
  const cnt = arena.view(tri.count);
  const at = (i: number, j: number) => i * n - (i * (i + 1)) / 2 + (j - i - 1);
  const us = Int32Array.from({ length: 60 }, (_, t) => t % R.nUsers);
  const is = Int32Array.from({ length: 60 }, (_, t) => (t * 7) % n);
  for (const minSupport of [1, 4]) {
    for (const weighted of [true, false]) {
      const got = engine.slopeOnePredict(us, is, L.byUser, tri, minSupport, weighted);
      us.forEach((u, t) => {
        const i = is[t]!;
        let num = 0, den = 0;
        const { ptr, idx, val } = L.pair.byUser;
        for (let e = ptr[u]!; e < ptr[u + 1]!; e++) {
          const j = idx[e]!;
          if (j === i) continue;
          const c = cnt[i < j ? at(i, j) : at(j, i)]!;
          if (c < minSupport) continue;
          const d = i < j ? dev[at(i, j)]! : -dev[at(j, i)]!;
          num += weighted ? (d + val[e]!) * c : d;
          den += weighted ? c : 1;
        }
        assert.is(close([got.num[t]!, got.den[t]!], [num, den], 1e-9), null, `pair ${t} (minSupport ${minSupport}, weighted ${weighted})`);
      });
    }
  }
  assert.throws(() => engine.slopeOnePredict(us, is, L.byUser, tri, 0, true), /minSupport/);
  arena.reset(mark);
});

test.run();
