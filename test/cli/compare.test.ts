/** `movierec compare` and `eval --ranking` as a user runs them. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordingIO } from "../../src/cli/io.js";
import { execute } from "../../src/cli/program.js";
import { Rng } from "../../src/data/rng.js";

const tmp = mkdtempSync(join(tmpdir(), "movierec-compare-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(...argv: string[]) {
  const io = recordingIO();
  const code = await execute(argv, io);
  return { code, out: io.stdout, err: io.stderr };
}

/** u.data lines (user, movie, rating, timestamp) of 80 users × ~25 of 60 movies from a planted pattern. */
function lines(): string[] {
  const rng = new Rng(5);
  const out: string[] = [];
  for (let u = 1; u <= 80; u++) {
    for (let i = 1; i <= 60; i++) {
      if (rng.next() > 0.4) continue;
      const r = Math.max(1, Math.min(5, Math.round(3 + ((u % 4) - 1.5) * 0.6 + ((i % 5) - 2) * 0.7 + rng.normal() * 0.5)));
      out.push(`${u}\t${i}\t${r}\t${881250949 + u * 5000 + i * 60}`);
    }
  }
  return out;
}

const all = lines();
const data = join(tmp, "u.data");
writeFileSync(data, all.join("\n") + "\n");
const ml = join(tmp, "ml-like");
mkdirSync(ml);
for (let k = 1; k <= 5; k++) {
  writeFileSync(join(ml, `u${k}.base`), all.filter((_, j) => j % 5 !== k - 1).join("\n") + "\n");
  writeFileSync(join(ml, `u${k}.test`), all.filter((_, j) => j % 5 === k - 1).join("\n") + "\n");
}
const ALGOS = "global-mean,baseline,mf:factors=4:epochs=10";

test("compare --json: one row per algorithm with accuracy, timings and ranking metrics", async () => {
  const r = await cli("compare", data, "--split", "probe", "--algos", ALGOS, "--json", "--k", "5");
  assert.is(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.is(j.dataset, data);
  assert.is(j.split, "probe");
  assert.equal(j.rows.map((x: { algo: string }) => x.algo), ["global-mean", "baseline", "mf"]);
  for (const row of j.rows) {
    for (const key of ["trainRmse", "rmse", "mae", "mape", "fitSeconds", "predictSeconds", "precision@5", "recall@5", "ndcg@5", "map@5", "coverage@5"]) {
      assert.type(row[key], "number", `${row.algo} ${key}`);
      assert.ok(Number.isFinite(row[key]) && row[key] >= 0, `${row.algo} ${key} = ${row[key]}`);
    }
  }
  assert.is(j.rows[2].params.factors, 4);
  assert.ok(j.rows[1].rmse < j.rows[0].rmse, "baseline beats the global mean");
  assert.match(r.err, "compare: mf RMSE");
});

test("compare: a table on stdout, JSON and HTML files; cv over a MovieLens folder uses its folds", async () => {
  const json = join(tmp, "table.json");
  const html = join(tmp, "table.html");
  const r = await cli("compare", ml, "--split", "cv", "--algos", "baseline,movie-mean", "--users", "20", "--out", json, "--html", html);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, "mean of 5 folds");
  for (const h of ["algo", "train RMSE", "RMSE", "MAE", "MAPE %", "fit s", "predict s", "P@10", "NDCG@10", "cov@10"]) assert.match(r.out, h);
  const j = JSON.parse(readFileSync(json, "utf8"));
  assert.is(j.split, "cv");
  assert.is(j.rows.length, 2);
  const page = readFileSync(html, "utf8");
  assert.match(page, "<table>");
  assert.match(page, "<th>RMSE</th>");
  assert.match(page, "movie-mean");
  assert.not.match(page, "<script");
});

test("compare --split temporal on a rating file, without ranking metrics", async () => {
  const r = await cli("compare", data, "--split", "temporal", "--algos", "baseline", "--no-ranking", "--json");
  assert.is(r.code, 0, r.err);
  const row = JSON.parse(r.out).rows[0];
  assert.type(row.rmse, "number");
  assert.is(row["precision@10"], undefined);
});

test("compare: unknown algorithms, bad parameters and a missing --split exit 2 before any fitting", async () => {
  const bad = await cli("compare", data, "--split", "probe", "--algos", "baseline,svd9000");
  assert.is(bad.code, 2);
  assert.match(bad.err, 'unknown algorithm "svd9000"');
  const param = await cli("compare", data, "--split", "probe", "--algos", "mf:factors=0");
  assert.is(param.code, 2);
  assert.match(param.err, "factors must be ≥ 1");
  const split = await cli("compare", data, "--algos", "baseline");
  assert.is(split.code, 2);
  const how = await cli("compare", data, "--split", "sideways");
  assert.is(how.code, 2);
});

test("eval --ranking adds precision, recall, NDCG, MAP and coverage at k", async () => {
  const model = join(tmp, "b.model");
  const t = await cli("train", join(ml, "u1.base"), "--algo", "baseline", "--out", model);
  assert.is(t.code, 0, t.err);
  assert.ok(existsSync(model));
  const j = await cli("eval", model, join(ml, "u1.test"), "--ranking", "--k", "3", "--json");
  assert.is(j.code, 0, j.err);
  const r = JSON.parse(j.out).ranking;
  assert.is(r.k, 3);
  for (const key of ["precision", "recall", "ndcg", "map", "coverage"]) assert.ok(r[key] >= 0 && r[key] <= 1, key);
  assert.ok(r.users > 0);
  const plain = await cli("eval", model, join(ml, "u1.test"), "--ranking");
  assert.match(plain.out, "precision@10");
  assert.is(JSON.parse((await cli("eval", model, join(ml, "u1.test"), "--json")).out).ranking, undefined);
});

test.run();
