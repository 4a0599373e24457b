/**
 * `movierec prize` end to end on a generated Prize folder: its probe RMSE agrees with `movierec
 * evaluate` on the same split (built here independently), the submission has one line per
 * qualifying row in order, and `movierec score` against the hidden answers agrees with the probe.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordingIO } from "../../src/cli/io.js";
import { execute } from "../../src/cli/program.js";
import { makeDataset, writeDataset } from "../../src/data/dataset.js";
import { loadRatings } from "../../src/data/ingest.js";
import { readNetflixProbe } from "../../src/data/readers/netflix.js";
import type { Dataset, Ratings } from "../../src/data/types.js";
import type { PrizeResult } from "../../src/prize/run.js";

const tmp = mkdtempSync(join(tmpdir(), "movierec-prize-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const folder = join(tmp, "netflix");
const MODEL = ["--algo", "mf", "--factors", "10", "--epochs", "25"];

async function cli(...argv: string[]) {
  const io = recordingIO();
  const code = await execute(argv, io);
  return { code, out: io.stdout, err: io.stderr };
}

/** The ratings of `ds` whose (customer, movie) is (or, with `inside` false, is not) in `keys`. */
function part(ds: Dataset, keys: Set<string>, inside: boolean): Dataset {
  const rows: number[] = [];
  const { user, movie } = ds.ratings;
  for (let r = 0; r < user.length; r++) if (keys.has(`${ds.users[user[r]!]}:${ds.movies[movie[r]!]}`) === inside) rows.push(r);
  const ints = (a: Int32Array) => Int32Array.from(rows, (r) => a[r]!);
  const ratings: Ratings = { user: ints(user), movie: ints(movie), rating: Float32Array.from(rows, (r) => ds.ratings.rating[r]!), day: ints(ds.ratings.day) };
  return makeDataset({ ratings, users: ds.users, movies: ds.movies, source: "split", sources: [], ratingScale: ds.meta.ratingScale });
}

test("generate a Prize folder of a few hundred thousand ratings", async () => {
  const g = await cli("generate", "--prize", "--users", "6000", "--movies", "1500", "--ratings", "300000", "--seed", "3", "--out", folder);
  assert.is(g.code, 0, g.err);
});

test("prize runs end to end; probe RMSE matches evaluate on the same split; score agrees with the probe", async () => {
  const out = join(tmp, "run");
  const p = await cli("prize", folder, ...MODEL, "--out", out, "--json");
  assert.is(p.code, 0, p.err);
  const result = JSON.parse(p.out) as PrizeResult;
  assert.equal(JSON.parse(readFileSync(join(out, "result.json"), "utf8")), result);
  for (const stage of ["ingest", "probe-train", "full-train"]) assert.match(p.err, `${stage}: done`);
  assert.is(result.probe.cinematchQuizRmse, 0.9514);
  assert.is(result.probe.grandPrizeRmse, 0.8572);
  assert.ok(Math.abs(result.probe.improvementPct - (100 * (0.9514 - result.probe.rmse)) / 0.9514) < 0.01);
  assert.ok(result.probe.noiseFloorRmse! > 0.75 && result.probe.noiseFloorRmse! < result.probe.rmse, `noise floor ${result.probe.noiseFloorRmse}`);

  // The same split, built independently: training files minus probe.txt's pairs, and those pairs.
  const all = await loadRatings(folder);
  const probe = await readNetflixProbe(join(folder, "probe.txt"));
  const keys = new Set(Array.from(probe.userIds, (u, k) => `${u}:${probe.movieIds[k]}`));
  await writeDataset(join(tmp, "split", "train"), part(all, keys, false));
  await writeDataset(join(tmp, "split", "test"), part(all, keys, true));
  assert.is(result.probe.n, keys.size);
  assert.is(result.probe.trainRatings, all.meta.nRatings - keys.size);
  const e = await cli("evaluate", "--train", join(tmp, "split", "train"), "--test", join(tmp, "split", "test"), ...MODEL, "--json");
  assert.is(e.code, 0, e.err);
  const evaluated = JSON.parse(e.out) as { rmse: number; n: number };
  assert.is(evaluated.n, result.probe.n);
  assert.ok(Math.abs(evaluated.rmse - result.probe.rmse) < 0.01, `prize probe ${result.probe.rmse} vs evaluate ${evaluated.rmse}`);

  // One line per qualifying row, in order: MovieID: lines where qualifying.txt has them, a rating elsewhere.
  const qualifying = readFileSync(join(folder, "qualifying.txt"), "latin1").trimEnd().split("\n");
  const submitted = readFileSync(join(out, "qualifying-predictions.txt"), "latin1").trimEnd().split("\n");
  assert.is(submitted.length, qualifying.length);
  let rows = 0;
  for (let k = 0; k < qualifying.length; k++) {
    if (qualifying[k]!.endsWith(":")) assert.is(submitted[k], qualifying[k], `line ${k + 1}`);
    else {
      assert.match(submitted[k]!, /^[1-5]\.\d{3}$/, `line ${k + 1}`);
      rows++;
    }
  }
  assert.is(result.qualifying.n, rows);

  const s = await cli("score", join(out, "qualifying-predictions.txt"), join(folder, "qualifying-answers.txt"), "--json");
  assert.is(s.code, 0, s.err);
  const scored = JSON.parse(s.out) as { rmse: number; n: number };
  assert.is(scored.n, rows);
  assert.ok(Math.abs(scored.rmse - result.probe.rmse) < 0.02, `qualifying ${scored.rmse} vs probe ${result.probe.rmse}`);
});

test("--blend trains the blend model over the listed models, each with the flags it declares", async () => {
  const out = join(tmp, "blend");
  const p = await cli("prize", folder, "--blend", "baseline,mf", "--factors", "10", "--epochs", "25", "--last", "3", "--out", out, "--json");
  assert.is(p.code, 0, p.err);
  const r = JSON.parse(p.out) as PrizeResult;
  assert.is(r.spec.algo, "blend");
  assert.is(r.spec.params.bases, "baseline:epochs=25,mf:epochs=25:factors=10");
  assert.is(r.spec.params.last, 3);
  assert.is(r.probe.model, "blend of baseline, mf");
  assert.equal(r.probe.blend!.bases.map((b) => b.algo), ["baseline", "mf"]);
  assert.ok(r.probe.blend!.bases.every((b) => Number.isFinite(b.weight)));
  const s = await cli("score", join(out, "qualifying-predictions.txt"), join(folder, "qualifying-answers.txt"), "--json");
  assert.is(s.code, 0, s.err);
  assert.ok(Math.abs(JSON.parse(s.out).rmse - r.probe.rmse) < 0.02);
  const text = await cli("prize", folder, "--blend", "baseline,mf", "--factors", "10", "--epochs", "25", "--last", "3", "--out", out);
  assert.match(text.out, /\n  mf\s+weight -?\d\.\d{4}\n/);
  assert.match(text.out, "Cinematch (quiz)");
});

test("model choices are checked before any work", async () => {
  const both = await cli("prize", folder, "--algo", "mf", "--blend", "baseline,mf", "--out", join(tmp, "x"));
  assert.is(both.code, 2);
  assert.match(both.err, "give --algo or --blend, not both");
  const one = await cli("prize", folder, "--blend", "mf", "--out", join(tmp, "x"));
  assert.is(one.code, 2);
  assert.match(one.err, "--blend needs at least two models");
  const unused = await cli("prize", folder, "--blend", "baseline,movie-mean", "--factors", "5", "--out", join(tmp, "x"));
  const bases = await cli("prize", folder, "--blend", "baseline,mf", "--bases", "mf", "--out", join(tmp, "x"));
  assert.is(bases.code, 2);
  assert.match(bases.err, "give --blend or --bases, not both");
  assert.is(unused.code, 2);
  assert.match(unused.err, "--factors applies to none of the blended models");
  const missing = await cli("prize", join(tmp, "nowhere"), "--out", join(tmp, "x"));
  assert.is(missing.code, 2);
  assert.match(missing.err, "no such folder");
});

test.run();
