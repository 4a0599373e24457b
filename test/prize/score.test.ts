/** `movierec score`: RMSE of a qualifying-format prediction file against answers in the same order. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordingIO } from "../../src/cli/io.js";
import { execute } from "../../src/cli/program.js";
import { readSubmission, writeSubmission } from "../../src/prize/submission.js";

const tmp = mkdtempSync(join(tmpdir(), "movierec-score-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

async function score(...argv: string[]) {
  const io = recordingIO();
  const code = await execute(["score", ...argv], io);
  return { code, out: io.stdout, err: io.stderr };
}

const answers = file("answers.txt", "1:\n3\n5\n10:\n4\n");

test("RMSE over the rows, with the improvement over Cinematch; --max-rmse sets exit 1", async () => {
  const pred = file("pred.txt", "1:\n3.500\n4.000\n10:\n4.000\n");
  const r = await score(pred, answers, "--json");
  assert.is(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.is(j.n, 3);
  assert.ok(Math.abs(j.rmse - Math.sqrt((0.25 + 1) / 3)) < 1e-12);
  assert.ok(Math.abs(j.improvementPct - Math.round(((100 * (0.9514 - j.rmse)) / 0.9514) * 100) / 100) < 1e-9);
  const text = await score(pred, answers);
  assert.match(text.out, /^RMSE 0\.6455 over 3 ratings: 32\.\d\d% better than Cinematch's 0\.9514/);
  const strict = await score(pred, answers, "--max-rmse", "0.5");
  assert.is(strict.code, 1);
  assert.match(strict.err, "check failed");
});

test("mismatched movie blocks and lengths are refused naming both files and the line", async () => {
  const moved = file("moved.txt", "1:\n3.5\n10:\n4.0\n4.0\n");
  const m = await score(moved, answers);
  assert.is(m.code, 2);
  assert.match(m.err, `movierec: ${moved}:4: row 2 is for movie 10, but row 2 of ${answers} (line 3) is for movie 1`);
  const short = file("short.txt", "1:\n3.5\n4.0\n");
  const s = await score(short, answers);
  assert.is(s.code, 2);
  assert.match(s.err, `${short} has 2 rows and ${answers} has 3: ${answers} goes on at line 5 after ${short} ends`);
  const long = file("long.txt", "1:\n3.5\n4.0\n10:\n4.0\n4.0\n");
  const l = await score(long, answers);
  assert.is(l.code, 2);
  assert.match(l.err, `${long} goes on at line 6`);
});

test("malformed prediction files are refused with the file and line", async () => {
  const cases: Array<[string, string, number, string]> = [
    ["first.txt", "3.5\n1:\n", 1, 'rating before any "MovieID:" line'],
    ["word.txt", "1:\n3.5\nfour\n", 3, 'expected a non-negative integer, found "four"'],
    ["trailing.txt", "1:\n3.5x\n", 2, 'unexpected "x" after rating'],
    ["empty.txt", "", 1, "empty file"],
  ];
  for (const [name, text, line, what] of cases) {
    const path = file(name, text);
    const r = await score(path, answers);
    assert.is(r.code, 2, name);
    assert.match(r.err, `movierec: ${path}:${line}: `, name);
    assert.match(r.err, what, name);
  }
});

test("writeSubmission writes a MovieID: line per block and 3 decimals; readSubmission reads it back", async () => {
  const path = join(tmp, "written.txt");
  await writeSubmission(path, Int32Array.of(5, 5, 2, 5), Float32Array.of(3.14159, 1, 4.9996, 2.5));
  const back = await readSubmission(path);
  assert.equal(Array.from(back.movieIds), [5, 5, 2, 5]);
  assert.equal(Array.from(back.values), [3.142, 1, 5, 2.5]);
  assert.equal(Array.from(back.lines), [2, 3, 5, 7]);
});

test.run();
