import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { RatingsBuilder } from "../../src/data/readers/builder.js";
import { dateAt, INVALID_DAY, parseIsoDate } from "../../src/data/readers/dates.js";
import { readNetflixProbe, readNetflixQualifying, readNetflixRatings, readNetflixTitles } from "../../src/data/readers/netflix.js";
import { Rng } from "../../src/data/rng.js";
import { rejectsAt, sharedData, TempDir } from "./helpers.js";

const tmp = new TempDir("netflix");
test.after(() => tmp.remove());

const dayOf = (iso: string): number => Date.UTC(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +iso.slice(8, 10)) / 86_400_000;

async function read(file: string, chunkBytes?: number) {
  const b = new RatingsBuilder(4);
  await readNetflixRatings(file, b, chunkBytes === undefined ? {} : { chunkBytes });
  return b.finish();
}

test("a small combined_data file round-trips: dense ids in order of appearance, ratings, days", async () => {
  const file = tmp.write("combined_data_1.txt", "1:\n1488844,3,2005-09-06\n822109,5,2005-05-13\n2:\n2059652,4,2005-09-05\n1488844,1,1999-11-11\n");
  const t = await read(file);
  assert.equal(Array.from(t.users as Int32Array), [1488844, 822109, 2059652]);
  assert.equal(Array.from(t.movies as Int32Array), [1, 2]);
  assert.equal(Array.from(t.ratings.user), [0, 1, 2, 0]);
  assert.equal(Array.from(t.ratings.movie), [0, 0, 1, 1]);
  assert.equal(Array.from(t.ratings.rating), [3, 5, 4, 1]);
  assert.equal(Array.from(t.ratings.day), ["2005-09-06", "2005-05-13", "2005-09-05", "1999-11-11"].map(dayOf));
});

test("a generated file round-trips exactly, with CRLF, no final newline and any chunk size", async () => {
  const rng = new Rng(11);
  const lines: string[] = [];
  const expected = { user: [] as number[], movie: [] as number[], rating: [] as number[], day: [] as number[] };
  const users = new Map<number, number>();
  const start = Date.UTC(1999, 0, 1) / 86_400_000;
  for (let m = 1; m <= 40; m++) {
    const movieId = m * 13;
    lines.push(`${movieId}:`);
    for (let k = 0; k < 1 + rng.int(60); k++) {
      const customer = 1 + rng.int(2_649_429);
      const rating = 1 + rng.int(5);
      const day = start + rng.int(2557);
      const iso = new Date(day * 86_400_000).toISOString().slice(0, 10);
      lines.push(`${customer},${rating},${iso}`);
      if (!users.has(customer)) users.set(customer, users.size);
      expected.user.push(users.get(customer)!);
      expected.movie.push(m - 1);
      expected.rating.push(rating);
      expected.day.push(day);
    }
  }
  const file = tmp.write("generated.txt", lines.join("\r\n"));
  for (const chunk of [undefined, 7, 4096]) {
    const t = await read(file, chunk);
    assert.equal(Array.from(t.ratings.user), expected.user);
    assert.equal(Array.from(t.ratings.movie), expected.movie);
    assert.equal(Array.from(t.ratings.rating), expected.rating);
    assert.equal(Array.from(t.ratings.day), expected.day);
    assert.equal(Array.from(t.users as Int32Array), [...users.keys()]);
    assert.equal(Array.from(t.movies as Int32Array), Array.from({ length: 40 }, (_, k) => (k + 1) * 13));
  }
});

test("several mv_*.txt files read into one builder share one id numbering", async () => {
  const b = new RatingsBuilder();
  await readNetflixRatings(tmp.write("training_set/mv_0000001.txt", "1:\n10,1,2005-01-01\n20,2,2005-01-02\n"), b);
  await readNetflixRatings(tmp.write("training_set/mv_0000002.txt", "2:\n20,3,2005-01-03\n30,4,2004-02-29\n"), b);
  const t = b.finish();
  assert.equal(Array.from(t.users as Int32Array), [10, 20, 30]);
  assert.equal(Array.from(t.ratings.user), [0, 1, 1, 2]);
  assert.equal(Array.from(t.ratings.movie), [0, 0, 1, 1]);
  assert.is(t.ratings.day[3], dayOf("2004-02-29"));
});

test("malformed ratings files are refused with the file and line", async () => {
  const cases: Array<[string, string | Buffer, number, string]> = [
    ["missing field", "1:\n5,3,2005-01-01\n6,3\n", 3, "missing field Date"],
    ["missing rating", "1:\n5\n", 2, "missing field Rating"],
    ["non-numeric rating", "1:\n5,x,2005-01-01\n", 2, 'Rating: expected a non-negative integer, found "x"'],
    ["non-numeric customer", "1:\nabc,3,2005-01-01\n", 2, 'MovieID or CustomerID: expected a non-negative integer, found "abc"'],
    ["fractional rating", "1:\n5,3.5,2005-01-01\n", 2, 'expected "," before Date, found ".5"'],
    ["rating too high", "1:\n5,6,2005-01-01\n", 2, "Rating 6 is out of range (expected an integer 1..5)"],
    ["rating zero", "1:\n5,0,2005-01-01\n", 2, "Rating 0 is out of range"],
    ["row before MovieID", "5,3,2005-01-01\n1:\n", 1, 'rating row before any "MovieID:" line'],
    ["truncated last line", "1:\n5,3,2005-01-01\n6,4,2005-0", 3, 'Date: expected a calendar date YYYY-MM-DD, found "2005-0"'],
    ["not a calendar date", "1:\n5,3,2005-02-30\n", 2, 'found "2005-02-30"'],
    ["month 13", "1:\n5,3,2005-13-01\n", 2, "Date: expected a calendar date"],
    ["text after MovieID", "1:x\n5,3,2005-01-01\n", 1, 'unexpected "x" after MovieID:'],
    ["text after date", "1:\n5,3,2005-01-01,9\n", 2, 'unexpected ",9" after Date'],
    ["invalid encoding", Buffer.concat([Buffer.from("1:\n5,3,2005-01-01\n6,4,2005-01-0"), Buffer.from([0xe9]), Buffer.from("\n")]), 3, "invalid encoding: byte 0xE9"],
    ["NUL byte", Buffer.from("1:\n5,3,2005-01-01\u0000\n"), 2, "invalid encoding: byte 0x00"],
    ["empty file", "", 1, "empty file: no ratings"],
    ["movie line only", "1:\n\n", 1, "empty file: no ratings"],
  ];
  for (const [name, content, line, what] of cases) {
    const file = tmp.write(`bad-${name.replace(/ /g, "-")}.txt`, content);
    await rejectsAt(() => read(file), file, line, what);
    await rejectsAt(() => read(file, 3), file, line, what);
  }
});

test("a last line cut after the CustomerID is refused, whatever bytes follow it in the read buffer", async () => {
  // Read a file with ":" at offset 20 first, so a reused buffer holds it just past the next file's end.
  await read(tmp.write("colon-first.txt", "1:\n5,3,2005-01-01\n99:\n7,1,2005-01-01\n"));
  const cut = tmp.write("colon-cut.txt", "1:\n5,3,2005-01-01\n99");
  await rejectsAt(() => read(cut), cut, 3, "missing field Rating");
  await readNetflixProbe(tmp.write("probe-colon-first.txt", "1:\n5\n99:\n7\n"));
  const probe = await readNetflixProbe(tmp.write("probe-colon-cut.txt", "1:\n5\n99"));
  assert.equal(Array.from(probe.userIds), [5, 99]);
});

test("dates: every real calendar date (in and beyond the fast table's years) and nothing else", () => {
  const rng = new Rng(5);
  const check = (iso: string, expected: number): void => {
    assert.is(dateAt(Buffer.from(iso), 0, 10), expected, iso);
    assert.is(parseIsoDate(iso), expected === INVALID_DAY ? null : expected, iso);
  };
  for (let k = 0; k < 20_000; k++) {
    const ms = Date.UTC(1700 + rng.int(600), 0, 1) + rng.int(366) * 86_400_000;
    const iso = new Date(ms).toISOString().slice(0, 10);
    check(iso, Math.round(ms / 86_400_000));
  }
  for (const iso of ["1900-02-29", "2005-02-29", "2005-04-31", "2005-00-10", "2005-13-01", "2005-01-00", "2005-01-32", "2005/01/01", "20050101xx", "2005-1-011"]) {
    check(iso, INVALID_DAY);
  }
  check("2000-02-29", dayOf("2000-02-29"));
  check("1970-01-01", 0);
  check("1969-12-31", -1);
  assert.is(dateAt(Buffer.from("2005-01-0"), 0, 9), INVALID_DAY);
});

test("movie_titles: latin-1, commas inside titles, NULL years, CRLF", async () => {
  const text = "1,2003,Dinosaur Planet\n2,NULL,Amélie, or: The Fabulous Destiny\r\n3,1997,Brazil: The \"Love Conquers All\" Version\n4,2001,Amélie";
  const file = tmp.write("movie_titles.txt", Buffer.from(text, "latin1"));
  const t = await readNetflixTitles(file);
  assert.equal(Array.from(t.ids), [1, 2, 3, 4]);
  assert.equal(Array.from(t.years), [2003, 0, 1997, 2001]);
  assert.equal(t.titles, ["Dinosaur Planet", "Amélie, or: The Fabulous Destiny", 'Brazil: The "Love Conquers All" Version', "Amélie"]);
});

test("malformed movie_titles rows are refused with the file and line", async () => {
  const cases: Array<[string, string | Buffer, number, string]> = [
    ["missing title", "1,2003,A\n2,2004\n", 2, "missing field Title"],
    ["missing year", "1\n", 1, "missing field YearOfRelease"],
    ["bad id", "1,2003,A\nx,2004,B\n", 2, 'MovieID: expected a non-negative integer, found "x"'],
    ["bad year", "1,20x3,A\n", 1, 'YearOfRelease: expected a 4-digit year or NULL, found "20x3"'],
    ["duplicate id", "1,2003,A\n1,2004,B\n", 2, "movie id 1 is listed twice (first at line 1)"],
    ["control byte", Buffer.from("1,2003,A\n2,2004,B\u0001\n"), 2, "invalid encoding: control byte 0x01"],
    ["empty", "", 1, "empty file: no movies"],
  ];
  for (const [name, content, line, what] of cases) {
    const file = tmp.write(`titles-${name.replace(/ /g, "-")}.txt`, content);
    await rejectsAt(() => readNetflixTitles(file), file, line, what);
  }
});

test("probe.txt and qualifying.txt: raw id columns in file order", async () => {
  const probe = await readNetflixProbe(tmp.write("probe.txt", "1:\n30878\n2647871\n10:\n1952305\n"));
  assert.equal(Array.from(probe.movieIds), [1, 1, 10]);
  assert.equal(Array.from(probe.userIds), [30878, 2647871, 1952305]);
  assert.is(probe.days, null);
  const q = await readNetflixQualifying(tmp.write("qualifying.txt", "1:\r\n1046323,2005-12-19\r\n3:\r\n2,2004-02-29"));
  assert.equal(Array.from(q.movieIds), [1, 3]);
  assert.equal(Array.from(q.userIds), [1046323, 2]);
  assert.equal(Array.from(q.days), [dayOf("2005-12-19"), dayOf("2004-02-29")]);
});

test("malformed probe and qualifying files are refused with the file and line", async () => {
  const probeDate = tmp.write("probe-date.txt", "1:\n5\n6,2005-01-01\n");
  await rejectsAt(() => readNetflixProbe(probeDate), probeDate, 3, 'unexpected ",2005-01-01" after CustomerID');
  const before = tmp.write("probe-before.txt", "5\n1:\n");
  await rejectsAt(() => readNetflixProbe(before), before, 1, 'CustomerID row before any "MovieID:" line');
  const noDate = tmp.write("qualifying-nodate.txt", "1:\n5,2005-01-01\n6\n");
  await rejectsAt(() => readNetflixQualifying(noDate), noDate, 3, "missing field Date");
  const badDate = tmp.write("qualifying-baddate.txt", "1:\n5,2005-02-29\n");
  await rejectsAt(() => readNetflixQualifying(badDate), badDate, 2, "Date: expected a calendar date");
  const empty = tmp.write("probe-empty.txt", "");
  await rejectsAt(() => readNetflixProbe(empty), empty, 1, "empty file");
});

test("the real movie_titles.csv: 17,770 movies, titles with commas kept whole, NULL years, latin-1 é", async () => {
  const dir = sharedData("netflix");
  if (dir === null) return;
  const t = await readNetflixTitles(join(dir, "movie_titles.csv"));
  assert.is(t.ids.length, 17_770);
  assert.equal(Array.from(t.ids.subarray(0, 3)), [1, 2, 3]);
  assert.is(t.ids[17_769], 17_770);
  assert.is(t.titles[0], "Dinosaur Planet");
  assert.is(t.years[0], 2003);
  assert.is(t.titles.filter((title) => title.includes(",")).length, 336);
  assert.is(t.titles[4824], 'Brazil: The "Love Conquers All" Version');
  assert.is(t.titles[6482], "Smokey Joe's Café");
  const nullYears = Array.from(t.ids).filter((_, k) => t.years[k] === 0);
  assert.equal(nullYears, [4388, 4794, 7241, 10782, 15918, 16678, 17667]);
  assert.is(t.titles[4387], "Ancient Civilizations: Rome and Pompeii");
});

test.run();
