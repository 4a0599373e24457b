import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generate, generateDataset } from "../../src/data/generate.js";
import { noiseFloor, plantedModel, type GeneratorRecord } from "../../src/data/planted.js";
import { readDataset } from "../../src/data/dataset.js";
import { DataError, type Dataset } from "../../src/data/types.js";

const tmp = mkdtempSync(join(tmpdir(), "movierec-generate-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

// Netflix-like density (2.5%; Netflix 1.2%).
const SHAPE = { users: 4000, movies: 1500, ratings: 150_000, seed: 7 };
const shaped = generateDataset(SHAPE);
const FIRST_DAY = Date.UTC(1999, 10, 11) / 86_400_000;
const LAST_DAY = Date.UTC(2005, 11, 31) / 86_400_000;

function counts(index: Int32Array, n: number): Int32Array {
  const c = new Int32Array(n);
  for (let r = 0; r < index.length; r++) c[index[r]!]++;
  return c;
}

function median(a: Int32Array): number {
  const s = Int32Array.from(a).sort();
  return s[s.length >> 1]!;
}

function isoDay(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

test("sizes are exact and every user and movie has a rating", () => {
  assert.is(shaped.meta.nRatings, SHAPE.ratings);
  assert.is(shaped.meta.nUsers, SHAPE.users);
  assert.is(shaped.meta.nMovies, SHAPE.movies);
  assert.is(shaped.meta.source, "generated");
  assert.ok(counts(shaped.ratings.user, SHAPE.users).every((c) => c >= 1), "a user without ratings");
  assert.ok(counts(shaped.ratings.movie, SHAPE.movies).every((c) => c >= 1), "a movie without ratings");
});

test("no user rates a movie twice", () => {
  const { user, movie } = shaped.ratings;
  const keys = Float64Array.from({ length: user.length }, (_, r) => user[r]! * SHAPE.movies + movie[r]!).sort();
  let dups = 0;
  for (let r = 1; r < keys.length; r++) if (keys[r] === keys[r - 1]) dups++;
  assert.is(dups, 0);
});

test("ratings per user and per movie are heavy-tailed like Netflix's", () => {
  const perUser = counts(shaped.ratings.user, SHAPE.users);
  const perMovie = counts(shaped.ratings.movie, SHAPE.movies);
  // Netflix: median user 96 of a mean 209.25; scaled to this size.
  const target = (96 / 209.25) * (SHAPE.ratings / SHAPE.users);
  const med = median(perUser);
  assert.ok(Math.abs(med - target) <= 0.15 * target, `median user ${med}, target ${target.toFixed(1)}`);
  assert.ok(Math.max(...perUser) >= 8 * med, `max user ${Math.max(...perUser)} vs median ${med}`);
  const medMovie = median(perMovie);
  assert.ok(Math.max(...perMovie) >= 30 * medMovie, `max movie ${Math.max(...perMovie)} vs median ${medMovie}`);
  const few = perMovie.filter((c) => c < medMovie / 5).length;
  assert.ok(few >= SHAPE.movies / 20, `${few} movies with under a fifth of the median count`);
});

test("ratings are integers 1..5 with mean ≈ 3.6 and 4 the most common", () => {
  const hist = [0, 0, 0, 0, 0, 0];
  let sum = 0;
  for (const x of shaped.ratings.rating) {
    assert.ok(Number.isInteger(x) && x >= 1 && x <= 5, `rating ${x}`);
    hist[x]!++;
    sum += x;
  }
  const mean = sum / SHAPE.ratings;
  assert.ok(mean > 3.5 && mean < 3.7, `mean ${mean}`);
  assert.is(hist.indexOf(Math.max(...hist)), 4);
  assert.ok(hist.every((h, v) => v === 0 || h > 0), "every rating value occurs");
});

test("dates lie in 1999-11-11..2005-12-31 and grow over time", () => {
  const perYear = new Map<number, number>();
  for (const d of shaped.ratings.day) {
    assert.ok(d >= FIRST_DAY && d <= LAST_DAY, `day ${isoDay(d)}`);
    const y = new Date(d * 86_400_000).getUTCFullYear();
    perYear.set(y, (perYear.get(y) ?? 0) + 1);
  }
  for (let y = 2001; y <= 2005; y++) assert.ok(perYear.get(y)! > perYear.get(y - 1)!, `${y} has fewer ratings than ${y - 1}`);
  // Each user rates within a sub-range: most users span less than the whole period.
  const lo = new Int32Array(SHAPE.users).fill(LAST_DAY);
  const hi = new Int32Array(SHAPE.users).fill(FIRST_DAY);
  shaped.ratings.user.forEach((u, r) => {
    lo[u] = Math.min(lo[u]!, shaped.ratings.day[r]!);
    hi[u] = Math.max(hi[u]!, shaped.ratings.day[r]!);
  });
  const short = lo.filter((l, u) => hi[u]! - l < (LAST_DAY - FIRST_DAY) / 2).length;
  assert.ok(short > SHAPE.users / 2, `${short} users active over less than half the period`);
});

test("user ids are sparse and ascending, movie ids are 1..movies, titles and years present", () => {
  const ids = shaped.users as Int32Array;
  const range = (shaped.meta.generator as unknown as GeneratorRecord).userIdRange;
  assert.ok(range > 5 * SHAPE.users);
  for (let u = 1; u < ids.length; u++) assert.ok(ids[u]! > ids[u - 1]!);
  assert.ok(ids[0]! >= 1 && ids[ids.length - 1]! <= range && ids[ids.length - 1]! > SHAPE.users);
  assert.equal(Array.from(shaped.movies as Int32Array).slice(0, 3), [1, 2, 3]);
  assert.is(shaped.titles!.length, SHAPE.movies);
  assert.ok(shaped.years!.some((y) => y === 0), "some unknown years");
  assert.ok(shaped.years!.every((y) => y === 0 || (y >= 1915 && y <= 2005)));
});

test("same seed → same content hash; another seed → another", () => {
  const opts = { users: 800, movies: 300, ratings: 30_000 };
  const a = generateDataset({ ...opts, seed: 11 });
  const b = generateDataset({ ...opts, seed: 11 });
  const c = generateDataset({ ...opts, seed: 12 });
  assert.is(a.meta.contentHash, b.meta.contentHash);
  assert.equal(a.meta.generator, b.meta.generator);
  assert.is.not(a.meta.contentHash, c.meta.contentHash);
});

test("the planted model's noise floor is ≈ 0.85 and re-created from the record", () => {
  const g = shaped.meta.generator as unknown as GeneratorRecord;
  assert.ok(g.noiseFloorRmse >= 0.8 && g.noiseFloorRmse <= 0.9, `held-out floor ${g.noiseFloorRmse}`);
  assert.ok(g.noiseFloorRmseAll >= 0.8 && g.noiseFloorRmseAll <= 0.9, `floor ${g.noiseFloorRmseAll}`);
  assert.match(g.heldOut, "latest 10%");
  assert.is(g.seed, SHAPE.seed);
  assert.is(g.rank, 8);
  assert.ok(Math.abs(noiseFloor(shaped)! - g.noiseFloorRmseAll) < 1e-4);
  const model = plantedModel(shaped.meta.generator!);
  const p = model.predict(shaped.ratings.user[0]!, shaped.ratings.movie[0]!);
  assert.ok(p >= 1 && p <= 5);
  assert.equal(Array.from(model.userIds.subarray(0, 5)), Array.from((shaped.users as Int32Array).subarray(0, 5)));
});

test("rank and noise options change the planted model and the floor", () => {
  const opts = { users: 500, movies: 200, ratings: 20_000, seed: 3 };
  const quiet = generateDataset({ ...opts, noise: 0.3, rank: 2 });
  const g = quiet.meta.generator as unknown as GeneratorRecord;
  assert.is(g.rank, 2);
  assert.is(g.noise, 0.3);
  assert.ok(g.noiseFloorRmseAll < 0.6, `floor ${g.noiseFloorRmseAll} with noise 0.3`);
});

test("a dataset without a generator record has no noise floor", () => {
  const ds: Dataset = { ...shaped, meta: { ...shaped.meta } };
  delete ds.meta.generator;
  assert.is(noiseFloor(ds), null);
});

test("bad sizes and options are refused with a DataError", () => {
  const bad = [
    { users: 0 },
    { users: 1.5 },
    { movies: -3 },
    { users: 10, movies: 10, ratings: 51 },
    { users: 100, movies: 10, ratings: 50 },
    { seed: -1 },
    { rank: 0 },
    { noise: -0.1 },
    { noise: Number.NaN },
  ];
  for (const b of bad) {
    assert.throws(() => generateDataset({ users: 100, movies: 50, ratings: 1000, ...b }), (e: unknown) => e instanceof DataError, JSON.stringify(b));
  }
  assert.throws(() => plantedModel({ format: "movierec-generator", version: 1, seed: 1 }), (e: unknown) => e instanceof DataError);
});

test("a dense corner (half of all pairs rated) still works", () => {
  const ds = generateDataset({ users: 60, movies: 40, ratings: 1200, seed: 5 });
  assert.is(ds.meta.nRatings, 1200);
  const keys = new Set(Array.from(ds.ratings.user, (u, r) => u * 40 + ds.ratings.movie[r]!));
  assert.is(keys.size, 1200);
});

test("dataset mode writes a dataset folder equal to the in-memory one", async () => {
  const opts = { users: 700, movies: 150, ratings: 12_000, seed: 9 };
  const out = join(tmp, "ds");
  const progress: number[] = [];
  const written = await generate({ ...opts, out, onProgress: (d, t) => progress.push(d / t) });
  const back = await readDataset(out);
  assert.is(back.meta.contentHash, generateDataset(opts).meta.contentHash);
  assert.is(back.meta.contentHash, written.meta.contentHash);
  assert.equal(back.meta.generator, written.meta.generator);
  assert.equal(back.titles, written.titles);
  assert.is(progress[progress.length - 1], 1);
  assert.ok(progress.every((p, k) => k === 0 || p >= progress[k - 1]!), "progress never goes back");
  assert.equal(readdirSync(tmp).filter((f) => f.includes("tmp")), []);
});

test("text mode writes the Netflix Prize layout byte for byte", async () => {
  const opts = { users: 900, movies: 120, ratings: 15_000, seed: 4 };
  const out = join(tmp, "text");
  const res = await generate({ ...opts, out, text: true });
  const ds = generateDataset(opts);
  const files = ["combined_data_1.txt", "combined_data_2.txt", "combined_data_3.txt", "combined_data_4.txt"];
  assert.equal(res.files, [...files, "movie_titles.txt", "generator.json"]);
  assert.equal(readdirSync(out).sort(), [...res.files].sort());

  // Expected text: per movie "MovieID:" then "CustomerID,Rating,YYYY-MM-DD", movies in id order.
  const { user, movie, rating, day } = ds.ratings;
  const ids = ds.users as Int32Array;
  const lines: string[] = [];
  for (let r = 0; r < user.length; r++) {
    if (r === 0 || movie[r] !== movie[r - 1]) lines.push(`${movie[r]! + 1}:`);
    lines.push(`${ids[user[r]!]},${rating[r]},${isoDay(day[r]!)}`);
  }
  const texts = files.map((f) => readFileSync(join(out, f), "latin1"));
  assert.is(texts.join(""), lines.join("\n") + "\n");
  assert.is(texts[0]!.slice(0, 3), "1:\n");
  assert.match(texts[0]!.split("\n")[1]!, /^\d+,[1-5],\d{4}-\d\d-\d\d$/);
  const perFile = texts.map((t) => t.split("\n").filter((l) => l && !l.endsWith(":")).length);
  for (const t of texts) assert.match(t, /^\d+:\n/);
  for (const c of perFile) assert.ok(c > opts.ratings / 8 && c < opts.ratings / 2, `file sizes ${perFile}`);
  assert.ok(Math.max(...ids) > opts.users, "customer ids are sparse");

  const titles = readFileSync(join(out, "movie_titles.txt"));
  assert.ok(titles.includes(0xe9) || titles.includes(0xe4) || titles.includes(0xf1), "an accented latin-1 byte");
  assert.not.ok(titles.includes(0xc3), "no UTF-8 sequences");
  const rows = titles.toString("latin1").split("\n");
  assert.is(rows.pop(), "");
  assert.is(rows.length, opts.movies);
  rows.forEach((row, i) => {
    const m = /^(\d+),(\d{4}|NULL),(.+)$/.exec(row);
    assert.ok(m, row);
    assert.is(Number(m![1]), i + 1);
    assert.is(m![2], ds.years![i] === 0 ? "NULL" : String(ds.years![i]));
    assert.is(m![3], ds.titles![i]);
  });
  assert.ok(rows.some((r) => r.includes(",NULL,")), "a NULL year");
  assert.ok(rows.some((r) => r.split(",").length > 3), "a title with a comma");
  assert.equal(JSON.parse(readFileSync(join(out, "generator.json"), "utf8")), ds.meta.generator);
  assert.equal(readdirSync(tmp).filter((f) => f.includes("tmp")), []);
});

test("text mode with few movies gives every file at least one movie block", async () => {
  for (const movies of [2, 4, 5]) {
    const out = join(tmp, `few-${movies}`);
    const res = await generate({ users: 60, movies, ratings: 60, seed: 2, out, text: true });
    const data = res.files.filter((f) => f.startsWith("combined_data_"));
    assert.is(data.length, Math.min(4, movies));
    const headers = data.flatMap((f) => readFileSync(join(out, f), "latin1").split("\n").filter((l) => l.endsWith(":")));
    assert.equal(headers, Array.from({ length: movies }, (_, i) => `${i + 1}:`));
    for (const f of data) assert.match(readFileSync(join(out, f), "latin1"), /^\d+:\n\d+,[1-5],/);
  }
});

test("an existing non-empty output folder is refused unless forced", async () => {
  const out = join(tmp, "busy");
  mkdirSync(out);
  writeFileSync(join(out, "keep"), "x");
  const opts = { users: 100, movies: 30, ratings: 1000, seed: 1, out };
  for (const text of [false, true]) {
    try {
      await generate({ ...opts, text });
      assert.unreachable("should refuse");
    } catch (err) {
      assert.instance(err, DataError);
    }
    assert.ok(existsSync(join(out, "keep")));
  }
  await generate({ ...opts, text: true, force: true });
  assert.not.ok(existsSync(join(out, "keep")));
  assert.ok(existsSync(join(out, "combined_data_1.txt")));
});

test.run();
