/** The command line as a user meets it: exit codes, one-line errors with hints, results on stdout. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordingIO } from "../../src/cli/io.js";
import { execute } from "../../src/cli/program.js";

const tmp = mkdtempSync(join(tmpdir(), "movierec-cli-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(...argv: string[]) {
  const io = recordingIO();
  const code = await execute(argv, io);
  return { code, out: io.stdout, err: io.stderr };
}

/** A u.data-format file: user \t item \t rating \t timestamp, from a small planted pattern. */
function writeUData(path: string, users: number, movies: number, skip: (u: number, i: number) => boolean) {
  const lines: string[] = [];
  for (let u = 1; u <= users; u++) {
    for (let i = 1; i <= movies; i++) {
      if (skip(u, i)) continue;
      const r = Math.max(1, Math.min(5, Math.round(3 + ((u % 3) - 1) + ((i % 5) - 2) * 0.5)));
      lines.push(`${u}\t${i}\t${r}\t${881250949 + u * 1000 + i}`);
    }
  }
  writeFileSync(path, lines.join("\n") + "\n");
}

const trainFile = join(tmp, "small.base");
const testFile = join(tmp, "small.test");
writeUData(trainFile, 60, 40, (u, i) => (u * 7 + i) % 5 === 0);
writeUData(testFile, 60, 40, (u, i) => (u * 7 + i) % 5 !== 0);

test("no arguments prints help and exits 2; --help and --version exit 0", async () => {
  const none = await cli();
  assert.is(none.code, 2);
  assert.match(none.err, "Usage: movierec");
  const help = await cli("--help");
  assert.is(help.code, 0);
  for (const cmd of ["ingest", "generate", "split", "train", "eval", "evaluate", "cv", "recommend", "predict", "demo"]) {
    assert.match(help.out, new RegExp(`\\n  ${cmd}\\b`), cmd);
  }
  const trainHelp = await cli("train", "--help");
  assert.is(trainHelp.code, 0);
  for (const flag of ["--algo", "--factors", "--lr-bu", "--reg-q", "--init-std", "--seed", "--method", "--out"]) assert.match(trainHelp.out, flag);
  assert.is((await cli("--version")).code, 0);
});

test("usage errors exit 2 with a hint", async () => {
  const unknown = await cli("frobnicate");
  assert.is(unknown.code, 2);
  assert.match(unknown.err, "unknown command");
  const missing = await cli("train", trainFile, "--out", join(tmp, "x.model"));
  assert.is(missing.code, 2);
  assert.match(missing.err, "--algo");
  const badAlgo = await cli("train", trainFile, "--algo", "svd9000", "--out", join(tmp, "x.model"));
  assert.is(badAlgo.code, 2);
  assert.match(badAlgo.err, 'unknown algorithm "svd9000"');
  assert.match(badAlgo.err, "hint: choose one of: global-mean");
  const badParam = await cli("train", trainFile, "--algo", "mf", "--factors", "-3", "--out", join(tmp, "x.model"));
  assert.is(badParam.code, 2);
  assert.match(badParam.err, "mf: factors must be ≥ 1");
  const wrongAlgoParam = await cli("train", trainFile, "--algo", "baseline", "--factors", "10", "--out", join(tmp, "x.model"));
  assert.is(wrongAlgoParam.code, 2);
  assert.match(wrongAlgoParam.err, 'baseline has no parameter "factors"');
  assert.not.ok(existsSync(join(tmp, "x.model")));
});

test("train → predict → recommend → eval, and --max-rmse sets exit 1", async () => {
  const model = join(tmp, "mf.model");
  const t = await cli("train", trainFile, "--algo", "mf", "--factors", "4", "--epochs", "20", "--out", model);
  assert.is(t.code, 0, t.err);
  assert.match(t.out, "trained mf");

  const p = await cli("predict", model, "--user", "3", "--movie", "5", "--json");
  assert.is(p.code, 0, p.err);
  const pj = JSON.parse(p.out);
  assert.is(pj.impossible, false);
  assert.ok(pj.est >= 1 && pj.est <= 5);

  const unknown = await cli("predict", model, "--user", "99999", "--movie", "5");
  assert.is(unknown.code, 0);
  assert.match(unknown.err, "note: user 99999 not in the training data");

  const r = await cli("recommend", model, "--user", "3", "--n", "4", "--json");
  assert.is(r.code, 0, r.err);
  const rj = JSON.parse(r.out);
  assert.is(rj.items.length, 4);
  assert.is(rj.fallback, false);

  const e = await cli("eval", model, testFile, "--json");
  assert.is(e.code, 0, e.err);
  const ej = JSON.parse(e.out);
  assert.equal(Object.keys(ej).sort(), ["algo", "mae", "mape", "n", "params", "rmse"]);
  assert.ok(ej.n > 0 && ej.rmse > 0 && ej.rmse < 1.5);

  const failed = await cli("eval", model, testFile, "--max-rmse", "0.0001");
  assert.is(failed.code, 1);
  assert.match(failed.err, "check failed: RMSE");
});

test("evaluate --json has the documented keys", async () => {
  const r = await cli("evaluate", "--train", trainFile, "--test", testFile, "--algo", "baseline", "--json");
  assert.is(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(Object.keys(j).sort(), ["algo", "fitSeconds", "mae", "mape", "n", "params", "rmse"]);
  assert.is(j.algo, "baseline");
  assert.is(j.params.method, "als");
});

test("a damaged model file is refused with exit 2 and a clear message", async () => {
  const model = join(tmp, "b.model");
  assert.is((await cli("train", trainFile, "--algo", "baseline", "--out", model)).code, 0);
  const { readFileSync } = await import("node:fs");
  const bytes = readFileSync(model);
  writeFileSync(model, bytes.subarray(0, bytes.length - 10));
  const r = await cli("predict", model, "--user", "1", "--movie", "1");
  assert.is(r.code, 2);
  assert.match(r.err, "is not a usable model file");
  assert.match(r.err, "hint:");
});

test("a malformed rating file exits 2 naming file and line, and ingest leaves no folder", async () => {
  const bad = join(tmp, "bad.data");
  writeFileSync(bad, "1\t2\t3\t881250949\n1\t3\tx\t881250949\n");
  const out = join(tmp, "ds-bad");
  const r = await cli("ingest", "movielens", bad, "--out", out);
  assert.is(r.code, 2);
  assert.match(r.err, `${bad}:2`);
  assert.not.ok(existsSync(out));
  assert.equal(readdirSync(tmp).filter((f) => f.includes(".tmp-")), []);
});

test("every malformed input case exits 2 naming file and line, leaving no dataset folder", async () => {
  const cases: [string, string, string | Buffer, number, RegExp][] = [
    ["netflix", "missing-field.txt", "1:\n6,3,2005-09-06\n7,4\n", 3, /./],
    ["netflix", "non-numeric.txt", "1:\n6,x,2005-09-06\n", 2, /./],
    ["netflix", "out-of-range.txt", "1:\n6,3,2005-09-06\n7,9,2005-09-06\n", 3, /rating 9 is out of range/i],
    ["netflix", "before-movie.txt", "6,3,2005-09-06\n1:\n", 1, /MovieID/],
    ["netflix", "truncated.txt", "1:\n6,3,2005-09-06\n7,4,2005-0", 3, /date/],
    ["netflix", "encoding.txt", Buffer.from("1:\n6,3,2005-09-06\n7\xe9,4,2005-09-06\n", "latin1"), 3, /encoding|UTF|byte/i],
    ["netflix", "empty.txt", "", 1, /empty/],
    ["movielens", "bad.data", "1\t2\t3\t881250949\n1\t3\t6\t881250949\n", 2, /rating/i],
    ["csv", "bad.csv", "user,item,rating\n1,2,3\n1,,4\n", 3, /./],
  ];
  for (const [kind, name, content, line, what] of cases) {
    const file = join(tmp, name);
    writeFileSync(file, content);
    const out = join(tmp, `ds-${name}`);
    const r = await cli("ingest", kind, file, "--out", out);
    assert.is(r.code, 2, `${name}: ${r.err}`);
    assert.ok(r.err.startsWith(`movierec: ${file}:${line}: `), `${name}: ${r.err}`);
    assert.match(r.err, what, name);
    assert.not.ok(existsSync(out), name);
  }
  assert.equal(readdirSync(tmp).filter((f) => f.includes(".tmp-")), []);
});

test("generate → split → train on the split → eval", async () => {
  const ds = join(tmp, "gen");
  const g = await cli("generate", "--users", "500", "--movies", "200", "--ratings", "20000", "--seed", "3", "--out", ds);
  assert.is(g.code, 0, g.err);
  const sp = join(tmp, "gen-split");
  const s = await cli("split", ds, "--method", "temporal", "--ratio", "0.8", "--out", sp);
  assert.is(s.code, 0, s.err);
  assert.match(s.out, "train 16,000 / test 4,000");
  const model = join(tmp, "gen.model");
  assert.is((await cli("train", join(sp, "train"), "--algo", "baseline", "--out", model)).code, 0);
  const e = await cli("eval", model, join(sp, "test"), "--json");
  assert.is(e.code, 0, e.err);
  assert.is(JSON.parse(e.out).n, 4000);
});

test.run();
