import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { RatingsBuilder } from "../../src/data/readers/builder.js";
import {
  loadMovieLensFolds,
  readMovieLensRatings,
  readMoviesCsv,
  readMoviesDat,
  readUItem,
  type MovieLensRatingsFormat,
} from "../../src/data/readers/movielens.js";
import { rejectsAt, sharedData, TempDir } from "./helpers.js";

const tmp = new TempDir("movielens");
test.after(() => tmp.remove());

async function read(file: string, format: MovieLensRatingsFormat, chunkBytes?: number) {
  const b = new RatingsBuilder(2);
  const { scale } = await readMovieLensRatings(file, format, b, chunkBytes === undefined ? {} : { chunkBytes });
  return { ...b.finish(), scale };
}

const ROWS: Array<[number, number, number, number]> = [
  [196, 242, 3, 881250949],
  [186, 302, 3, 891717742],
  [22, 377, 1, 878887116],
  [196, 51, 2, 880606923],
  [22, 242, 5, 0],
];

function checkRows(t: Awaited<ReturnType<typeof read>>, rows: Array<[number, number, number, number]>): void {
  const users = [...new Set(rows.map((r) => r[0]))];
  const movies = [...new Set(rows.map((r) => r[1]))];
  assert.equal(Array.from(t.users as Int32Array), users);
  assert.equal(Array.from(t.movies as Int32Array), movies);
  assert.equal(Array.from(t.ratings.user), rows.map((r) => users.indexOf(r[0])));
  assert.equal(Array.from(t.ratings.movie), rows.map((r) => movies.indexOf(r[1])));
  assert.equal(Array.from(t.ratings.rating), rows.map((r) => r[2]));
  assert.equal(Array.from(t.ratings.day), rows.map((r) => Math.floor(r[3] / 86400)));
}

test("u.data round-trips (tab-separated), with any chunk size", async () => {
  const file = tmp.write("u.data", ROWS.map((r) => r.join("\t")).join("\n") + "\n");
  for (const chunk of [undefined, 5]) {
    const t = await read(file, "tab", chunk);
    checkRows(t, ROWS);
    assert.equal(t.scale, { min: 1, max: 5 });
  }
});

test("ratings.dat round-trips; whole stars give the scale 1..5, half stars 0.5..5", async () => {
  const whole = await read(tmp.write("whole/ratings.dat", ROWS.map((r) => r.join("::")).join("\n")), "dat");
  checkRows(whole, ROWS);
  assert.equal(whole.scale, { min: 1, max: 5 });
  const halfRows: Array<[number, number, number, number]> = [
    [1, 122, 5, 838985046],
    [1, 185, 4.5, 838983525],
    [2, 122, 0.5, 838983392],
  ];
  const half = await read(tmp.write("half/ratings.dat", halfRows.map((r) => r.join("::")).join("\n") + "\n"), "dat");
  checkRows(half, halfRows);
  assert.equal(half.scale, { min: 0.5, max: 5 });
});

test("ratings.csv round-trips with its header, CRLF line ends and half stars", async () => {
  const rows: Array<[number, number, number, number]> = [
    [1, 1, 4, 964982703],
    [1, 3, 4.5, 964981247],
    [2, 1, 0.5, 1445714835],
    [2, 6, 5, 1445715000],
  ];
  const text = "userId,movieId,rating,timestamp\r\n" + rows.map(([u, m, r, ts]) => `${u},${m},${Number.isInteger(r) ? r.toFixed(1) : r},${ts}`).join("\r\n") + "\r\n";
  for (const chunk of [undefined, 3]) {
    const t = await read(tmp.write("ratings.csv", text), "csv", chunk);
    checkRows(t, rows);
    assert.equal(t.scale, { min: 0.5, max: 5 });
  }
});

test("malformed ratings files are refused with the file and line", async () => {
  const cases: Array<[MovieLensRatingsFormat, string, string | Buffer, number, string]> = [
    ["tab", "missing field", "1\t2\t3\t4\n5\t6\t3\n", 2, "missing field timestamp"],
    ["tab", "non-numeric", "1\t2\t3\t4\n5\tx\t3\t4\n", 2, 'movieId: expected a non-negative integer, found "x"'],
    ["tab", "rating 6", "1\t2\t6\t4\n", 1, "rating 6 is out of range (expected an integer 1..5)"],
    ["tab", "rating 0", "1\t2\t3\t4\n1\t3\t0\t4\n", 2, "rating 0 is out of range"],
    ["tab", "half star", "1\t2\t3.5\t4\n", 1, 'expected "\\t" before timestamp, found ".5"'],
    ["tab", "truncated last line", "1\t2\t3\t4\n1\t3\t4\t", 2, "missing field timestamp"],
    ["tab", "invalid encoding", Buffer.concat([Buffer.from("1\t2\t3\t4\n1\t"), Buffer.from([0xff]), Buffer.from("\t3\t4\n")]), 2, "invalid encoding: byte 0xFF"],
    ["tab", "empty", "", 1, "empty file: no ratings"],
    ["tab", "commas", "1,2,3,4\n", 1, 'expected "\\t" before movieId, found ",2"'],
    ["dat", "single colon", "1::2::3::4\n1:2::3::4\n", 2, 'expected ":" before movieId, found "2"'],
    ["dat", "rating 5.5", "1::2::5.5::4\n", 1, "rating 5.5 is out of range (expected 0.5..5 in half stars)"],
    ["dat", "not a half star", "1::2::3.7::4\n", 1, "rating 3.7 is out of range"],
    ["csv", "bad header", "user,movie,rating,timestamp\n1,2,3,4\n", 1, 'expected the header "userId,movieId,rating,timestamp"'],
    ["csv", "header only", "userId,movieId,rating,timestamp\n", 1, "empty file: no ratings"],
    ["csv", "rating 0", "userId,movieId,rating,timestamp\n1,2,0.0,4\n", 2, "rating 0 is out of range"],
    ["csv", "missing field", "userId,movieId,rating,timestamp\r\n1,2,3.0,4\r\n1,2\r\n", 3, "missing field rating"],
    ["csv", "non-numeric rating", "userId,movieId,rating,timestamp\n1,2,good,4\n", 2, 'rating: expected a number, found "good"'],
    ["csv", "truncated last line", "userId,movieId,rating,timestamp\n1,2,3.0,4\n1,2,3.", 3, "missing field timestamp"],
  ];
  for (const [format, name, content, line, what] of cases) {
    const file = tmp.write(`bad/${format}-${name.replace(/ /g, "-")}`, content);
    await rejectsAt(() => read(file, format), file, line, what);
  }
});

test("u.item: latin-1 titles kept as in the file; year from the release date, else from the title", async () => {
  const text =
    "1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n" +
    "2|Amélie (2001)||| |0|0\n" +
    "3|Misérables, Les (1995)|4-Feb-1996||x|0\n" +
    "267|unknown||||0|0\n";
  const t = await readUItem(tmp.write("u.item", Buffer.from(text, "latin1")));
  assert.equal(Array.from(t.ids), [1, 2, 3, 267]);
  assert.equal(t.titles, ["Toy Story (1995)", "Amélie (2001)", "Misérables, Les (1995)", "unknown"]);
  assert.equal(Array.from(t.years), [1995, 2001, 1996, 0]);
});

test("malformed u.item rows are refused with the file and line", async () => {
  const cases: Array<[string, string, number, string]> = [
    ["missing date", "1|A (1995)|01-Jan-1995|\n2|B\n", 2, "missing field release date"],
    ["missing title", "1\n", 1, "missing field title"],
    ["bad id", "x|A|01-Jan-1995\n", 1, 'movie id: expected a non-negative integer, found "x"'],
    ["bad date", "1|A|1995-01-01\n", 1, 'release date: expected D-Mon-YYYY (e.g. 01-Jan-1995) or nothing, found "1995-01-01"'],
    ["impossible date", "1|A|31-Feb-1995\n", 1, "release date"],
    ["duplicate", "1|A||\n1|B||\n", 2, "movie id 1 is listed twice"],
    ["empty", "", 1, "empty file: no movies"],
  ];
  for (const [name, content, line, what] of cases) {
    const file = tmp.write(`bad/u.item-${name.replace(/ /g, "-")}`, content);
    await rejectsAt(() => readUItem(file), file, line, what);
  }
});

test("movies.csv: RFC-4180 quoted titles with commas and doubled quotes; year from the title", async () => {
  const text =
    "movieId,title,genres\r\n" +
    "1,Toy Story (1995),Adventure|Animation\r\n" +
    '11,"American President, The (1995)",Comedy|Drama|Romance\r\n' +
    '12,"Dr. ""Strangelove"", or How I Learned (1964)",Comedy\r\n' +
    "4973,Amélie (Fabuleux destin d'Amélie Poulain; Le) (2001),Comedy|Romance\r\n" +
    "149532,Marco Polo: One Hundred Eyes,(no genres listed)\r\n" +
    "140956,Ready Player One (2018) ,Action\r\n";
  const t = await readMoviesCsv(tmp.write("movies.csv", text));
  assert.equal(Array.from(t.ids), [1, 11, 12, 4973, 149532, 140956]);
  assert.equal(t.titles, [
    "Toy Story (1995)",
    "American President, The (1995)",
    'Dr. "Strangelove", or How I Learned (1964)',
    "Amélie (Fabuleux destin d'Amélie Poulain; Le) (2001)",
    "Marco Polo: One Hundred Eyes",
    "Ready Player One (2018) ",
  ]);
  assert.equal(Array.from(t.years), [1995, 1995, 1964, 2001, 0, 2018]);
});

test("malformed movies.csv rows are refused with the file and line", async () => {
  const cases: Array<[string, string | Buffer, number, string]> = [
    ["unclosed quote", 'movieId,title,genres\n1,"Heat (1995),Action\n', 2, "quoted field 2 is not closed on this line"],
    ["text after quote", 'movieId,title,genres\n1,"Heat" (1995),Action\n', 2, 'unexpected " " after the closing quote of field 2'],
    ["no header", "1,Heat (1995),Action\n", 1, "expected a header with columns movieId and title"],
    ["missing field", "movieId,title,genres\n1,Heat (1995)\n", 2, "missing field: 2 fields where the header has 3"],
    ["invalid UTF-8", Buffer.concat([Buffer.from("movieId,title,genres\n1,Am"), Buffer.from([0xe9]), Buffer.from("lie,Comedy\n")]), 2, "invalid UTF-8"],
    ["header only", "movieId,title,genres\n", 1, "empty file: no movies"],
  ];
  for (const [name, content, line, what] of cases) {
    const file = tmp.write(`bad/movies-${name.replace(/ /g, "-")}.csv`, content);
    await rejectsAt(() => readMoviesCsv(file), file, line, what);
  }
});

test("movies.dat: latin-1 (1M) and UTF-8 files both decode", async () => {
  const text = "1::Toy Story (1995)::Animation|Children's|Comedy\n2::Amélie (2001)::Comedy\n";
  for (const [name, bytes] of [
    ["latin1", Buffer.from(text, "latin1")],
    ["utf8", Buffer.from(text, "utf8")],
  ] as const) {
    const t = await readMoviesDat(tmp.write(`${name}/movies.dat`, bytes));
    assert.equal(t.titles, ["Toy Story (1995)", "Amélie (2001)"], name);
    assert.equal(Array.from(t.years), [1995, 2001]);
  }
  const bad = tmp.write("bad/movies.dat", "1::Toy Story (1995)\n");
  await rejectsAt(() => readMoviesDat(bad), bad, 1, "missing field genres");
});

test("folds: train and test share id tables built over both files, so dense indices agree", async () => {
  const dir = tmp.path("folds");
  for (let k = 1; k <= 5; k++) {
    tmp.write(`folds/u${k}.base`, `1\t10\t4\t100000\n2\t20\t3\t200000\n1\t20\t${k}\t300000\n`);
    tmp.write(`folds/u${k}.test`, `3\t30\t5\t400000\n2\t10\t1\t500000\n9${k}\t10\t2\t600000\n`);
  }
  tmp.write("folds/u.item", Buffer.from("10|Amélie (2001)|01-Jan-2001||\n20|Heat (1995)|||\n30|unknown|||\n", "latin1"));
  const folds = await loadMovieLensFolds(dir);
  assert.equal(folds.map((f) => f.name), ["u1", "u2", "u3", "u4", "u5"]);
  for (const [k, { train, test: t }] of folds.entries()) {
    assert.is(train.users, t.users);
    assert.is(train.movies, t.movies);
    assert.equal(Array.from(train.users as Int32Array), [1, 2, 3, 90 + k + 1]);
    assert.equal(Array.from(train.movies as Int32Array), [10, 20, 30]);
    assert.equal(Array.from(train.ratings.user), [0, 1, 0]);
    assert.equal(Array.from(t.ratings.user), [2, 1, 3]);
    assert.equal(Array.from(t.ratings.movie), [2, 0, 0]);
    assert.equal(Array.from(train.ratings.rating), [4, 3, k + 1]);
    assert.equal(train.titles, ["Amélie (2001)", "Heat (1995)", "unknown"]);
    assert.equal(Array.from(train.years!), [2001, 1995, 0]);
    assert.is(train.meta.nRatings, 3);
    assert.is(t.meta.nRatings, 3);
    assert.is(train.meta.nUsers, 4);
    assert.equal(train.meta.ratingScale, { min: 1, max: 5 });
    assert.equal(train.meta.split, { method: "predefined", fold: `u${k + 1}`, part: "train" });
    assert.is(train.meta.sources[0]!.path, join(dir, `u${k + 1}.base`));
  }
});

test("the real MovieLens 100K folds: 80,000 / 20,000 ratings, 943 users, 1682 movies, latin-1 titles", async () => {
  const dir = sharedData("ml-100k");
  if (dir === null) return;
  const folds = await loadMovieLensFolds(dir);
  assert.is(folds.length, 5);
  for (const { name, train, test: t } of folds) {
    assert.is(train.meta.nRatings, 80_000, name);
    assert.is(t.meta.nRatings, 20_000, name);
    assert.is(train.meta.nUsers, 943);
    assert.is(train.meta.nMovies, 1682);
    assert.is(t.users, train.users);
    assert.equal(train.meta.ratingScale, { min: 1, max: 5 });
    assert.equal(train.meta.dayRange, { min: Math.floor(874724710 / 86400), max: Math.floor(893286638 / 86400) });
  }
  const { train } = folds[0]!;
  const movieIds = Array.from(train.movies as Int32Array);
  const title = (id: number): string | null => train.titles![movieIds.indexOf(id)]!;
  assert.is(title(1), "Toy Story (1995)");
  assert.is(title(543), "Misérables, Les (1995)");
  assert.is(title(1633), "Á köldum klaka (Cold Fever) (1994)");
  assert.is(title(267), "unknown");
  assert.is(train.years![movieIds.indexOf(267)], 0);
  assert.is(train.years![movieIds.indexOf(1)], 1995);
  // Every rating of u.data appears in exactly one test fold.
  const seen = new Set<string>();
  for (const { test: t } of folds) {
    for (let r = 0; r < t.ratings.user.length; r++) {
      seen.add(`${(t.users as Int32Array)[t.ratings.user[r]!]}:${(t.movies as Int32Array)[t.ratings.movie[r]!]}`);
    }
  }
  assert.is(seen.size, 100_000);
});

test.run();
