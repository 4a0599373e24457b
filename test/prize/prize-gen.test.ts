/** `generate --prize`: a Netflix Prize folder built as Netflix built its own, from generated data. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordingIO } from "../../src/cli/io.js";
import { execute } from "../../src/cli/program.js";
import { loadRatings } from "../../src/data/ingest.js";
import { generatePrize, PRIZE_FILES, type PrizeRecord } from "../../src/data/prize-gen.js";
import { readNetflixProbe, readNetflixQualifying } from "../../src/data/readers/netflix.js";
import type { Dataset } from "../../src/data/types.js";
import { readSubmission } from "../../src/prize/submission.js";

const tmp = mkdtempSync(join(tmpdir(), "movierec-prize-gen-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const SHAPE = { users: 3000, movies: 800, ratings: 120_000, seed: 5 };
const dir = join(tmp, "prize");

/** Raw (customer, movie) pairs of a dataset, as "customer:movie", with the day of each. */
function pairs(ds: Dataset): Map<string, number> {
  const out = new Map<string, number>();
  const { user, movie, day } = ds.ratings;
  for (let r = 0; r < user.length; r++) out.set(`${ds.users[user[r]!]}:${ds.movies[movie[r]!]}`, day[r]!);
  return out;
}

test("the CLI writes training_set/mv_XXXXXXX.txt, probe, qualifying, hidden answers, latin-1 titles and generator.json", async () => {
  const io = recordingIO();
  const code = await execute(["generate", "--prize", "--users", "3000", "--movies", "800", "--ratings", "120000", "--seed", "5", "--out", dir], io);
  assert.is(code, 0, io.stderr);
  assert.match(io.stdout, "Netflix Prize folder");
  for (const f of Object.values(PRIZE_FILES)) assert.ok(existsSync(join(dir, f)), f);
  const mv = readdirSync(join(dir, "training_set")).sort();
  assert.is(mv.length, SHAPE.movies);
  assert.is(mv[0], "mv_0000001.txt");
  assert.is(mv[SHAPE.movies - 1], "mv_0000800.txt");
  assert.match(readFileSync(join(dir, "training_set", "mv_0000042.txt"), "latin1"), /^42:\n\d+,[1-5],\d{4}-\d{2}-\d{2}\n/);
  const titles = readFileSync(join(dir, "movie_titles.txt"));
  assert.ok(titles.some((b) => b >= 0x80), "some titles have latin-1 accents");
  assert.not.match(titles.toString("latin1"), "Ã", "titles are latin-1, not UTF-8");
  const gen = JSON.parse(readFileSync(join(dir, "generator.json"), "utf8"));
  assert.is(gen.prize.layout, "training_set");
});

test("probe rows are training ratings; qualifying rows are not; both are each user's latest, a few per user", async () => {
  const gen = JSON.parse(readFileSync(join(dir, "generator.json"), "utf8")) as { prize: PrizeRecord; ratings: number };
  const training = await loadRatings(dir);
  assert.is(training.meta.nRatings, gen.prize.training);
  assert.is(gen.prize.training + gen.prize.qualifying, gen.ratings);
  const inTraining = pairs(training);
  const probe = await readNetflixProbe(join(dir, PRIZE_FILES.probe));
  const qualifying = await readNetflixQualifying(join(dir, PRIZE_FILES.qualifying));
  assert.is(probe.userIds.length, gen.prize.probe);
  assert.is(qualifying.userIds.length, gen.prize.qualifying);
  const share = gen.prize.probe / (gen.prize.probe + gen.prize.qualifying);
  assert.ok(Math.abs(share - 1 / 3) < 0.03, `probe share ${share}`);

  // Per user: the earliest held-out day is no earlier than the latest day kept for training.
  const heldFirst = new Map<number, number>();
  const heldCount = new Map<number, number>();
  const hold = (user: number, day: number) => {
    heldFirst.set(user, Math.min(heldFirst.get(user) ?? Infinity, day));
    heldCount.set(user, (heldCount.get(user) ?? 0) + 1);
  };
  const probeKeys = new Set<string>();
  for (let k = 0; k < probe.userIds.length; k++) {
    const key = `${probe.userIds[k]}:${probe.movieIds[k]}`;
    assert.ok(inTraining.has(key), `probe row ${key} is a training rating`);
    probeKeys.add(key);
    hold(probe.userIds[k]!, inTraining.get(key)!);
  }
  const movies = new Set(training.movies as Int32Array);
  const qualifyingCount = new Map<number, number>();
  for (let k = 0; k < qualifying.userIds.length; k++) {
    qualifyingCount.set(qualifying.userIds[k]!, (qualifyingCount.get(qualifying.userIds[k]!) ?? 0) + 1);
    const key = `${qualifying.userIds[k]}:${qualifying.movieIds[k]}`;
    assert.not.ok(inTraining.has(key), `qualifying row ${key} is not in training`);
    assert.ok(movies.has(qualifying.movieIds[k]!), `qualifying movie ${qualifying.movieIds[k]} has training ratings`);
    hold(qualifying.userIds[k]!, qualifying.days[k]!);
  }
  const perUser = new Map<number, number>();
  const lastKept = new Map<number, number>();
  for (const [key, day] of inTraining) {
    const user = Number(key.split(":")[0]);
    perUser.set(user, (perUser.get(user) ?? 0) + 1);
    if (!probeKeys.has(key)) lastKept.set(user, Math.max(lastKept.get(user) ?? -Infinity, day));
  }
  for (const [user, first] of heldFirst) {
    assert.ok(lastKept.has(user), `user ${user} keeps training ratings`);
    assert.ok(first >= lastKept.get(user)!, `user ${user}: held-out ratings are the latest`);
    const held = heldCount.get(user)!;
    const total = perUser.get(user)! + (qualifyingCount.get(user) ?? 0);
    assert.ok(held <= 9 && held <= Math.floor(total / 2), `user ${user}: ${held} of ${total} ratings held out`);
  }
});

test("the answers line up with qualifying.txt, and the planted model's RMSE on them is recorded", async () => {
  const gen = JSON.parse(readFileSync(join(dir, "generator.json"), "utf8")) as { prize: PrizeRecord };
  const q = await readNetflixQualifying(join(dir, PRIZE_FILES.qualifying));
  const answers = await readSubmission(join(dir, PRIZE_FILES.answers));
  assert.equal(Array.from(answers.movieIds), Array.from(q.movieIds));
  assert.ok(answers.values.every((v) => Number.isInteger(v) && v >= 1 && v <= 5));
  for (const floor of [gen.prize.noiseFloorProbeRmse, gen.prize.noiseFloorQualifyingRmse]) assert.ok(floor > 0.75 && floor < 0.95, `noise floor ${floor}`);
});

test("layout combined writes combined_data_*.txt instead of training_set/, with the same ratings", async () => {
  const out = join(tmp, "combined");
  const res = await generatePrize({ ...SHAPE, out, layout: "combined" });
  assert.ok(res.files.includes("combined_data_1.txt"));
  assert.not.ok(existsSync(join(out, "training_set")));
  const a = await loadRatings(dir);
  const b = await loadRatings(out);
  assert.equal([...pairs(a)].sort(), [...pairs(b)].sort());
  assert.equal(readFileSync(join(out, PRIZE_FILES.qualifying)), readFileSync(join(dir, PRIZE_FILES.qualifying)));
});

test("bad options are refused before anything is written", async () => {
  const message = (p: Promise<unknown>) => p.then(() => "resolved", (err: Error) => err.message);
  assert.match(await message(generatePrize({ ...SHAPE, out: join(tmp, "bad"), layout: "zip" as "combined" })), "unknown Prize layout");
  assert.match(await message(generatePrize({ ...SHAPE, out: join(tmp, "bad"), holdout: 0 })), "--holdout 0");
  const io = recordingIO();
  assert.is(await execute(["generate", "--prize", "--text", "--users", "10", "--movies", "5", "--ratings", "20", "--out", join(tmp, "bad")], io), 2);
  assert.match(io.stderr, "--text and --prize");
  assert.not.ok(existsSync(join(tmp, "bad")));
});

test.run();
