/** CSR layouts by user and by movie, and the cross indices between them. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { buildCsrPair, csrByUser, mapValues } from "../../src/data/csr.js";
import { Rng } from "../../src/data/rng.js";
import { DataError } from "../../src/data/types.js";

const rng = new Rng(4);
const nU = 25;
const nM = 18;
const triples: [number, number, number][] = [];
for (let u = 0; u < nU; u++) for (let i = 0; i < nM; i++) if (rng.next() < 0.3) triples.push([u, i, 1 + rng.int(5)]);
const order = rng.permutation(triples.length);
const user = Int32Array.from(order, (k) => triples[k]![0]);
const movie = Int32Array.from(order, (k) => triples[k]![1]);
const value = Float32Array.from(order, (k) => triples[k]![2]);

test("both layouts hold every rating once, rows ascending, and the cross indices point at the same rating", () => {
  const { byUser, byMovie, userToMovie, movieToUser } = buildCsrPair(user, movie, value, nU, nM);
  assert.is(byUser.ptr[nU], triples.length);
  assert.is(byMovie.ptr[nM], triples.length);
  const seen = new Set<string>();
  for (let u = 0; u < nU; u++) {
    for (let e = byUser.ptr[u]!; e < byUser.ptr[u + 1]!; e++) {
      const i = byUser.idx[e]!;
      if (e > byUser.ptr[u]!) assert.ok(byUser.idx[e - 1]! < i, "movies ascending within a user");
      const m = userToMovie[e]!;
      assert.ok(m >= byMovie.ptr[i]! && m < byMovie.ptr[i + 1]!, "cross index inside the movie's row");
      assert.is(byMovie.idx[m], u);
      assert.is(byMovie.val[m], byUser.val[e]);
      assert.is(movieToUser[m], e);
      seen.add(`${u},${i},${byUser.val[e]}`);
    }
  }
  assert.equal(seen, new Set(triples.map((t) => t.join(","))));
  for (let i = 0; i < nM; i++) for (let e = byMovie.ptr[i]! + 1; e < byMovie.ptr[i + 1]!; e++) assert.ok(byMovie.idx[e - 1]! < byMovie.idx[e]!, "raters ascending");
});

test("ratings already in movie order give the same layout; mapValues keeps the structure", () => {
  const sorted = Int32Array.from(triples.keys()).sort((a, b) => triples[a]![1] - triples[b]![1] || a - b);
  const a = csrByUser(user, movie, value, nU, nM);
  const b = csrByUser(
    Int32Array.from(sorted, (k) => triples[k]![0]), Int32Array.from(sorted, (k) => triples[k]![1]), Float32Array.from(sorted, (k) => triples[k]![2]), nU, nM,
  );
  assert.equal(a, b);
  const shifted = mapValues(a, (u, i, r) => r - u - i / 100);
  assert.is(shifted.idx, a.idx);
  for (let u = 0; u < nU; u++) {
    for (let e = a.ptr[u]!; e < a.ptr[u + 1]!; e++) assert.is(shifted.val[e], Math.fround(a.val[e]! - u - a.idx[e]! / 100));
  }
});

test("an index outside the table is a DataError naming the rating", () => {
  const bad = movie.slice();
  bad[5] = nM;
  assert.throws(() => csrByUser(user, bad, value, nU, nM), (e: unknown) => e instanceof DataError && /index 18 of rating 5 is outside 0\.\.17/.test((e as Error).message));
  const inOrder = Int32Array.of(0, 1, 1, 2, nM);
  assert.throws(() => csrByUser(Int32Array.of(0, 1, 2, 3, 4), inOrder, new Float32Array(5), nU, nM), /index 18 of rating 4/);
});

test.run();
