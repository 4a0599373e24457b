import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateDataset } from "../../src/data/generate.js";
import { noiseFloor } from "../../src/data/planted.js";
import { makeDataset, readDataset } from "../../src/data/dataset.js";
import { split, writeSplit, type SplitPart } from "../../src/data/split.js";
import { DataError, type Dataset } from "../../src/data/types.js";

const tmp = mkdtempSync(join(tmpdir(), "movierec-split-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const parent = generateDataset({ users: 3000, movies: 600, ratings: 100_000, seed: 3 });
const N = parent.meta.nRatings;

/** (user, movie) keys of a dataset, sorted: no pair repeats in generated data, so these identify ratings. */
function keys(ds: Dataset): Float64Array {
  const { user, movie } = ds.ratings;
  return Float64Array.from({ length: user.length }, (_, r) => user[r]! * 1e6 + movie[r]!).sort();
}

function sameKeys(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((x, k) => x === b[k]);
}

/** train ∪ test = parent and train ∩ test = ∅, by (user, movie) pairs; the rating and day travel along. */
function assertPartition(p: SplitPart): void {
  assert.is(p.train.meta.nRatings + p.test.meta.nRatings, N);
  const both = new Float64Array(N);
  both.set(keys(p.train));
  both.set(keys(p.test), p.train.meta.nRatings);
  assert.ok(sameKeys(both.sort(), keys(parent)), "train ∪ test is the parent, without overlap");
  const byPair = new Map<number, string>();
  parent.ratings.user.forEach((u, r) => byPair.set(u * 1e6 + parent.ratings.movie[r]!, `${parent.ratings.rating[r]}@${parent.ratings.day[r]}`));
  for (const half of [p.train, p.test]) {
    const { user, movie, rating, day } = half.ratings;
    for (let r = 0; r < user.length; r += 97) assert.is(byPair.get(user[r]! * 1e6 + movie[r]!), `${rating[r]}@${day[r]}`);
  }
}

function assertKeepsParentTables(p: SplitPart): void {
  for (const half of [p.train, p.test]) {
    assert.ok(half.users === parent.users && half.movies === parent.movies, "id tables shared with the parent");
    assert.ok(half.titles === parent.titles && half.years === parent.years);
    assert.equal(half.meta.ratingScale, parent.meta.ratingScale);
    assert.equal(half.meta.generator, parent.meta.generator);
    assert.is(half.meta.nUsers, parent.meta.nUsers);
    assert.is(half.meta.split!.parent, parent.meta.contentHash);
  }
  assert.is(p.train.meta.split!.part, "train");
  assert.is(p.test.meta.split!.part, "test");
}

test("temporal: the earliest 80% by date train, exactly", () => {
  const [p] = split(parent, { method: "temporal" });
  assert.is(p!.name, "temporal");
  assert.is(p!.train.meta.nRatings, Math.round(0.8 * N));
  assertPartition(p!);
  assertKeepsParentTables(p!);
  assert.ok(p!.train.meta.dayRange!.max <= p!.test.meta.dayRange!.min, "no train rating after a test rating");
  assert.equal(p!.test.meta.split, { method: "temporal", ratio: 0.8, seed: 1, parent: parent.meta.contentHash, part: "test" });
  const [q] = split(parent, { method: "temporal", ratio: 0.5, seed: 9 });
  assert.is(q!.test.meta.nRatings, N - Math.round(0.5 * N));
});

test("temporal: same-day ties at the cut are broken by the seed, exactly and deterministically", () => {
  const n = 1000;
  const ds = makeDataset({
    ratings: {
      user: Int32Array.from({ length: n }, (_, r) => r % 50),
      movie: Int32Array.from({ length: n }, (_, r) => Math.floor(r / 50)),
      rating: new Float32Array(n).fill(3),
      day: new Int32Array(n).fill(12000),
    },
    users: Int32Array.from({ length: 50 }, (_, u) => u + 1),
    movies: Int32Array.from({ length: 20 }, (_, i) => i + 1),
    source: "test",
    sources: [],
    ratingScale: { min: 1, max: 5 },
  });
  const a = split(ds, { method: "temporal", ratio: 0.7, seed: 1 })[0]!;
  const b = split(ds, { method: "temporal", ratio: 0.7, seed: 1 })[0]!;
  const c = split(ds, { method: "temporal", ratio: 0.7, seed: 2 })[0]!;
  assert.is(a.test.meta.nRatings, 300);
  assert.is(a.test.meta.contentHash, b.test.meta.contentHash);
  assert.is.not(a.test.meta.contentHash, c.test.meta.contentHash);
});

test("probe with lastFraction: with the generator's seed and 0.1 it is exactly the generator's held-out part", () => {
  const [p] = split(parent, { method: "probe", lastFraction: 0.1, seed: 3 });
  assertPartition(p!);
  const counts = new Int32Array(parent.users.length);
  for (const u of parent.ratings.user) counts[u]!++;
  let want = 0;
  for (const m of counts) want += Math.floor(m / 10);
  assert.is(p!.test.meta.nRatings, want);
  const floor = noiseFloor(p!.test)!;
  const recorded = (parent.meta.generator as { noiseFloorRmse: number }).noiseFloorRmse;
  assert.ok(Math.abs(floor - recorded) <= 5e-5, `noise floor ${floor} vs recorded ${recorded}`);
  assert.throws(() => split(parent, { method: "probe", last: 3, lastFraction: 0.1 }), /exclude each other/);
  assert.throws(() => split(parent, { method: "probe", lastFraction: 1.5 }), /out of range/);
  assert.throws(() => split(parent, { method: "temporal", lastFraction: 0.1 }), /--last-fraction does not apply/);
});

test("probe: each user's latest `last` ratings test, one always left to train", () => {
  const [p] = split(parent, { method: "probe" });
  assert.is(p!.name, "probe");
  assertPartition(p!);
  assertKeepsParentTables(p!);
  const nU = parent.meta.nUsers;
  const all = new Int32Array(nU);
  const inTest = new Int32Array(nU);
  const lastTrain = new Int32Array(nU).fill(-1);
  const firstTest = new Int32Array(nU).fill(1e9);
  parent.ratings.user.forEach((u) => all[u]++);
  p!.train.ratings.user.forEach((u, r) => (lastTrain[u] = Math.max(lastTrain[u]!, p!.train.ratings.day[r]!)));
  p!.test.ratings.user.forEach((u, r) => {
    inTest[u]++;
    firstTest[u] = Math.min(firstTest[u]!, p!.test.ratings.day[r]!);
  });
  let expected = 0;
  for (let u = 0; u < nU; u++) {
    assert.is(inTest[u], Math.min(5, all[u]! - 1), `user ${u} with ${all[u]} ratings`);
    assert.ok(lastTrain[u]! >= 0, `user ${u} keeps a train rating`);
    if (inTest[u]! > 0) assert.ok(lastTrain[u]! <= firstTest[u]!, `user ${u}: a test rating before a train rating`);
    expected += Math.min(5, all[u]! - 1);
  }
  assert.is(p!.test.meta.nRatings, expected);
  assert.is(p!.test.meta.split!.last, 5);
  const [q] = split(parent, { method: "probe", last: 2, seed: 4 });
  assert.ok(q!.test.meta.nRatings < p!.test.meta.nRatings);
});

test("probe and temporal: same seed → identical parts", () => {
  for (const method of ["probe", "temporal"] as const) {
    const a = split(parent, { method, seed: 5 })[0]!;
    const b = split(parent, { method, seed: 5 })[0]!;
    assert.is(a.train.meta.contentHash, b.train.meta.contentHash);
    assert.is(a.test.meta.contentHash, b.test.meta.contentHash);
  }
});

test("kfold: equal folds that partition the ratings; seeded", () => {
  const parts = split(parent, { method: "kfold", folds: 3, seed: 2 });
  assert.equal(parts.map((p) => p.name), ["fold1", "fold2", "fold3"]);
  const tests = new Float64Array(N);
  let off = 0;
  for (const p of parts) {
    assert.ok(Math.abs(p.test.meta.nRatings - N / 3) < 1, `fold size ${p.test.meta.nRatings}`);
    assertPartition(p);
    assertKeepsParentTables(p);
    tests.set(keys(p.test), off);
    off += p.test.meta.nRatings;
  }
  assert.ok(sameKeys(tests.sort(), keys(parent)), "every rating is tested exactly once");
  assert.equal(parts[1]!.test.meta.split, { method: "kfold", folds: 3, fold: 2, seed: 2, parent: parent.meta.contentHash, part: "test" });
  const again = split(parent, { method: "kfold", folds: 3, seed: 2 });
  const other = split(parent, { method: "kfold", folds: 3, seed: 3 });
  assert.is(again[0]!.test.meta.contentHash, parts[0]!.test.meta.contentHash);
  assert.is.not(other[0]!.test.meta.contentHash, parts[0]!.test.meta.contentHash);
  assert.is(split(parent, { method: "kfold" }).length, 5);
});

test("the noise floor of a generated dataset's test part is computable and ≈ 0.85", () => {
  const [p] = split(parent, { method: "probe", last: 10 });
  const floor = noiseFloor(p!.test)!;
  assert.ok(floor >= 0.8 && floor <= 0.9, `floor ${floor}`);
});

test("bad options and undated data are refused with a DataError", () => {
  const undated = makeDataset({
    ratings: { user: Int32Array.of(0, 1), movie: Int32Array.of(0, 0), rating: Float32Array.of(3, 4), day: new Int32Array(2) },
    users: Int32Array.of(1, 2),
    movies: Int32Array.of(1),
    source: "test",
    sources: [],
    ratingScale: { min: 1, max: 5 },
  });
  const cases: [Dataset, Parameters<typeof split>[1]][] = [
    [parent, { method: "temporal", ratio: 1.5 }],
    [parent, { method: "temporal", ratio: 0 }],
    [parent, { method: "probe", last: 0 }],
    [parent, { method: "probe", last: 2.5 }],
    [parent, { method: "kfold", folds: 1 }],
    [parent, { method: "kfold", ratio: 0.5 }],
    [parent, { method: "temporal", seed: -1 }],
    [parent, { method: "bogus" as "kfold" }],
    [undated, { method: "temporal" }],
    [undated, { method: "probe" }],
  ];
  for (const [ds, opts] of cases) {
    assert.throws(() => split(ds, opts), (e: unknown) => e instanceof DataError, JSON.stringify(opts));
  }
  assert.is(split(undated, { method: "kfold", folds: 2 }).length, 2);
});

test("writeSplit: train/ and test/ plus split.json, readable back", async () => {
  const parts = split(parent, { method: "temporal", ratio: 0.9 });
  const out = join(tmp, "temporal");
  await writeSplit(out, parts);
  assert.equal(readdirSync(out).sort(), ["split.json", "test", "train"]);
  const train = await readDataset(join(out, "train"));
  const test_ = await readDataset(join(out, "test"));
  assert.is(train.meta.contentHash, parts[0]!.train.meta.contentHash);
  assert.is(test_.meta.contentHash, parts[0]!.test.meta.contentHash);
  assert.equal(test_.meta.split, parts[0]!.test.meta.split);
  assert.equal(test_.meta.generator, parent.meta.generator);
  assert.equal(test_.titles, parent.titles);
  const manifest = JSON.parse(readFileSync(join(out, "split.json"), "utf8"));
  assert.is(manifest.method, "temporal");
  assert.is(manifest.ratio, 0.9);
  assert.is(manifest.parent.contentHash, parent.meta.contentHash);
  assert.equal(manifest.parts[0].test, { path: "test", nRatings: test_.meta.nRatings, contentHash: test_.meta.contentHash });
  assert.equal(readdirSync(tmp).filter((f) => f.includes("tmp")), []);
});

test("writeSplit: k-fold writes fold1..foldK and refuses an existing folder unless forced", async () => {
  const parts = split(parent, { method: "kfold", folds: 2, seed: 8 });
  const out = join(tmp, "kfold");
  mkdirSync(out);
  writeFileSync(join(out, "keep"), "x");
  try {
    await writeSplit(out, parts);
    assert.unreachable("should refuse");
  } catch (err) {
    assert.instance(err, DataError);
  }
  assert.ok(existsSync(join(out, "keep")));
  await writeSplit(out, parts, { force: true });
  assert.equal(readdirSync(out).sort(), ["fold1", "fold2", "split.json"]);
  const back = await readDataset(join(out, "fold2", "test"));
  assert.is(back.meta.contentHash, parts[1]!.test.meta.contentHash);
  const manifest = JSON.parse(readFileSync(join(out, "split.json"), "utf8"));
  assert.equal(manifest.parts.map((p: { train: { path: string } }) => p.train.path), [join("fold1", "train"), join("fold2", "train")]);
  assert.is(manifest.folds, 2);
  assert.is(manifest.fold, undefined);
});

test.run();
