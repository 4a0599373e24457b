import { test } from "uvu";
import * as assert from "uvu/assert";
import { Rng } from "../../src/data/rng.js";
import { DataError } from "../../src/data/types.js";
import { binRowOrder, buildGrid, gatherInto, remapColumn, unpermuteRows, type Grid } from "../../src/engine/grid.js";

function ratings(seed: number, nUsers: number, nMovies: number, n: number) {
  const rng = new Rng(seed);
  return {
    user: Int32Array.from({ length: n }, () => rng.int(nUsers)),
    movie: Int32Array.from({ length: n }, () => rng.int(nMovies)),
  };
}

function assertPermutation(order: Uint32Array, n: number): void {
  assert.is(order.length, n);
  const seen = new Uint8Array(n);
  for (const j of order) {
    assert.ok(j < n && seen[j] === 0, `index ${j} repeated or out of range`);
    seen[j] = 1;
  }
}

/** Every rating sits in the block of its user's and movie's bins; bins are balanced. */
function assertBlocks(grid: Grid, user: Int32Array, movie: Int32Array, nUsers: number, nMovies: number): void {
  const { bins, blockStart, order, userBin, movieBin } = grid;
  assert.is(blockStart.length, bins * bins + 1);
  assert.is(blockStart[0], 0);
  assert.is(blockStart[bins * bins], order.length);
  for (let b = 0; b < bins * bins; b++) {
    for (let x = blockStart[b]!; x < blockStart[b + 1]!; x++) {
      const j = order[x]!;
      assert.is(userBin[user[j]!]! * bins + movieBin[movie[j]!]!, b, `rating ${j} in block ${b}`);
    }
  }
  for (const [binOf, count] of [[userBin, nUsers], [movieBin, nMovies]] as const) {
    const sizes = new Array<number>(bins).fill(0);
    for (const bin of binOf) sizes[bin]!++;
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `bins of ${count} entities are balanced: ${sizes}`);
  }
}

test("the grid is a permutation, blocks hold exactly their users and movies, each sorted by (user, movie)", () => {
  const nUsers = 97, nMovies = 53, n = 5000, bins = 4;
  const { user, movie } = ratings(1, nUsers, nMovies, n);
  const grid = buildGrid(user, movie, nUsers, nMovies, bins, 7);
  assertPermutation(grid.order, n);
  assertBlocks(grid, user, movie, nUsers, nMovies);
  for (let b = 0; b < bins * bins; b++) {
    for (let x = grid.blockStart[b]! + 1; x < grid.blockStart[b + 1]!; x++) {
      const prev = grid.order[x - 1]!, cur = grid.order[x]!;
      const before = user[prev]! < user[cur]! || (user[prev] === user[cur] && movie[prev]! <= movie[cur]!);
      assert.ok(before, `block ${b} is not sorted at ${x}`);
    }
  }
  // Users (and movies) are shuffled across bins, not cut in index order.
  assert.ok(Array.from(grid.userBin.subarray(0, 24)).some((bin, u) => bin !== Math.floor((u * bins) / nUsers)));
});

test("the same seed gives the same grid; another seed another", () => {
  const { user, movie } = ratings(2, 40, 30, 800);
  const a = buildGrid(user, movie, 40, 30, 3, 11);
  const b = buildGrid(user, movie, 40, 30, 3, 11);
  const c = buildGrid(user, movie, 40, 30, 3, 12);
  assert.equal(a.order, b.order);
  assert.equal(a.blockStart, b.blockStart);
  assert.not.equal(a.order, c.order);
});

test("interleaving deals a block's users round robin and keeps the blocks", () => {
  const nUsers = 20, nMovies = 50, n = 3000;
  const { user, movie } = ratings(3, nUsers, nMovies, n);
  const plain = buildGrid(user, movie, nUsers, nMovies, 2, 5);
  const dealt = buildGrid(user, movie, nUsers, nMovies, 2, 5, { interleave: 3 });
  assertPermutation(dealt.order, n);
  assertBlocks(dealt, user, movie, nUsers, nMovies);
  assert.equal(dealt.blockStart, plain.blockStart);
  let sameUserNeighbours = 0;
  let plainSame = 0;
  for (let x = 1; x < n; x++) {
    if (user[dealt.order[x]!] === user[dealt.order[x - 1]!]) sameUserNeighbours++;
    if (user[plain.order[x]!] === user[plain.order[x - 1]!]) plainSame++;
  }
  assert.ok(sameUserNeighbours < plainSame / 3, `${sameUserNeighbours} vs ${plainSame} same-user neighbours`);
  // Within a block each user's ratings keep their (movie) order.
  const b0 = dealt.order.subarray(dealt.blockStart[0]!, dealt.blockStart[1]!);
  const lastMovie = new Map<number, number>();
  for (const j of b0) {
    assert.ok((lastMovie.get(user[j]!) ?? -1) <= movie[j]!, "per-user movie order kept");
    lastMovie.set(user[j]!, movie[j]!);
  }
});

test("edge cases: no ratings, one bin, more bins than users", () => {
  const empty = buildGrid(new Int32Array(0), new Int32Array(0), 5, 5, 3, 1);
  assert.is(empty.order.length, 0);
  assert.equal(Array.from(empty.blockStart), new Array(10).fill(0));
  const { user, movie } = ratings(4, 3, 4, 50);
  const one = buildGrid(user, movie, 3, 4, 1, 1);
  assertPermutation(one.order, 50);
  assert.equal(Array.from(one.blockStart), [0, 50]);
  const many = buildGrid(user, movie, 3, 4, 6, 1);
  assertPermutation(many.order, 50);
  assertBlocks(many, user, movie, 3, 4);
});

test("bad input is refused with a DataError that says what is allowed", () => {
  const user = Int32Array.from([0, 1, 2]);
  const movie = Int32Array.from([0, 1, 5]);
  assert.throws(() => buildGrid(user, movie, 3, 5, 2, 1), (e: Error) => e instanceof DataError && /rating 2: movie index 5 is outside 0..4/.test(e.message));
  assert.throws(() => buildGrid(user, Int32Array.from([0, 1, 2]), 2, 5, 2, 1), /rating 2: user index 2 is outside 0..1/);
  assert.throws(() => buildGrid(user, movie.subarray(0, 2), 3, 6, 2, 1), /user has 3 entries but movie has 2/);
  assert.throws(() => buildGrid(user, movie, 3, 6, 0, 1), /bins must be a whole number in 1..1024, got 0/);
  assert.throws(() => buildGrid(user, movie, 3, 6, 2, 1, { interleave: 0 }), /interleave must be a whole number ≥ 1/);
});

test("binRowOrder makes each bin's entities contiguous in index order; unpermuteRows undoes it in place", () => {
  const grid = buildGrid(Int32Array.of(0), Int32Array.of(0), 23, 5, 4, 9);
  const order = binRowOrder(grid.userBin, 4);
  assert.equal(Array.from(order).sort((a, b) => a - b), Array.from({ length: 23 }, (_, x) => x), "a permutation");
  for (let x = 1; x < 23; x++) {
    for (let y = 0; y < x; y++) {
      const before = grid.userBin[y]! < grid.userBin[x]! || (grid.userBin[y] === grid.userBin[x] && y < x);
      assert.is(order[y]! < order[x]!, before, `rows of ${y} and ${x}`);
    }
  }
  const stride = 3;
  const m = new Float32Array(23 * stride);
  for (let x = 0; x < 23; x++) for (let f = 0; f < stride; f++) m[order[x]! * stride + f] = x * 10 + f;
  unpermuteRows(m, stride, order);
  for (let x = 0; x < 23; x++) for (let f = 0; f < stride; f++) assert.is(m[x * stride + f], x * 10 + f);
  const col = Int32Array.of(0, 5, 22, 5);
  remapColumn(col, order);
  assert.equal(Array.from(col), [order[0], order[5], order[22], order[5]]);
});

test("gatherInto lays a column out in grid order", () => {
  const order = Uint32Array.from([2, 0, 1]);
  assert.equal(Array.from(gatherInto(Float32Array.from([10, 20, 30]), order, new Float32Array(3))), [30, 10, 20]);
  assert.throws(() => gatherInto(new Int32Array(3), order, new Int32Array(2)), /destination holds 2 entries, order has 3/);
});

test.run();
