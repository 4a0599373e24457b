import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readModelFile, writeModelFile } from "../../src/models/io.js";
import { createModel, loadModel } from "../../src/models/registry.js";
import { DataError } from "../../src/data/types.js";
import { planted } from "./fixtures.js";

const tmp = mkdtempSync(join(tmpdir(), "movierec-io-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

async function refused(path: string, what: RegExp) {
  try {
    await loadModel(path);
    assert.unreachable("should refuse");
  } catch (err) {
    assert.instance(err, DataError);
    assert.match((err as Error).message, what);
  }
}

test("arrays and header round-trip exactly", async () => {
  const path = join(tmp, "a.bin");
  const arrays = { a: Float32Array.of(1.5, -2, 3e-9), b: Int32Array.of(7, -8), c: new Float64Array(0), d: Uint8Array.of(1, 2, 3) };
  await writeModelFile(path, { header: { algo: "x", params: { k: 3 }, datasetHash: "h", trainedAt: "t", extra: [1, "ü"] }, arrays });
  const back = await readModelFile(path);
  assert.equal(back.header, { algo: "x", params: { k: 3 }, datasetHash: "h", trainedAt: "t", extra: [1, "ü"] });
  for (const [k, v] of Object.entries(arrays)) assert.equal(Array.from(back.arrays[k]!), Array.from(v), k);
  assert.equal(readdirSync(tmp).filter((f) => f.includes(".tmp-")), []);
});

test("the header records format, ABI, algorithm, hyperparameters and dataset hash", async () => {
  const { train } = planted({ users: 50, movies: 30, perUser: 10, testPerUser: 2 });
  const m = await createModel("mf", { factors: 4, epochs: 2 }).fit(train);
  const path = join(tmp, "m.model");
  await m.save(path);
  const { header } = await readModelFile(path);
  assert.is(header.algo, "mf");
  assert.is(header.params.factors, 4);
  assert.is(header.datasetHash, train.meta.contentHash);
  const bytes = readFileSync(path);
  assert.is(bytes.subarray(0, 8).toString("latin1"), "MOVIEREC");
});

test("truncated, bit-flipped, foreign and missing files are refused with a clear message", async () => {
  const { train } = planted({ users: 50, movies: 30, perUser: 10, testPerUser: 2 });
  const path = join(tmp, "ok.model");
  await (await createModel("baseline").fit(train)).save(path);
  const good = readFileSync(path);

  const truncated = join(tmp, "truncated.model");
  writeFileSync(truncated, good.subarray(0, Math.floor(good.length / 2)));
  await refused(truncated, /checksum mismatch/);

  for (const at of [3, 30, Math.floor(good.length / 2), good.length - 40, good.length - 1]) {
    const flipped = Buffer.from(good);
    flipped[at]! ^= 0x10;
    const p = join(tmp, `flip${at}.model`);
    writeFileSync(p, flipped);
    await refused(p, /not a usable model file/);
  }

  const foreign = join(tmp, "foreign.model");
  writeFileSync(foreign, "user,movie,rating\n1,2,3\n".repeat(10));
  await refused(foreign, /movierec model signature/);

  await refused(join(tmp, "nope.model"), /no such file/);
});

test("a failed write leaves the previous model in place and no temporary file", async () => {
  const path = join(tmp, "keep.model");
  await writeModelFile(path, { header: { algo: "x", params: {}, datasetHash: "", trainedAt: "" }, arrays: {} });
  const before = readFileSync(path);
  const bad = { get length(): number { throw new Error("disk on fire"); } } as unknown as Float32Array;
  try {
    await writeModelFile(path, { header: { algo: "y", params: {}, datasetHash: "", trainedAt: "" }, arrays: { bad } });
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, "disk on fire");
  }
  assert.ok(readFileSync(path).equals(before));
  assert.ok(existsSync(path));
  assert.equal(readdirSync(tmp).filter((f) => f.includes(".tmp-")), []);
});

test.run();
