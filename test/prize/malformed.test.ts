/**
 * Malformed probe.txt and qualifying.txt are refused by `movierec prize` with the file and line
 * (exit 2), before any stage is kept: rows before a `MovieID:` line, movies or customers the
 * training set does not have, probe pairs that are not training ratings or are listed twice, and
 * dates in the wrong format.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordingIO } from "../../src/cli/io.js";
import { execute } from "../../src/cli/program.js";

const tmp = mkdtempSync(join(tmpdir(), "movierec-prize-bad-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const GOOD_PROBE = "1:\n10\n2:\n11\n";
const GOOD_QUALIFYING = "1:\n13,2005-06-01\n2:\n12,2005-06-02\n";

/** A tiny Prize folder: customers 10–13, movies 1–2; probe and qualifying as given. */
function prizeFolder(name: string, probe: string, qualifying: string): string {
  const dir = join(tmp, name);
  const file = (f: string, text: string) => writeFileSync(join(dir, f), text);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  file("combined_data_1.txt", "1:\n10,3,2005-01-01\n11,4,2005-01-02\n12,5,2005-01-03\n13,1,2005-01-03\n2:\n10,2,2005-01-04\n11,3,2005-01-05\n13,4,2005-01-06\n");
  file("movie_titles.txt", "1,2001,Amélie\n2,NULL,Other, The\n");
  file("probe.txt", probe);
  file("qualifying.txt", qualifying);
  return dir;
}

async function prize(dir: string, out: string) {
  const io = recordingIO();
  const code = await execute(["prize", dir, "--algo", "baseline", "--out", out], io);
  return { code, err: io.stderr, out: io.stdout };
}

const CASES: Array<{ name: string; probe?: string; qualifying?: string; file: "probe.txt" | "qualifying.txt"; line: number; what: string }> = [
  { name: "customer-first", probe: "10\n1:\n11\n", file: "probe.txt", line: 1, what: 'CustomerID row before any "MovieID:" line' },
  { name: "probe-movie", probe: "1:\n10\n3:\n11\n", file: "probe.txt", line: 4, what: "MovieID 3 is not in the training set" },
  { name: "probe-customer", probe: "1:\n10\n99\n", file: "probe.txt", line: 3, what: "CustomerID 99 is not in the training set" },
  { name: "probe-not-rated", probe: "1:\n10\n2:\n12\n", file: "probe.txt", line: 4, what: "customer 12 has no rating of movie 2 in the training set" },
  { name: "probe-twice", probe: "1:\n10\n11\n\n10\n", file: "probe.txt", line: 5, what: "customer 10 and movie 1 are listed twice (first at line 2)" },
  { name: "date-format", qualifying: "1:\n13,2005/06/01\n", file: "qualifying.txt", line: 2, what: "Date: expected a calendar date YYYY-MM-DD" },
  { name: "date-impossible", qualifying: "1:\n13,2005-06-01\n2:\n12,2005-02-30\n", file: "qualifying.txt", line: 4, what: "Date: expected a calendar date" },
  { name: "qualifying-first", qualifying: "13,2005-06-01\n", file: "qualifying.txt", line: 1, what: 'CustomerID row before any "MovieID:" line' },
  { name: "qualifying-movie", qualifying: "1:\n13,2005-06-01\n7:\n12,2005-06-01\n", file: "qualifying.txt", line: 4, what: "MovieID 7 is not in the training set" },
  { name: "qualifying-customer", qualifying: "2:\n12,2005-06-01\n55,2005-06-01\n", file: "qualifying.txt", line: 3, what: "CustomerID 55 is not in the training set" },
];

for (const c of CASES) {
  test(`${c.name}: refused with ${c.file}:${c.line}`, async () => {
    const dir = prizeFolder(c.name, c.probe ?? GOOD_PROBE, c.qualifying ?? GOOD_QUALIFYING);
    const out = join(tmp, `${c.name}-out`);
    const r = await prize(dir, out);
    assert.is(r.code, 2, r.err);
    const file = join(dir, c.file);
    assert.ok(r.err.split("\n").some((l) => l.startsWith(`movierec: ${file}:${c.line}: `)), r.err);
    assert.match(r.err, c.what);
    assert.not.ok(existsSync(join(out, "ingest.done")), "no stage is kept");
    assert.not.ok(existsSync(join(out, "dataset")), "no dataset is written");
  });
}

test("the same folder with good files runs, and fixing a refused file lets the same --out run", async () => {
  const dir = prizeFolder("good", GOOD_PROBE, "1:\n13,2005-06-01\n7:\n12,2005-06-01\n");
  const out = join(tmp, "good-out");
  assert.is((await prize(dir, out)).code, 2);
  writeFileSync(join(dir, "qualifying.txt"), GOOD_QUALIFYING);
  const r = await prize(dir, out);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, "probe RMSE");
});

test.run();
