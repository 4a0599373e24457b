/** The co-rating similarity kernels (assembly/similarity.ts) against plain f64 references. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { AbiError, Engine, KernelError } from "../../src/abi/index.js";
import { SIMILARITY_KINDS, TOPK_BLOCK, type SimilarityKind, type SimilarityParams } from "../../src/abi/kernels.js";
import { Rng } from "../../src/data/rng.js";
import { close, coRatings, dense, loadPair, randomRatings, referenceSimilarity } from "./corating-fixture.js";

const engine = await Engine.create({ bytes: 16 << 20 });
const { arena } = engine;

const R = randomRatings(3, 40, 15, 0.45);
// Residual-like values (not integers) for the products layout, as pearson-baseline uses.
const rng = new Rng(5);
const residual = Float32Array.from(R.rating, (r) => r - 3.6 + 0.3 * rng.normal());
const L = loadPair(arena, R, residual);
const byMovieValues = dense(R, residual, true);

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

const LANES = { products: 4, moments: 8, differences: 4 } as const;
type Layout = keyof typeof LANES;

/** Reference accumulator of movie row i: the layout's sums over co-raters, for columns `cols`. */
function referenceAcc(layout: Layout, i: number, cols: (c: number) => boolean): Float64Array {
  const out = new Float64Array(R.nMovies * LANES[layout]);
  for (let c = 0; c < R.nMovies; c++) {
    if (!cols(c)) continue;
    const p = c * LANES[layout];
    for (const [x, y] of coRatings(byMovieValues, i, c)) {
      out[p] += 1;
      if (layout === "products") {
        out[p + 1] += x * y;
        out[p + 2] += x * x;
        out[p + 3] += y * y;
      } else if (layout === "moments") {
        out[p + 1] += x;
        out[p + 2] += y;
        out[p + 3] += x * y;
        out[p + 4] += x * x;
        out[p + 5] += y * y;
      } else {
        out[p + 1] += x - y;
        out[p + 2] += (x - y) ** 2;
      }
    }
  }
  return out;
}

for (const layout of ["products", "moments", "differences"] as const) {
  test(`coAccumulate (${layout}): sums match the reference; SIMD and scalar agree bit for bit; upper keeps columns above the row`, () => {
    const mark = arena.mark();
    const size = R.nMovies * LANES[layout];
    for (const i of [0, 4, 14]) {
      const simd = arena.zeros("f32", size);
      const scalar = arena.zeros("f32", size);
      engine.coAccumulate(L.movieKey, i, L.byUser, layout, simd, { simd: true });
      engine.coAccumulate(L.movieKey, i, L.byUser, layout, scalar, { simd: false });
      assert.equal(arena.view(simd), arena.view(scalar), `row ${i}: simd vs scalar`);
      const err = close(arena.view(simd), referenceAcc(layout, i, () => true));
      assert.is(err, null, `row ${i}: ${err}`);
      const upper = arena.zeros("f32", size);
      engine.coAccumulate(L.movieKey, i, L.byUser, layout, upper, { upper: true });
      const errUpper = close(arena.view(upper), referenceAcc(layout, i, (c) => c > i));
      assert.is(errUpper, null, `row ${i} upper: ${errUpper}`);
    }
    arena.reset(mark);
  });
}

const PARAMS = (kind: SimilarityKind): SimilarityParams => ({ kind, minSupport: 6, shrinkage: 25 });
const layoutOf = (kind: SimilarityKind): Layout => (kind === "pearson" ? "moments" : kind === "msd" ? "differences" : "products");

/** The values each similarity correlates: residuals for pearson-baseline, else integer ratings. */
function problem(kind: SimilarityKind) {
  const values = kind === "pearson-baseline" ? residual : R.rating;
  const loaded = kind === "pearson-baseline" ? L : loadPair(arena, R, values);
  return { loaded, movies: dense(R, values, true), users: dense(R, values, false) };
}

for (const kind of SIMILARITY_KINDS) {
  test(`similarityFinalize (${kind}): similarities match Surprise's formulas; mask marks what top-k skips; the accumulators are cleared`, () => {
    const mark = arena.mark();
    const { loaded, movies } = problem(kind);
    const layout = layoutOf(kind);
    const acc = arena.zeros("f32", R.nMovies * LANES[layout]);
    const out = arena.array("f32", R.nMovies);
    const mask = arena.array("u8", R.nMovies);
    for (const i of [1, 7]) {
      engine.coAccumulate(loaded.movieKey, i, loaded.byUser, layout, acc);
      engine.similarityFinalize(acc, R.nMovies, 0, R.nMovies, PARAMS(kind), out, mask);
      const expected = Array.from({ length: R.nMovies }, (_, c) => referenceSimilarity(kind, coRatings(movies, i, c), 6, 25));
      const err = close(arena.view(out), expected, 1e-4);
      assert.is(err, null, `${kind} row ${i}: ${err}`);
      assert.equal(Array.from(arena.view(mask)), Array.from(arena.view(out), (s) => (s > 0 ? 0 : 1)));
      assert.ok(arena.view(acc).every((v) => v === 0), "accumulators cleared");
    }
    arena.reset(mark);
  });

  test(`similarityRows (${kind}): dense rows of movies and of users; top-k is the best positive similarities, itself excluded`, () => {
    const mark = arena.mark();
    const { loaded, movies, users } = problem(kind);
    const lanes = LANES[layoutOf(kind)];
    for (const side of ["movie", "user"] as const) {
      const key = side === "movie" ? loaded.movieKey : loaded.userKey;
      const other = side === "movie" ? loaded.byUser : loaded.byMovie;
      const values = side === "movie" ? movies : users;
      const n = key.nRows;
      const rowsList = side === "movie" ? [3, 0, 14] : [0, 17, 39, 5];
      const rows = arena.copyIn(Int32Array.from(rowsList));
      const out = arena.array("f32", rowsList.length * n);
      const scratch = { acc: arena.zeros("f32", n * lanes), out, mask: arena.array("u8", n) };
      const k = 5;
      const top = { k, idx: arena.array("i32", rowsList.length * k), score: arena.array("f32", rowsList.length * k) };
      engine.similarityRows(rows, key, other, PARAMS(kind), scratch, top, { dense: true });
      const got = arena.view(out);
      rowsList.forEach((x, r) => {
        const expected = Array.from({ length: n }, (_, c) => (c === x ? 1 : referenceSimilarity(kind, coRatings(values, x, c), 6, 25)));
        const row = got.subarray(r * n, (r + 1) * n);
        const err = close(row, expected, 1e-4);
        assert.is(err, null, `${side} ${x}: ${err}`);
        // The k best positive entries of this very row, ties to the lower index.
        const best = Array.from(row.keys()).filter((c) => c !== x && row[c]! > 0).sort((a, b) => row[b]! - row[a]! || a - b).slice(0, k);
        const idx = Array.from(arena.view(top.idx).subarray(r * k, (r + 1) * k));
        assert.equal(idx.slice(0, best.length), best, `${side} ${x} top-k`);
        assert.ok(idx.slice(best.length).every((v) => v === -1), "padding");
      });
    }
    arena.reset(mark);
  });

  test(`similarityUpper + triangleTopK (${kind}): the triangle holds every pair once and gives the same top-k as full rows`, () => {
    const mark = arena.mark();
    const { loaded, movies } = problem(kind);
    const n = R.nMovies;
    const lanes = LANES[layoutOf(kind)];
    const tri = arena.array("f32", (n * (n - 1)) / 2);
    const acc = arena.zeros("f32", n * lanes);
    engine.similarityUpper(0, 6, loaded.movieKey, loaded.byUser, PARAMS(kind), acc, tri);
    engine.similarityUpper(6, n, loaded.movieKey, loaded.byUser, PARAMS(kind), acc, tri, { simd: false });
    const t = arena.view(tri);
    let at = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const expected = referenceSimilarity(kind, coRatings(movies, i, j), 6, 25);
        assert.ok(Math.abs(t[at++]! - expected) <= 1e-4 * (1 + Math.abs(expected)), `pair ${i},${j}: ${t[at - 1]} vs ${expected}`);
      }
    }
    const k = 4;
    const all = arena.copyIn(Int32Array.from({ length: n }, (_, i) => i));
    const fromRows = { k, idx: arena.array("i32", n * k), score: arena.array("f32", n * k) };
    const scratch = { acc, out: arena.array("f32", n), mask: arena.array("u8", n) };
    engine.similarityRows(all, loaded.movieKey, loaded.byUser, PARAMS(kind), scratch, fromRows);
    const fromTri = { k, idx: arena.array("i32", n * k), score: arena.array("f32", n * k) };
    const topScratch = { rows: arena.array("f32", TOPK_BLOCK * n), mask: arena.array("u8", TOPK_BLOCK * n) };
    engine.triangleTopK(0, 9, n, tri, topScratch, { k, idx: fromTri.idx, score: fromTri.score });
    engine.triangleTopK(9, n, n, tri, topScratch, {
      k, idx: { ptr: fromTri.idx.ptr + 4 * 9 * k, length: (n - 9) * k, dtype: "i32" }, score: { ptr: fromTri.score.ptr + 4 * 9 * k, length: (n - 9) * k, dtype: "f32" },
    });
    assert.equal(arena.view(fromTri.idx), arena.view(fromRows.idx));
    // Compared as bits: the padding is NaN.
    assert.equal(bits(arena.view(fromTri.score)), bits(arena.view(fromRows.score)));
    arena.reset(mark);
  });
}

test("triangleTopK on a wide triangle (rows bounded from their last columns first): each row's best, ties by column", () => {
  const mark = arena.mark();
  const n = 1500;
  const k = 9;
  const r = new Rng(17);
  // Values rising with the column (the best neighbours come last), coarse enough to tie, some ≤ 0.
  const value = (j: number) => Math.round((j / n + 0.4 * r.next() - 0.2) * 40) / 40;
  const tri = arena.array("f32", (n * (n - 1)) / 2);
  const t = arena.view(tri);
  const full = new Float32Array(n * n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      t[at++] = value(j) + value(i);
      full[i * n + j] = full[j * n + i] = t[at - 1]!;
    }
  }
  const rows = [0, 1, 700, 1499];
  for (const i of rows) {
    const top = { k, idx: arena.array("i32", k), score: arena.array("f32", k) };
    engine.triangleTopK(i, i + 1, n, tri, { rows: arena.array("f32", TOPK_BLOCK * n), mask: arena.array("u8", TOPK_BLOCK * n) }, top);
    const row = full.subarray(i * n, (i + 1) * n);
    const want = Array.from(row.keys()).filter((j) => j !== i && row[j]! > 0).sort((a, b) => row[b]! - row[a]! || a - b).slice(0, k);
    assert.equal(Array.from(arena.view(top.idx)), want, `row ${i}`);
  }
  arena.reset(mark);
});

test("bad input: an out-of-range index in the data is a KernelError; bad parameters are refused before the call", () => {
  const mark = arena.mark();
  const bad = randomRatings(9, 6, 5, 0.8);
  const loaded = loadPair(arena, bad);
  arena.view(loaded.byUser.idx).fill(99);
  const acc = arena.zeros("f32", 5 * 4);
  try {
    engine.coAccumulate(loaded.movieKey, 1, loaded.byUser, "products", acc);
    assert.unreachable("should have failed");
  } catch (err) {
    assert.instance(err, KernelError);
    assert.match((err as Error).message, "STATUS_INDEX_OUT_OF_RANGE");
  }
  const out = arena.array("f32", 5);
  assert.throws(() => engine.similarityFinalize(acc, 5, 0, 5, { kind: "jaccard" as SimilarityKind, minSupport: 1, shrinkage: 0 }, out), (e: unknown) => e instanceof AbiError && /kind must be one of/.test((e as Error).message));
  assert.throws(() => engine.similarityFinalize(acc, 5, 0, 5, { kind: "cosine", minSupport: -1, shrinkage: 0 }, out), /minSupport/);
  assert.throws(() => engine.coAccumulate(loaded.movieKey, 7, loaded.byUser, "products", acc), /row must be in 0\.\.4/);
  assert.throws(() => engine.similarityUpper(0, 5, loaded.movieKey, loaded.byMovie, PARAMS("cosine"), acc, out), /not two layouts|symmetric/);
  arena.reset(mark);
});

test.run();
