import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { contentHash, readDataset } from "../../src/data/dataset.js";
import { ingest, loadRatings } from "../../src/data/ingest.js";
import { readNetflixParallel } from "../../src/data/parse-worker.js";
import { RatingsBuilder } from "../../src/data/readers/builder.js";
import { readNetflixRatings } from "../../src/data/readers/netflix.js";
import { Rng } from "../../src/data/rng.js";
import { DataError, type Dataset } from "../../src/data/types.js";
import { rejectsAt, TempDir } from "./helpers.js";

const tmp = new TempDir("ingest-parallel");
test.after(() => tmp.remove());

/**
 * Netflix text for movies `first..last`: each movie's ratings by customers drawn from a pool that
 * every file shares (so later files repeat users first seen earlier, in a different order).
 * `short` uses 1-digit customer ids, lines shorter than the reader's row estimate assumes.
 */
function netflixText(rng: Rng, first: number, last: number, opts: { crlf?: boolean; short?: boolean } = {}): string {
  const eol = opts.crlf ? "\r\n" : "\n";
  let text = "";
  for (let m = first; m <= last; m++) {
    text += `${m}:${eol}`;
    const n = 1 + rng.int(40);
    for (let k = 0; k < n; k++) {
      const user = opts.short ? 1 + rng.int(9) : 1_000_000 + rng.int(300) * 7919;
      const day = 1 + rng.int(28);
      text += `${user},${1 + rng.int(5)},2004-0${1 + rng.int(9)}-${day < 10 ? "0" : ""}${day}${eol}`;
    }
    if (rng.int(10) === 0) text += eol; // a blank line now and then
  }
  return text;
}

function rows(ds: Dataset): string[] {
  const { user, movie, rating, day } = ds.ratings;
  return Array.from(user, (u, r) => `${ds.users[u]}:${ds.movies[movie[r]!]}:${rating[r]}:${day[r]}`);
}

/** Ingests `input` on one thread and on `threads` workers; both folders must hold the same dataset. */
async function sameBothWays(name: string, input: string, threads: number): Promise<Dataset> {
  const one = await ingest("netflix", [input], tmp.path(`${name}-out-1`), { threads: 1 });
  const many = await ingest("netflix", [input], tmp.path(`${name}-out-${threads}`), { threads });
  assert.is(many.meta.contentHash, one.meta.contentHash);
  assert.equal(Array.from(many.users as Int32Array), Array.from(one.users as Int32Array));
  assert.equal(Array.from(many.movies as Int32Array), Array.from(one.movies as Int32Array));
  assert.equal(rows(many), rows(one));
  for (const file of ["ratings.arrow", "users.arrow", "movies.arrow"]) {
    const bytes = (dir: string): Buffer => readFileSync(join(tmp.path(dir), file));
    assert.ok(bytes(`${name}-out-${threads}`).equals(bytes(`${name}-out-1`)), `${file} differs`);
  }
  const back = await readDataset(tmp.path(`${name}-out-${threads}`));
  assert.is(back.meta.contentHash, one.meta.contentHash);
  assert.equal(rows(back), rows(one));
  return many;
}

test("combined_data_1..4.txt on 2 and 3 workers: the same dataset as on one thread", async () => {
  const rng = new Rng(7);
  for (let f = 0; f < 4; f++) tmp.write(`combined/combined_data_${f + 1}.txt`, netflixText(rng, f * 50 + 1, f * 50 + 50, { crlf: f === 2 }));
  tmp.write("combined/movie_titles.txt", "1,2001,First\n200,NULL,Last\n");
  const ds = await sameBothWays("combined", tmp.path("combined"), 2);
  assert.ok(ds.meta.nRatings > 1000);
  assert.is(ds.titles![0], "First");
  await sameBothWays("combined3", tmp.path("combined"), 3);
});

test("a training_set/ folder of many small files: chunks of several files keep file order", async () => {
  const rng = new Rng(11);
  for (let m = 1; m <= 60; m++) tmp.write(`mv/training_set/mv_${String(m).padStart(7, "0")}.txt`, netflixText(rng, m, m));
  const ds = await sameBothWays("mv", tmp.path("mv"), 2);
  assert.is(ds.movies.length, 60);
  const loaded = await loadRatings(tmp.path("mv"), { threads: 2 });
  assert.is(loaded.meta.contentHash, ds.meta.contentHash);
});

test("files with more rows than their size suggests (short lines) give the same dataset", async () => {
  const rng = new Rng(3);
  tmp.write("short/combined_data_1.txt", netflixText(rng, 1, 40));
  tmp.write("short/combined_data_2.txt", netflixText(rng, 41, 80, { short: true }));
  tmp.write("short/combined_data_3.txt", netflixText(rng, 81, 120));
  await sameBothWays("short", tmp.path("short"), 2);
  tmp.write("short-first/combined_data_1.txt", netflixText(rng, 1, 40, { short: true }));
  tmp.write("short-first/combined_data_2.txt", netflixText(rng, 41, 80));
  await sameBothWays("short-first", tmp.path("short-first"), 2);
});

test("rows merged while workers still parse them (tiny reads), also when a region overflows mid-file", async () => {
  const rng = new Rng(23);
  const paths = [
    tmp.write("partial/combined_data_1.txt", netflixText(rng, 1, 60)),
    // Long lines first, then short ones: the region overflows after rows were already merged.
    tmp.write("partial/combined_data_2.txt", netflixText(rng, 61, 120) + netflixText(rng, 121, 200, { short: true })),
    tmp.write("partial/combined_data_3.txt", netflixText(rng, 201, 260)),
    tmp.write("partial/combined_data_4.txt", netflixText(rng, 261, 320)),
  ];
  const files = paths.map((path) => ({ path, bytes: statSync(path).size }));
  const sequential = new RatingsBuilder();
  for (const f of paths) await readNetflixRatings(f, sequential);
  const expected = sequential.finish();
  for (const [threads, chunkBytes] of [[2, 64], [3, 1000], [2, 5000]] as const) {
    const got = await readNetflixParallel(files, { threads, chunkBytes });
    const hash = contentHash(got.ratings, got.users, got.movies);
    assert.is(hash, contentHash(expected.ratings, expected.users, expected.movies), `threads ${threads}, reads of ${chunkBytes} bytes`);
  }
});

test("progress counts every input byte once, ending at the total", async () => {
  const rng = new Rng(5);
  const files = [1, 2, 3].map((f) => tmp.write(`progress/combined_data_${f}.txt`, netflixText(rng, f * 10, f * 10 + 9)));
  const total = files.reduce((sum, f) => sum + statSync(f).size, 0);
  const seen: number[] = [];
  await loadRatings(tmp.path("progress"), { threads: 2, onProgress: (done, t) => (assert.is(t, total), seen.push(done)) });
  assert.is(seen.at(-1), total);
  assert.ok(seen.every((d, k) => k === 0 || d >= seen[k - 1]!));
});

test("a malformed line in the 3rd file: the same ParseError as on one thread, and no output folder", async () => {
  const rng = new Rng(9);
  const files: string[] = [];
  for (let f = 1; f <= 4; f++) {
    const good = netflixText(rng, f * 100, f * 100 + 30);
    files.push(tmp.write(`bad/in/combined_data_${f}.txt`, f === 3 ? good + "7:\n12,6,2005-01-01\n" : good));
  }
  const line = readFileLines(files[2]!);
  for (const threads of [1, 2, 4]) {
    const out = tmp.path(`bad/out-${threads}`);
    await rejectsAt(() => ingest("netflix", [tmp.path("bad/in")], out, { threads }), files[2]!, line, "Rating 6 is out of range (expected an integer 1..5)");
  }
  assert.equal(readdirSync(tmp.path("bad")), ["in"]);
});

test("errors in two files: the first one in file order is reported, as on one thread", async () => {
  const rng = new Rng(13);
  // The 2nd file fails at its end and is the largest; the 4th fails at once.
  tmp.write("two-bad/in/combined_data_1.txt", netflixText(rng, 1, 20));
  const second = tmp.write("two-bad/in/combined_data_2.txt", netflixText(rng, 21, 400) + "x\n");
  tmp.write("two-bad/in/combined_data_3.txt", netflixText(rng, 401, 420));
  tmp.write("two-bad/in/combined_data_4.txt", "12,3,2005-01-01\n");
  for (const threads of [1, 2, 3]) {
    const run = () => ingest("netflix", [tmp.path("two-bad/in")], tmp.path("two-bad/out"), { threads });
    await rejectsAt(run, second, readFileLines(second), "MovieID or CustomerID");
  }
  assert.equal(readdirSync(tmp.path("two-bad")), ["in"]);
});

test("plain LF rating lines (the reader's fast path) read as the same ratings as CRLF lines (field by field)", async () => {
  const text = netflixText(new Rng(17), 1, 30) + "31:\n0000042,05,2005-01-01\n2147483647,1,2005-12-31\n42,2,2004-02-29";
  const lf = await loadRatings(tmp.write("eol/lf/combined_data_1.txt", text));
  const crlf = await loadRatings(tmp.write("eol/crlf/combined_data_1.txt", text.replace(/\n/g, "\r\n")));
  assert.is(lf.meta.contentHash, crlf.meta.contentHash);
  assert.equal(Array.from(lf.ratings.rating.subarray(-3)), [5, 1, 2]);
  const good = netflixText(new Rng(19), 1, 5);
  const at = good.split("\n").length;
  for (const [bad, what] of [
    ["12345678901,3,2005-01-01", "CustomerID"],
    ["2147483648,3,2005-01-01", "CustomerID"],
    ["12,6,2005-01-01", "Rating 6 is out of range"],
    ["12,0,2005-01-01", "Rating 0 is out of range"],
    ["12,3,2005-02-30", "Date: expected a calendar date"],
    ["12,3,2005-01-01x", "after Date"],
    ["12,3,2005-01-0", "Date: expected a calendar date"],
    ["12;3,2005-01-01", "before Rating"],
  ] as const) {
    const file = tmp.write("eol/bad/combined_data_1.txt", `${good}${bad}\n7,1,2005-01-01\n`);
    await rejectsAt(() => loadRatings(file), file, at, what);
  }
});

test("a thread count that is not a whole number from 1 to 256 is refused", async () => {
  tmp.write("threads/combined_data_1.txt", "1:\n5,3,2005-01-01\n");
  for (const threads of [0, 1.5, 1000]) {
    try {
      await loadRatings(tmp.path("threads"), { threads });
      assert.unreachable(`threads ${threads} accepted`);
    } catch (err) {
      assert.instance(err, DataError);
      assert.match((err as Error).message, "threads must be a whole number from 1 to 256");
    }
  }
});

/** Number of lines of a file (its last line ends with a line end). */
function readFileLines(file: string): number {
  return readFileSync(file, "latin1").split("\n").length - 1;
}

test.run();
