import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { readDataset, writeDataset } from "../../src/data/dataset.js";
import { ingest, loadRatings } from "../../src/data/ingest.js";
import { DataError, ParseError, type Dataset } from "../../src/data/types.js";
import { rejectsAt, sharedData, TempDir } from "./helpers.js";

const tmp = new TempDir("ingest");
test.after(() => tmp.remove());

const COMBINED_1 = "1:\n1488844,3,2005-09-06\n822109,5,2005-05-13\n2:\n2059652,4,2005-09-05\n";
const COMBINED_2 = "3:\n1488844,1,1999-11-11\n7,2,2004-02-29\n";
const TITLES = Buffer.from("1,2003,Dinosaur Planet\n2,NULL,Amélie, or: The Fabulous Destiny\n3,1997,Character\n4,1999,Never Rated\n", "latin1");

/** A fresh folder for one case: inputs under in/, the output is out/. */
function caseDir(name: string): { root: string; input: (file: string, content: string | Buffer) => string; out: string } {
  const root = tmp.path(name);
  return { root, input: (file, content) => tmp.write(`${name}/in/${file}`, content), out: join(root, "out") };
}

function rows(ds: Dataset): string[] {
  const users = ds.users;
  const movies = ds.movies;
  return Array.from(ds.ratings.user, (u, r) => `${users[u]}:${movies[ds.ratings.movie[r]!]}:${ds.ratings.rating[r]}:${ds.ratings.day[r]}`);
}

/** The folder holds nothing but the inputs: no output folder and no temporary folder. */
function assertNothingWritten(root: string): void {
  assert.equal(readdirSync(root), ["in"]);
}

test("a Netflix folder (combined_data_*.txt + movie_titles.txt) is written and reads back", async () => {
  const c = caseDir("netflix");
  const f1 = c.input("combined_data_1.txt", COMBINED_1);
  const f2 = c.input("combined_data_2.txt", COMBINED_2);
  const ft = c.input("movie_titles.txt", TITLES);
  c.input("probe.txt", "1:\n822109\n");
  const progress: Array<[number, number]> = [];
  const ds = await ingest("netflix", [join(c.root, "in")], c.out, { onProgress: (done, total) => progress.push([done, total]) });
  const back = await readDataset(c.out);
  assert.equal(Array.from(back.users as Int32Array), [1488844, 822109, 2059652, 7]);
  assert.equal(Array.from(back.movies as Int32Array), [1, 2, 3]);
  assert.equal(back.titles, ["Dinosaur Planet", "Amélie, or: The Fabulous Destiny", "Character"]);
  assert.equal(Array.from(back.years!), [2003, 0, 1997]);
  assert.equal(rows(back), rows(ds));
  assert.is(back.meta.nRatings, 5);
  assert.is(back.meta.source, "netflix");
  assert.equal(back.meta.ratingScale, { min: 1, max: 5 });
  assert.equal(back.meta.sources, [f1, f2, ft].map((path) => ({ path, bytes: statSync(path).size })));
  const total = [f1, f2, ft].reduce((s, f) => s + statSync(f).size, 0);
  assert.equal(progress.at(-1), [total, total]);
  assert.ok(progress.every(([done, t], k) => t === total && (k === 0 || done >= progress[k - 1]![0])));
});

test("the training_set/ layout gives the same dataset as combined_data (same content hash)", async () => {
  const a = caseDir("layout-combined");
  a.input("combined_data_1.txt", COMBINED_1 + COMBINED_2);
  const b = caseDir("layout-mv");
  b.input("training_set/mv_0000001.txt", "1:\n1488844,3,2005-09-06\n822109,5,2005-05-13\n");
  b.input("training_set/mv_0000002.txt", "2:\n2059652,4,2005-09-05\n");
  b.input("training_set/mv_0000003.txt", COMBINED_2);
  const da = await ingest("netflix", [join(a.root, "in")], a.out);
  const db = await ingest("netflix", [join(b.root, "in")], b.out);
  assert.is(db.meta.contentHash, da.meta.contentHash);
  assert.is(db.meta.sources.length, 3);
  const both = caseDir("layout-both");
  both.input("combined_data_1.txt", COMBINED_1);
  both.input("training_set/mv_0000001.txt", COMBINED_1);
  try {
    await ingest("netflix", [join(both.root, "in")], both.out);
    assert.unreachable("a folder with both layouts was accepted");
  } catch (err) {
    assert.instance(err, DataError);
    assert.match((err as Error).message, "holds both training_set/mv_*.txt and combined_data_*.txt");
  }
  assertNothingWritten(both.root);
});

test("MovieLens folders: u.data + u.item, ratings.dat + movies.dat, ratings.csv + movies.csv", async () => {
  const c = caseDir("ml100k");
  c.input("u.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n");
  c.input("u.item", Buffer.from("242|Kolya (1996)|24-Jan-1997||x|0\n302|Amélie (2001)|||x|0\n", "latin1"));
  c.input("u1.base", "1\t1\t1\t1\n");
  const ds = await ingest("movielens", [join(c.root, "in")], c.out);
  assert.equal(rows(await readDataset(c.out)), rows(ds));
  assert.equal(ds.titles, ["Kolya (1996)", "Amélie (2001)"]);
  assert.equal(Array.from(ds.years!), [1997, 2001]);
  assert.is(ds.meta.sources.length, 2);

  const d = caseDir("ml1m");
  d.input("ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n");
  d.input("movies.dat", Buffer.from("1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n661::James and the Giant Peach (1996)::Animation\n", "latin1"));
  const dm = await ingest("movielens", [join(d.root, "in")], d.out);
  assert.equal(dm.titles, ["One Flew Over the Cuckoo's Nest (1975)", "James and the Giant Peach (1996)"]);
  assert.equal(dm.meta.ratingScale, { min: 1, max: 5 });

  const e = caseDir("mllatest");
  e.input("ratings.csv", "userId,movieId,rating,timestamp\r\n1,11,4.5,964982703\r\n");
  e.input("movies.csv", 'movieId,title,genres\r\n11,"American President, The (1995)",Comedy\r\n');
  const de = await ingest("movielens", [join(e.root, "in")], e.out);
  assert.equal(de.titles, ["American President, The (1995)"]);
  assert.equal(de.meta.ratingScale, { min: 0.5, max: 5 });
});

test("CSV files with a column mapping; the scale is the range found unless given", async () => {
  const c = caseDir("csv");
  const file = c.input("mine.csv", "uid,mid,score,when\na,x,2,2005-01-01\nb,x,4.5,2005-01-02\n");
  const ds = await ingest("csv", [file], c.out, { csv: { user: "uid", item: "mid", rating: "score", date: "when" } });
  assert.equal((await readDataset(c.out)).users, ["a", "b"]);
  assert.equal(ds.meta.ratingScale, { min: 2, max: 4.5 });
  assert.is(ds.meta.source, "csv");
  const d = caseDir("csv-scale");
  const scaled = await ingest("csv", [d.input("s.csv", "user,item,rating\n1,2,3\n")], d.out, { csv: { scale: { min: 1, max: 10 } } });
  assert.equal(scaled.meta.ratingScale, { min: 1, max: 10 });
});

test("every malformed input fails with file:line and leaves no output folder and no temporary folder", async () => {
  const cases: Array<["netflix" | "movielens" | "csv", string, string | Buffer, number, string]> = [
    ["netflix", "combined_data_1.txt", "1:\n5,3,2005-01-01\n6,3\n", 3, "missing field Date"],
    ["netflix", "combined_data_1.txt", "1:\n5,x,2005-01-01\n", 2, "Rating: expected a non-negative integer"],
    ["netflix", "combined_data_1.txt", "1:\n5,9,2005-01-01\n", 2, "Rating 9 is out of range"],
    ["netflix", "combined_data_1.txt", "5,3,2005-01-01\n", 1, 'rating row before any "MovieID:" line'],
    ["netflix", "combined_data_1.txt", "1:\n5,3,2005-01-01\n6,4,20", 3, "Date: expected a calendar date"],
    ["netflix", "combined_data_1.txt", Buffer.from([0x31, 0x3a, 0x0a, 0x35, 0xe9, 0x0a]), 2, "invalid encoding"],
    ["netflix", "combined_data_1.txt", "", 1, "empty file: no ratings"],
    ["movielens", "u.data", "1\t2\t3\t4\n1\t2\n", 2, "missing field rating"],
    ["movielens", "u.data", "1\t2\t3\t4\n1\t2\t7\t4\n", 2, "rating 7 is out of range"],
    ["movielens", "ratings.csv", "userId,movieId,rating,timestamp\n1,2,4.0,5\n1,2,4.0,x\n", 3, "timestamp: expected a non-negative integer"],
    ["movielens", "u.data", "", 1, "empty file: no ratings"],
    ["csv", "r.csv", "user,item,rating\n1,2,x\n", 2, "rating: expected a number"],
    ["csv", "r.csv", "user,item,rating\n", 1, "empty file: no ratings"],
  ];
  for (const [k, [kind, name, content, line, what]] of cases.entries()) {
    const c = caseDir(`bad-${k}`);
    const file = c.input(name, content);
    await rejectsAt(() => ingest(kind, [kind === "csv" ? file : join(c.root, "in")], c.out), file, line, what);
    assert.not.ok(existsSync(c.out), `case ${k}: output folder left behind`);
    assertNothingWritten(c.root);
  }
  // A bad titles file fails the ingest too, after the ratings were read.
  const t = caseDir("bad-titles");
  t.input("combined_data_1.txt", COMBINED_1);
  const titles = t.input("movie_titles.txt", "1,2003,A\n2,20x4,B\n");
  await rejectsAt(() => ingest("netflix", [join(t.root, "in")], t.out), titles, 2, "YearOfRelease");
  assertNothingWritten(t.root);
});

test("an existing non-empty output folder is refused before reading, and replaced with force", async () => {
  const c = caseDir("exists");
  const file = c.input("combined_data_1.txt", COMBINED_1);
  tmp.write("exists/out/keep.txt", "x");
  try {
    await ingest("netflix", [file], c.out);
    assert.unreachable("overwrote an existing folder");
  } catch (err) {
    assert.instance(err, DataError);
    assert.match((err as Error).message, "already exists and is not empty");
  }
  assert.ok(existsSync(join(c.out, "keep.txt")));
  await ingest("netflix", [file], c.out, { force: true });
  assert.not.ok(existsSync(join(c.out, "keep.txt")));
  assert.is((await readDataset(c.out)).meta.nRatings, 3);
});

test("inputs that are not ratings are refused with a hint", async () => {
  const c = caseDir("not-ratings");
  const probe = c.input("probe.txt", "1:\n5\n");
  const other = c.input("other.txt", "hello\n");
  const empty = c.input("nothing", "");
  for (const [kind, paths, what] of [
    ["netflix", [probe], "is a Netflix probe/qualifying file"],
    ["netflix", [join(c.root, "in", "nothing")], "empty file"],
    ["movielens", [other], "is not a MovieLens file"],
    ["movielens", [join(c.root, "in")], "no MovieLens ratings file"],
    ["csv", [join(c.root, "in")], "is a folder"],
    ["netflix", [], "no input files given"],
  ] as const) {
    try {
      await ingest(kind, [...paths], c.out);
      assert.unreachable(`accepted ${paths.join(" ")}`);
    } catch (err) {
      assert.instance(err, DataError);
      assert.match((err as Error).message, what);
    }
  }
  assert.ok(existsSync(empty));
  assert.not.ok(existsSync(c.out));
});

test("loadRatings recognizes each format by content or name and reads it without writing", async () => {
  const c = caseDir("detect");
  const tab = c.input("train.tsv", "1\t10\t4\t86400\n2\t10\t3\t0\n");
  const dat = c.input("ratings.dat", "1::10::4::86400\n");
  const mlcsv = c.input("x/ratings.csv", "userId,movieId,rating,timestamp\n1,10,3.5,86400\n");
  const netflix = c.input("sample.txt", "10:\n1,4,1970-01-02\n2,3,1970-01-01\n");
  const generic = c.input("mine.csv", "user,movie,rating\nann,10,4\n");
  const nfFolder = join(c.root, "in", "nf");
  c.input("nf/combined_data_1.txt", "10:\n1,4,1970-01-02\n");
  c.input("nf/movie_titles.csv", "10,2000,Ten\n");
  const before = readdirSync(join(c.root, "in")).sort();

  const t = await loadRatings(tab);
  assert.equal(rows(t), ["1:10:4:1", "2:10:3:0"]);
  assert.is(t.meta.source, "movielens");
  assert.equal(rows(await loadRatings(dat)), ["1:10:4:1"]);
  const m = await loadRatings(mlcsv);
  assert.equal(rows(m), ["1:10:3.5:1"]);
  assert.equal(m.meta.ratingScale, { min: 0.5, max: 5 });
  const n = await loadRatings(netflix);
  assert.equal(rows(n), ["1:10:4:1", "2:10:3:0"]);
  assert.is(n.meta.source, "netflix");
  const g = await loadRatings(generic);
  assert.equal(rows(g), ["ann:10:4:0"]);
  assert.is(g.meta.source, "csv");
  const f = await loadRatings(nfFolder);
  assert.equal(f.titles, ["Ten"]);

  const ds = caseDir("detect-dataset");
  await writeDataset(ds.out, n);
  assert.is((await loadRatings(ds.out)).meta.contentHash, n.meta.contentHash);
  assert.equal(readdirSync(join(c.root, "in")).sort(), before);
});

test("loadRatings refuses unknown and ambiguous inputs with a hint listing the formats", async () => {
  const c = caseDir("detect-bad");
  const unknown = c.input("notes.txt", "just some text\nmore\n");
  c.input("both/u.data", "1\t2\t3\t4\n");
  c.input("both/ratings.csv", "userId,movieId,rating,timestamp\n1,2,3,4\n");
  c.input("mixed/u.data", "1\t2\t3\t4\n");
  c.input("mixed/combined_data_1.txt", COMBINED_1);
  c.input("nothing/readme.md", "hello");
  const qualifying = c.input("q.txt", "1:\n5,2005-01-01\n");
  const cases: Array<[string, string]> = [
    [unknown, "unrecognized ratings format"],
    [join(c.root, "in", "both"), "holds several MovieLens rating files"],
    [join(c.root, "in", "mixed"), "holds both Netflix and MovieLens files"],
    [join(c.root, "in", "nothing"), "no ratings files recognized"],
    [qualifying, "is a Netflix probe/qualifying file"],
    [join(c.root, "in", "missing.txt"), "no such file or folder"],
  ];
  for (const [path, what] of cases) {
    try {
      await loadRatings(path);
      assert.unreachable(`accepted ${path}`);
    } catch (err) {
      assert.instance(err, DataError);
      const e = err as DataError;
      assert.ok(e.message.startsWith(path), e.message);
      assert.match(e.message, what);
      if (what.startsWith("unrecognized") || what.startsWith("no ratings")) assert.match(e.hint ?? "", "accepted: a dataset folder");
    }
  }
  const empty = c.input("empty.txt", "");
  const e = await rejectsAt(() => loadRatings(empty), empty, 1, "empty file: no ratings");
  assert.instance(e, ParseError);
});

test("loadRatings on the real MovieLens 100K folder reads u.data with its latin-1 titles", async () => {
  const dir = sharedData("ml-100k");
  if (dir === null) return;
  const ds = await loadRatings(dir);
  assert.is(ds.meta.nRatings, 100_000);
  assert.is(ds.meta.nUsers, 943);
  assert.is(ds.meta.nMovies, 1682);
  assert.equal(ds.meta.sources.map((s) => s.path), [join(dir, "u.data"), join(dir, "u.item")]);
  assert.is(ds.titles![(ds.movies as Int32Array).indexOf(543)], "Misérables, Les (1995)");
});

test.run();
