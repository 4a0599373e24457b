/** The similarity API (src/models/similarity.ts): every movie's top-k on 1 and 2 threads, user rows, errors. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { withRatings } from "../../src/data/split.js";
import { DataError } from "../../src/data/types.js";
import { alsBiases, alsBiasesOnWorker } from "../../src/models/baseline.js";
import { fitBiases, movieSimilarities, neighboursOf, ratingsByUser, Similarity, type Neighbours } from "../../src/models/similarity.js";
import { planted } from "./fixtures.js";

const { train } = planted({ users: 150, movies: 60, perUser: 25, testPerUser: 1, seed: 8 });
const ratings = ratingsByUser(train);
const baseline = await fitBiases(train);

function same(a: Neighbours, b: Neighbours, what: string) {
  assert.equal(Array.from(a.ptr), Array.from(b.ptr), `${what}: list lengths`);
  assert.equal(Array.from(a.idx), Array.from(b.idx), `${what}: neighbours`);
  assert.equal(Array.from(a.score), Array.from(b.score), `${what}: scores`);
}

test("topMovies: the same lists on the calling thread and on 2 worker threads, and as full rows (topMoviesOf)", async () => {
  const one = await Similarity.create(ratings, { baseline, threads: 1 });
  const two = await Similarity.create(ratings, { baseline, threads: 2 });
  const progress: number[] = [];
  const a = await one.topMovies(12, { onProgress: (done, total) => progress.push(done / total) });
  const b = await two.topMovies(12);
  same(a, b, "1 vs 2 threads");
  same(a, one.topMoviesOf(Int32Array.from({ length: 60 }, (_, i) => i), 12), "triangle vs full rows");
  assert.is(progress[progress.length - 1], 1);
  for (let i = 0; i < 60; i++) {
    const { idx, score } = neighboursOf(a, i);
    assert.ok(idx.length <= 12 && !idx.includes(i), `movie ${i}: itself excluded`);
    for (let k = 0; k < idx.length; k++) assert.ok(score[k]! > 0 && (k === 0 || score[k - 1]! >= score[k]!), `movie ${i}: positive, best first`);
  }
  await one.close();
  await two.close();
});

test("movieRow and userRows are symmetric with 1 on the diagonal; topUsers agrees with userRows", async () => {
  const sim = await Similarity.create(ratings, { sim: "pearson", minSupport: 3 });
  const r4 = sim.movieRow(4);
  const r9 = sim.movieRow(9);
  assert.is(r4[4], 1);
  assert.ok(Math.abs(r4[9]! - r9[4]!) < 1e-6);
  const users = Int32Array.of(0, 77, 149);
  const rows = sim.userRows(users);
  assert.is(rows.length, 3 * 150);
  assert.is(rows[77 + 150], 1);
  assert.ok(Math.abs(rows[77]! - rows[150]!) < 1e-6, "sim(0, 77) = sim(77, 0)");
  const top = sim.topUsers(users, 5);
  users.forEach((u, r) => {
    const row = rows.subarray(r * 150, (r + 1) * 150);
    const best = Array.from(row.keys()).filter((v) => v !== u && row[v]! > 0).sort((x, y) => row[y]! - row[x]! || x - y).slice(0, 5);
    assert.equal(Array.from(neighboursOf(top, r).idx), best, `user ${u}`);
  });
  await sim.close();
});

test("movieSimilarities (one movie from a dataset, its raters' ratings only) equals the full row", async () => {
  const full = await Similarity.fromDataset(train, { shrinkage: 30 });
  for (const i of [0, 31, 59]) {
    const one = await movieSimilarities(train, i, { shrinkage: 30 });
    assert.equal(Array.from(one), Array.from(full.movieRow(i)), `movie ${i}`);
  }
  await full.close();
});

test("fromDataset gives the same results for ratings in (movie, user) order, shuffled, and as a CSR by user", async () => {
  const { user, movie, rating, day } = train.ratings;
  const shuffled = Array.from(user.keys()).sort((a, b) => ((a * 7919) % 1009) - ((b * 7919) % 1009) || a - b);
  const sorted = Array.from(user.keys()).sort((a, b) => movie[a]! - movie[b]! || user[a]! - user[b]!);
  const reorder = (order: number[]) => withRatings(train, {
    user: Int32Array.from(order, (k) => user[k]!), movie: Int32Array.from(order, (k) => movie[k]!),
    rating: Float32Array.from(order, (k) => rating[k]!), day: Int32Array.from(order, (k) => day[k]!),
  }, {});
  const reference = await Similarity.create(ratings, { baseline, threads: 1 });
  const want = await reference.topMovies(10);
  for (const [what, order] of [["shuffled", shuffled], ["sorted", sorted]] as const) {
    const sim = await Similarity.fromDataset(reorder(order), { baseline, threads: 1 });
    same(await sim.topMovies(10), want, what);
    assert.equal(Array.from(sim.userRows(Int32Array.of(3))), Array.from(reference.userRows(Int32Array.of(3))), `${what}: user rows`);
    await sim.close();
  }
  await reference.close();
  const twice = [...sorted.slice(0, 5), sorted[4]!, ...sorted.slice(5)];
  try {
    await Similarity.fromDataset(reorder(twice), { baseline, threads: 1 });
    assert.unreachable("should refuse");
  } catch (err) {
    assert.match((err as Error).message, /rates movie \d+ more than once/);
  }
});

test("fromDataset fitting its own baseline: the same bits on 1 thread and with the ALS on a worker during the layout", async () => {
  const given = await Similarity.create(ratings, { baseline, threads: 1 });
  const want = await given.topMovies(10);
  for (const threads of [1, 2]) {
    const sim = await Similarity.fromDataset(train, { threads });
    same(await sim.topMovies(10), want, `${threads} thread(s)`);
    assert.equal(Array.from(sim.movieRow(7)), Array.from(given.movieRow(7)), `${threads} thread(s): movie row`);
    await sim.close();
  }
  await given.close();
});

test("alsBiasesOnWorker gives alsBiases' bits", async () => {
  const settings = { epochs: 4, regU: 15, regI: 10 };
  const here = await alsBiases(train, settings);
  const there = await (await alsBiasesOnWorker(train, settings)).biases;
  assert.is(there.mu, here.mu);
  assert.equal(Array.from(there.bu), Array.from(here.bu), "b_u");
  assert.equal(Array.from(there.bi), Array.from(here.bi), "b_i");
  assert.ok(here.bi.some((b) => b !== 0), "biases were fitted");
});

test("ties: lists order equal similarities by movie index, also across the k-th place (movies of unequal popularity)", async () => {
  // Every rating 5: cosine is 1 for every co-rated pair, so each list is one long tie.
  const R = ratingsByUser(train);
  const fives = { ...R, val: new Float32Array(R.val.length).fill(5) };
  const sim = await Similarity.create(fives, { sim: "cosine", threads: 1 });
  const k = 7;
  const lists = await sim.topMovies(k);
  const of = sim.topMoviesOf(Int32Array.of(3, 40), k);
  for (let i = 0; i < 60; i++) {
    const row = sim.movieRow(i);
    const want = Array.from(row.keys()).filter((j) => j !== i && row[j]! > 0).sort((a, b) => row[b]! - row[a]! || a - b).slice(0, k);
    assert.equal(Array.from(neighboursOf(lists, i).idx), want, `movie ${i}`);
    if (i === 3 || i === 40) assert.equal(Array.from(neighboursOf(of, i === 3 ? 0 : 1).idx), want, `topMoviesOf ${i}`);
  }
  await sim.close();
});

test("bad options and indices are refused with what is allowed", async () => {
  const refused = async (f: () => unknown, what: RegExp) => {
    try {
      await f();
      assert.unreachable("should refuse");
    } catch (err) {
      assert.instance(err, DataError);
      assert.match((err as Error).message, what);
    }
  };
  await refused(() => Similarity.create(ratings), /needs the baseline/);
  await refused(() => Similarity.create(ratings, { sim: "jaccard" as never }), /unknown similarity "jaccard"/);
  await refused(() => Similarity.create(ratings, { sim: "cosine", minSupport: 0 }), /minSupport/);
  const unsorted = { ...ratings, idx: ratings.idx.slice() };
  [unsorted.idx[0], unsorted.idx[1]] = [unsorted.idx[1]!, unsorted.idx[0]!];
  await refused(() => Similarity.create(unsorted, { sim: "cosine" }), /ascending/);
  const sim = await Similarity.create(ratings, { sim: "msd" });
  await refused(() => sim.movieRow(60), /movie index 60 is outside 0\.\.59/);
  await refused(() => sim.topUsers(Int32Array.of(1), 0), /k must be/);
  await sim.close();
});

test.run();
