import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeDataset, readDataset, writeAtomicDir, writeDataset } from "../../src/data/dataset.js";
import { DataError } from "../../src/data/types.js";

const tmp = mkdtempSync(join(tmpdir(), "movierec-dataset-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function sample(n: number, stringIds = false) {
  const user = new Int32Array(n), movie = new Int32Array(n), day = new Int32Array(n);
  const rating = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    user[r] = r % 7;
    movie[r] = (r * 3) % 5;
    rating[r] = 1 + (r % 5);
    day[r] = 11000 + r;
  }
  return makeDataset({
    ratings: { user, movie, rating, day },
    users: stringIds ? ["a", "b", "c", "d", "e", "f", "g"] : Int32Array.from([10, 20, 30, 40, 50, 60, 70]),
    movies: Int32Array.from([5, 4, 3, 2, 1]),
    titles: ["Five", "Amélie", null, "Two, with a comma", "One"],
    years: Int32Array.from([1999, 0, 2001, 2002, 2003]),
    source: "test",
    sources: [{ path: "x", bytes: 1 }],
    ratingScale: { min: 1, max: 5 },
  });
}

test("write → read round-trips every column, ids, titles, years and meta", async () => {
  const ds = sample(3_000_000);
  const dir = join(tmp, "a");
  await writeDataset(dir, ds);
  const back = await readDataset(dir);
  assert.equal(Array.from(back.ratings.user.subarray(0, 50)), Array.from(ds.ratings.user.subarray(0, 50)));
  assert.ok(Buffer.from(back.ratings.rating.buffer, back.ratings.rating.byteOffset, back.ratings.rating.byteLength)
    .equals(Buffer.from(ds.ratings.rating.buffer)));
  assert.ok(Buffer.from(back.ratings.day.buffer, back.ratings.day.byteOffset, back.ratings.day.byteLength)
    .equals(Buffer.from(ds.ratings.day.buffer)));
  assert.equal(Array.from(back.users as Int32Array), [10, 20, 30, 40, 50, 60, 70]);
  assert.equal(back.titles, ["Five", "Amélie", null, "Two, with a comma", "One"]);
  assert.equal(Array.from(back.years!), [1999, 0, 2001, 2002, 2003]);
  assert.equal(back.meta.contentHash, ds.meta.contentHash);
  assert.equal(back.meta.dayRange, { min: 11000, max: 11000 + 3_000_000 - 1 });
  assert.equal(readdirSync(tmp).filter((f) => f.includes(".tmp-")), []);
});

test("string raw ids round-trip and change the content hash", async () => {
  const ds = sample(100, true);
  assert.is.not(ds.meta.contentHash, sample(100).meta.contentHash);
  await writeDataset(join(tmp, "s"), ds);
  const back = await readDataset(join(tmp, "s"));
  assert.equal(back.users, ["a", "b", "c", "d", "e", "f", "g"]);
});

test("an existing folder is refused without force and replaced with it", async () => {
  const dir = join(tmp, "b");
  mkdirSync(dir);
  writeFileSync(join(dir, "keep.txt"), "x");
  try {
    await writeDataset(dir, sample(10));
    assert.unreachable("should refuse");
  } catch (err) {
    assert.instance(err, DataError);
    assert.match((err as Error).message, "already exists");
  }
  assert.ok(existsSync(join(dir, "keep.txt")));
  await writeDataset(dir, sample(10), { force: true });
  assert.not.ok(existsSync(join(dir, "keep.txt")));
  assert.is((await readDataset(dir)).meta.nRatings, 10);
});

test("a failure while writing leaves no folder and no temporary folder", async () => {
  const dir = join(tmp, "c");
  try {
    await writeAtomicDir(dir, {}, async (t) => {
      writeFileSync(join(t, "half"), "x");
      throw new Error("boom");
    });
    assert.unreachable();
  } catch (err) {
    assert.is((err as Error).message, "boom");
  }
  assert.not.ok(existsSync(dir));
  assert.equal(readdirSync(tmp).filter((f) => f.startsWith(".c.tmp")), []);
});

test("bad inputs are refused with a clear message", async () => {
  assert.throws(() => makeDataset({ ...sampleInput(), users: Int32Array.from([1]) }), /outside 1 users/);
  try {
    await readDataset(join(tmp, "nope"));
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, "not a dataset folder");
  }
});

function sampleInput() {
  const ds = sample(10);
  return { ratings: ds.ratings, users: ds.users, movies: ds.movies, source: "t", sources: [], ratingScale: { min: 1, max: 5 } };
}

test.run();
