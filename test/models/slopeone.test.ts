/** slopeone against a plain reference of weighted SlopeOne and Surprise's (plain) SlopeOne. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createModel } from "../../src/models/registry.js";
import { planted } from "./fixtures.js";

const { train, test: testSet } = planted({ users: 70, movies: 30, perUser: 12, testPerUser: 3, seed: 4 });
const nU = train.users.length;
const nM = train.movies.length;
const R = Array.from({ length: nU }, () => new Float64Array(nM).fill(NaN));
train.ratings.user.forEach((u, k) => (R[u]![train.ratings.movie[k]!] = train.ratings.rating[k]!));
const rated = (u: number) => Array.from(R[u]!.keys()).filter((j) => !Number.isNaN(R[u]![j]!));
const userMean = R.map((_, u) => rated(u).reduce((s, j) => s + R[u]![j]!, 0) / rated(u).length);

/** dev(i, j) and c(i, j) over the users who rated both. */
function dev(i: number, j: number): [number, number] {
  let s = 0, c = 0;
  for (const row of R) {
    if (Number.isNaN(row[i]!) || Number.isNaN(row[j]!)) continue;
    s += row[i]! - row[j]!;
    c++;
  }
  return [c ? s / c : 0, c];
}

function reference(scheme: "weighted" | "plain", minSupport: number, u: number, i: number): number {
  let num = 0, den = 0;
  for (const j of rated(u)) {
    if (j === i) continue;
    const [d, c] = dev(i, j);
    if (c < minSupport) continue;
    num += scheme === "weighted" ? (d + R[u]![j]!) * c : d;
    den += scheme === "weighted" ? c : 1;
  }
  const est = den === 0 ? userMean[u]! : scheme === "weighted" ? num / den : userMean[u]! + num / den;
  return Math.min(5, Math.max(1, est));
}

for (const [scheme, minSupport] of [["weighted", 1], ["plain", 1], ["weighted", 6], ["plain", 4]] as const) {
  test(`slopeone (${scheme}, minSupport ${minSupport}) matches the reference`, async () => {
    const model = await createModel("slopeone", { scheme, minSupport }).fit(train);
    const got = model.predictDataset(testSet);
    const { user, movie } = testSet.ratings;
    for (let t = 0; t < user.length; t++) {
      const expected = reference(scheme, minSupport, user[t]!, movie[t]!);
      assert.ok(Math.abs(got[t]! - expected) < 1e-4, `pair ${t}: got ${got[t]}, expected ${expected}`);
    }
  });
}

test("unknown users get the movie's mean, unknown movies the user's mean, and say so", async () => {
  const model = await createModel("slopeone").fit(train);
  const e = model.predictOne(train.users[3]!, 424242);
  assert.ok(Math.abs(e.est - userMean[3]!) < 1e-5);
  assert.match(e.reason!, "user's mean rating");
  const ratings = R.map((row) => row[4]!).filter((r) => !Number.isNaN(r));
  const f = model.predictOne(424242, train.movies[4]!);
  assert.ok(Math.abs(f.est - ratings.reduce((s, r) => s + r, 0) / ratings.length) < 1e-5);
  assert.match(f.reason!, "movie's mean rating");
});

test.run();
