/** Parquet export: every value read back through parquet-wasm, raw ids and dates, bad arguments. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tableFromIPC, type Table } from "apache-arrow";
import * as parquet from "parquet-wasm";
import { recordingIO } from "../../src/cli/io.js";
import { execute } from "../../src/cli/program.js";
import { makeDataset, writeDataset } from "../../src/data/dataset.js";
import { exportParquet } from "../../src/data/export.js";
import { generateDataset } from "../../src/data/generate.js";
import { DataError, type Dataset } from "../../src/data/types.js";
import { TempDir } from "./helpers.js";

const tmp = new TempDir("export");
test.after(() => tmp.remove());

const generated = generateDataset({ users: 400, movies: 120, ratings: 6000, seed: 5 });

function readBack(path: string): Table {
  return tableFromIPC(parquet.readParquet(new Uint8Array(readFileSync(path))).intoIPCStream());
}

/** One column as a flat array of its stored values (Date32 as days, not JavaScript dates). */
function values(t: Table, name: string): unknown[] {
  const v = t.getChild(name);
  assert.ok(v, `column ${name} present`);
  assert.is(v!.nullCount, 0, `${name} has no nulls`);
  if (String(v!.type) === "Date32<DAY>") return v!.data.flatMap((d) => Array.from((d.values as Int32Array).subarray(0, d.length)));
  return Array.from(v!.toArray() as ArrayLike<unknown>);
}

/** Every row of the file equals the dataset's rating, with dense indices mapped to raw ids. */
function assertSameRows(t: Table, ds: Dataset, withDates: boolean): void {
  const r = ds.ratings;
  assert.is(t.numRows, r.user.length);
  const user = values(t, "user_id");
  const movie = values(t, "movie_id");
  const rating = values(t, "rating");
  const date = withDates ? values(t, "date") : null;
  for (let x = 0; x < r.user.length; x++) {
    if (user[x] !== ds.users[r.user[x]!] || movie[x] !== ds.movies[r.movie[x]!] || rating[x] !== r.rating[x] || (date && date[x] !== r.day[x])) {
      assert.unreachable(`row ${x}: ${user[x]} ${movie[x]} ${rating[x]} ${date?.[x]} ≠ ${ds.users[r.user[x]!]} ${ds.movies[r.movie[x]!]} ${r.rating[x]} ${r.day[x]}`);
    }
  }
}

test("integer ids and dates: every value comes back, in several row groups, with a self-describing schema", async () => {
  const path = tmp.path("ratings.parquet");
  const progress: number[] = [];
  const res = await exportParquet(generated, path, { rowGroupRows: 1000, onProgress: (done) => progress.push(done) });
  assert.equal(res, { rows: 6000, rowGroups: 6, bytes: readFileSync(path).length, columns: ["user_id", "movie_id", "rating", "date"] });
  assert.equal(progress, [1000, 2000, 3000, 4000, 5000, 6000]);
  const t = readBack(path);
  assert.equal(t.schema.fields.map((f) => `${f.name}: ${f.type}`), ["user_id: Int32", "movie_id: Int32", "rating: Float32", "date: Date32<DAY>"]);
  assert.is(t.schema.metadata.get("movierec.contentHash"), generated.meta.contentHash);
  assert.is(t.schema.metadata.get("movierec.source"), "generated");
  // Raw ids, not dense indices: generated users are numbered from 1 upwards like Netflix's.
  assert.ok(generated.users instanceof Int32Array && generated.users.some((id, u) => id !== u));
  assertSameRows(t, generated, true);
  assert.equal(readdirSync(tmp.dir).filter((f) => f.includes(".tmp-")), [], "no temporary file left");
});

test("string ids and no dates: Utf8 id columns and no date column", async () => {
  const ds = makeDataset({
    ratings: {
      user: Int32Array.from([0, 1, 2, 0, 2]),
      movie: Int32Array.from([1, 0, 1, 0, 2]),
      rating: Float32Array.from([4.5, 3, 0.5, 5, 2.5]),
      day: new Int32Array(5),
    },
    users: ["alice", "bob", "carol ü"],
    movies: ["tt0111161", "tt0068646", "tt0468569"],
    source: "csv",
    sources: [],
    ratingScale: { min: 0.5, max: 5 },
  });
  const path = tmp.path("strings.parquet");
  const res = await exportParquet(ds, path, { compression: "zstd" });
  assert.equal(res.columns, ["user_id", "movie_id", "rating"]);
  const t = readBack(path);
  assert.equal(t.schema.fields.map((f) => `${f.name}: ${f.type}`), ["user_id: Utf8", "movie_id: Utf8", "rating: Float32"]);
  assertSameRows(t, ds, false);
});

test("an empty dataset gives an empty table with the schema", async () => {
  const ds = makeDataset({
    ratings: { user: new Int32Array(0), movie: new Int32Array(0), rating: new Float32Array(0), day: new Int32Array(0) },
    users: Int32Array.from([7]),
    movies: Int32Array.from([9]),
    source: "csv",
    sources: [],
    ratingScale: { min: 1, max: 5 },
  });
  const path = tmp.path("empty.parquet");
  assert.is((await exportParquet(ds, path)).rowGroups, 0);
  const t = readBack(path);
  assert.is(t.numRows, 0);
  assert.equal(t.schema.fields.map((f) => f.name), ["user_id", "movie_id", "rating"]);
});

async function rejects(run: () => Promise<unknown>, what: string | RegExp): Promise<void> {
  try {
    await run();
  } catch (err) {
    assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
    assert.match((err as Error).message, what);
    return;
  }
  assert.unreachable("should have failed");
}

test("bad arguments: existing file without force, a folder, unknown codec, bad row-group size", async () => {
  const path = tmp.path("exists.parquet");
  writeFileSync(path, "keep me");
  await rejects(() => exportParquet(generated, path), "already exists");
  assert.is(readFileSync(path, "utf8"), "keep me", "the existing file is untouched");
  await exportParquet(generated, path, { force: true });
  assert.is(readBack(path).numRows, 6000);
  mkdirSync(tmp.path("folder.parquet"));
  await rejects(() => exportParquet(generated, tmp.path("folder.parquet")), "is a folder");
  await rejects(() => exportParquet(generated, tmp.path("x.parquet"), { compression: "lz5" as never }), 'unknown compression "lz5"');
  await rejects(() => exportParquet(generated, tmp.path("x.parquet"), { rowGroupRows: 0 }), "row group size 0");
  assert.not.ok(existsSync(tmp.path("x.parquet")));
});

test("CLI: movierec export writes the file; missing flags and bad inputs exit 2 with a message", async () => {
  const dir = tmp.path("ds");
  await writeDataset(dir, generated);
  const run = async (...argv: string[]) => {
    const io = recordingIO();
    return { code: await execute(argv, io), out: io.stdout, err: io.stderr };
  };
  const out = tmp.path("cli.parquet");
  const ok = await run("export", dir, "--parquet", out, "--row-group", "2500");
  assert.is(ok.code, 0, ok.err);
  assert.match(ok.out, "6,000 rows in 3 row groups");
  assertSameRows(readBack(out), generated, true);
  const again = await run("export", dir, "--parquet", out);
  assert.is(again.code, 2);
  assert.match(again.err, "already exists");
  assert.match(again.err, "--force");
  const noFlag = await run("export", dir);
  assert.is(noFlag.code, 2);
  assert.match(noFlag.err, "--parquet");
  const noDataset = await run("export", tmp.path("nope"), "--parquet", tmp.path("n.parquet"));
  assert.is(noDataset.code, 2);
  assert.match(noDataset.err, "is not a dataset folder");
  const badCodec = await run("export", dir, "--parquet", tmp.path("n.parquet"), "--compression", "lz5");
  assert.is(badCodec.code, 2);
  assert.match(badCodec.err, "lz5");
  assert.not.ok(existsSync(tmp.path("n.parquet")));
});

test.run();
