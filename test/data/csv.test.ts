import { test } from "uvu";
import * as assert from "uvu/assert";
import { RatingsBuilder } from "../../src/data/readers/builder.js";
import { readCsvRatings, type CsvOptions } from "../../src/data/readers/csv.js";
import { DataError } from "../../src/data/types.js";
import { rejectsAt, TempDir } from "./helpers.js";

const tmp = new TempDir("csv");
test.after(() => tmp.remove());

async function read(file: string, opts: CsvOptions = {}, chunkBytes?: number) {
  const b = new RatingsBuilder(2);
  const { range } = await readCsvRatings(file, b, opts, chunkBytes === undefined ? {} : { chunkBytes });
  return { ...b.finish(), range };
}

const dayOf = (iso: string): number => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;

test("default columns by their usual names (userId, movieId, rating, timestamp), any order", async () => {
  const file = tmp.write("a.csv", "timestamp,movieId,userId,rating\n86400,10,7,4\n172800,11,8,2.5\n0,10,8,5\n");
  for (const chunk of [undefined, 4]) {
    const t = await read(file, {}, chunk);
    assert.equal(Array.from(t.users as Int32Array), [7, 8]);
    assert.equal(Array.from(t.movies as Int32Array), [10, 11]);
    assert.equal(Array.from(t.ratings.user), [0, 1, 1]);
    assert.equal(Array.from(t.ratings.movie), [0, 1, 0]);
    assert.equal(Array.from(t.ratings.rating), [4, 2.5, 5]);
    assert.equal(Array.from(t.ratings.day), [1, 2, 0]);
    assert.equal(t.range, { min: 2.5, max: 5 });
  }
});

test("explicit mapping, string ids, quoted fields with the delimiter, dates, semicolons", async () => {
  const text = 'who;what;stars;when;note\n"smith; j";"Amélie";4;2005-09-06;x\nalice;42;3;2004-02-29;"say ""hi"""\n"42";"Amélie";1;1999-11-11;\n';
  const t = await read(tmp.write("b.csv", text), { user: "who", item: "what", rating: "stars", date: "when", delimiter: ";" });
  assert.equal(t.users, ["smith; j", "alice", "42"]);
  assert.equal(t.movies, ["Amélie", "42"]);
  assert.equal(Array.from(t.ratings.user), [0, 1, 2]);
  assert.equal(Array.from(t.ratings.movie), [0, 1, 0]);
  assert.equal(Array.from(t.ratings.day), [dayOf("2005-09-06"), dayOf("2004-02-29"), dayOf("1999-11-11")]);
});

test("tab delimiter, item/user aliases, no day column, CRLF, header names matched case-insensitively", async () => {
  const t = await read(tmp.write("c.tsv", "USER\tItem\tRating\r\n1\t2\t-1.5\r\n3\t2\t1e1\r\n"), { delimiter: "\t" });
  assert.equal(Array.from(t.users as Int32Array), [1, 3]);
  assert.equal(Array.from(t.ratings.rating), [-1.5, 10]);
  assert.equal(Array.from(t.ratings.day), [0, 0]);
  assert.equal(t.range, { min: -1.5, max: 10 });
});

test("a scale refuses ratings outside it with the file and line", async () => {
  const file = tmp.write("scale.csv", "user,item,rating\n1,2,5\n1,3,0.5\n2,2,5.5\n");
  await rejectsAt(() => read(file, { scale: { min: 0.5, max: 5 } }), file, 4, "rating 5.5 is out of range (expected 0.5..5)");
  await rejectsAt(() => read(file, { scale: { min: 1, max: 5 } }), file, 3, "rating 0.5 is out of range (expected 1..5)");
});

test("malformed CSV files are refused with the file and line", async () => {
  const cases: Array<[string, string | Buffer, number, string, CsvOptions?]> = [
    ["missing field", "user,item,rating\n1,2,3\n1,2\n", 3, "missing field rating (2 fields where the header has 3)"],
    ["extra field", "user,item,rating\n1,2,3,4\n", 2, "4 fields where the header has 3"],
    ["non-numeric rating", "user,item,rating\n1,2,three\n", 2, 'rating: expected a number, found "three"'],
    ["infinite rating", "user,item,rating\n1,2,1e999\n", 2, "rating: expected a number"],
    ["empty user", "user,item,rating\n,2,3\n", 2, "empty user id in column user"],
    ["empty item", "user,item,rating\n1, ,3\n", 2, "empty item id in column item"],
    ["bad timestamp", "user,item,rating,timestamp\n1,2,3,yesterday\n", 2, 'timestamp: expected Unix seconds, found "yesterday"'],
    ["bad date", "user,item,rating,date\n1,2,3,2005-02-30\n", 2, 'date: expected a calendar date YYYY-MM-DD, found "2005-02-30"'],
    ["unclosed quote", 'user,item,rating\n"1,2,3\n', 2, "quoted field 1 is not closed on this line"],
    ["truncated last line", "user,item,rating\n1,2,3\n4,5", 3, "missing field rating"],
    ["no rating column", "user,item,score\n1,2,3\n", 1, 'no rating column: the header has no "rating" (columns: user, item, score)'],
    ["named column missing", "user,item,rating\n1,2,3\n", 1, 'no user column: the header has no "uid"', { user: "uid" }],
    ["invalid UTF-8", Buffer.concat([Buffer.from("user,item,rating\n1,Am"), Buffer.from([0xe9]), Buffer.from("lie,3\n")]), 2, "invalid UTF-8"],
    ["NUL byte", Buffer.from("user,item,rating\n1,2,3\u0000\n"), 2, "invalid encoding: control byte 0x00"],
    ["empty file", "", 1, "empty file: no ratings"],
    ["header only", "user,item,rating\r\n", 1, "empty file: no ratings"],
  ];
  for (const [name, content, line, what, opts] of cases) {
    const file = tmp.write(`bad-${name.replace(/ /g, "-")}.csv`, content);
    await rejectsAt(() => read(file, opts), file, line, what);
  }
});

test("latin-1 input when asked for", async () => {
  const t = await read(tmp.write("latin1.csv", Buffer.from("user,item,rating\nRené,Amélie,4\n", "latin1")), { encoding: "latin1" });
  assert.equal(t.users, ["René"]);
  assert.equal(t.movies, ["Amélie"]);
});

test("options that cannot work are a DataError before reading", async () => {
  const file = tmp.write("ok.csv", "user,item,rating\n1,2,3\n");
  for (const opts of [{ delimiter: "" }, { delimiter: '"' }, { timestamp: "t", date: "d" }, { scale: { min: 5, max: 1 } }] as CsvOptions[]) {
    try {
      await read(file, opts);
      assert.unreachable(`accepted ${JSON.stringify(opts)}`);
    } catch (err) {
      assert.instance(err, DataError, JSON.stringify(opts));
    }
  }
});

test.run();
