/**
 * What SVD++ and timeSVD++ add over plain factors, on planted data: the implicit feedback of which
 * movies a user rated, and the day of a rating.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { makeDataset } from "../../src/data/dataset.js";
import { Rng } from "../../src/data/rng.js";
import type { Dataset } from "../../src/data/types.js";
import { evaluateModel } from "../../src/eval/evaluate.js";
import { createModel } from "../../src/models/registry.js";

interface Row {
  u: number;
  i: number;
  r: number;
  day: number;
}

function dataset(rows: Row[], nUsers: number, nMovies: number): Dataset {
  return makeDataset({
    ratings: {
      user: Int32Array.from(rows, (x) => x.u),
      movie: Int32Array.from(rows, (x) => x.i),
      rating: Float32Array.from(rows, (x) => x.r),
      day: Int32Array.from(rows, (x) => x.day),
    },
    users: Int32Array.from({ length: nUsers }, (_, u) => u + 1),
    movies: Int32Array.from({ length: nMovies }, (_, i) => i + 1),
    source: "test",
    sources: [],
    ratingScale: { min: 1, max: 5 },
  });
}

const clip = (x: number) => Math.min(5, Math.max(1, x));

/**
 * Two genres of movies and users who each like one of them: r = 3 + 1.2·taste_u·genre_i + noise.
 * Heavy users rate 40 movies, 70% from the genre they like; light users rate 4 movies, all from
 * the genre they like, so their ratings alone cannot tell a taste for the genre from a generous
 * user — but which movies they rated can, once y_j has learned from the heavy users what picking
 * a movie says. The test set is light users' ratings of movies from both genres.
 */
function pickedByTaste(): { train: Dataset; test: Dataset } {
  const rng = new Rng(3);
  const nMovies = 100, heavy = 300, light = 300, nUsers = heavy + light;
  const genre = (i: number) => (i < nMovies / 2 ? 1 : -1);
  const train: Row[] = [], test: Row[] = [];
  const pick = (likes: number, share: number) => {
    const inLiked = rng.next() < share;
    const half = rng.int(nMovies / 2);
    return (likes === 1) === inLiked ? half : nMovies / 2 + half;
  };
  for (let u = 0; u < nUsers; u++) {
    const likes = rng.next() < 0.5 ? 1 : -1;
    const rate = (i: number) => clip(3 + 1.2 * likes * genre(i) + 0.3 * rng.normal());
    const isHeavy = u < heavy;
    for (let k = 0; k < (isHeavy ? 40 : 4); k++) {
      const i = pick(likes, isHeavy ? 0.7 : 1);
      train.push({ u, i, r: rate(i), day: 12000 });
    }
    if (!isHeavy) for (let k = 0; k < 6; k++) {
      const i = rng.int(nMovies);
      test.push({ u, i, r: rate(i), day: 12000 });
    }
  }
  return { train: dataset(train, nUsers, nMovies), test: dataset(test, nUsers, nMovies) };
}

test("svdpp: the implicit feedback tells light users' tastes apart where their ratings cannot", async () => {
  const { train, test: held } = pickedByTaste();
  const settings = { factors: 8, epochs: 40, lr: 0.01, reg: 0.05, initStd: 0.05 };
  const svdpp = await createModel("svdpp", { ...settings, lrY: 0.01, regY: 0.01 }).fit(train);
  const without = await createModel("svdpp", { ...settings, lrY: 0 }).fit(train);
  const mf = await createModel("mf", settings).fit(train);
  const withY = evaluateModel(svdpp, held).rmse;
  const noY = evaluateModel(without, held).rmse;
  const plain = evaluateModel(mf, held).rmse;
  assert.ok(withY < noY - 0.1, `svdpp ${withY.toFixed(4)} vs the same without learning y ${noY.toFixed(4)}`);
  assert.ok(withY < plain - 0.1, `svdpp ${withY.toFixed(4)} vs mf ${plain.toFixed(4)}`);
});

/**
 * Users whose mood shifts by day: r = 3 + b_u + b_i + mood(u, day) + noise, each user rating on
 * 4 days with moods of ±0.8. The test ratings fall on the same days as training ratings.
 */
function moods(): { train: Dataset; test: Dataset; mood: Map<string, number> } {
  const rng = new Rng(5);
  const nUsers = 300, nMovies = 80;
  const bi = Float64Array.from({ length: nMovies }, () => 0.5 * rng.normal());
  const train: Row[] = [], test: Row[] = [];
  const mood = new Map<string, number>();
  for (let u = 0; u < nUsers; u++) {
    const bu = 0.3 * rng.normal();
    for (let d = 0; d < 4; d++) {
      const day = 12000 + 30 * d + rng.int(20);
      const m = rng.next() < 0.5 ? 0.8 : -0.8;
      mood.set(`${u}:${day}`, m);
      for (let k = 0; k < 8; k++) {
        const i = rng.int(nMovies);
        (k < 6 ? train : test).push({ u, i, r: clip(3 + bu + bi[i]! + m + 0.3 * rng.normal()), day });
      }
    }
  }
  return { train: dataset(train, nUsers, nMovies), test: dataset(test, nUsers, nMovies), mood };
}

test("timesvdpp: per-day user biases follow a user's mood on the day of the rating", async () => {
  const { train, test: held, mood } = moods();
  const settings = { factors: 4, epochs: 30 };
  const timed = await createModel("timesvdpp", { ...settings, lrBut: 0.02, regBut: 0.01 }).fit(train);
  const untimed = await createModel("svdpp", settings).fit(train);
  const withDays = evaluateModel(timed, held).rmse;
  const withoutDays = evaluateModel(untimed, held).rmse;
  assert.ok(withDays < withoutDays - 0.2, `timesvdpp ${withDays.toFixed(4)} vs svdpp ${withoutDays.toFixed(4)}`);

  // predictDataset uses each rating's day; predict() has no day and uses the user's last one.
  const byDay = timed.predictDataset(held);
  const noDay = timed.predict(Array.from(held.ratings.user, (u) => u + 1), Array.from(held.ratings.movie, (i) => i + 1));
  // The estimates move with the planted mood of the day (the last day's mood is in noDay for both).
  const shift = { up: 0, upCount: 0, down: 0, downCount: 0 };
  let differ = 0;
  held.ratings.user.forEach((u, k) => {
    if (byDay[k] !== noDay[k]) differ++;
    if (mood.get(`${u}:${held.ratings.day[k]}`)! > 0) (shift.up += byDay[k]! - noDay[k]!), shift.upCount++;
    else (shift.down += byDay[k]! - noDay[k]!), shift.downCount++;
  });
  assert.ok(differ > held.ratings.user.length / 2, `only ${differ} estimates changed with the day`);
  const gap = shift.up / shift.upCount - shift.down / shift.downCount;
  assert.ok(gap > 0.5, `good-mood days are estimated only ${gap.toFixed(3)} above bad-mood days`);
});

test("timesvdpp: days outside the training range and users without ratings still get estimates", async () => {
  const { train } = moods();
  const model = await createModel("timesvdpp", { factors: 4, epochs: 5 }).fit(train);
  const probe = dataset([
    { u: 0, i: 0, r: 3, day: 1000 },
    { u: 0, i: 1, r: 3, day: 99999 },
    { u: 1, i: 2, r: 3, day: 12001 },
  ], 300, 80);
  const est = model.predictDataset(probe);
  assert.ok(est.every((x) => Number.isFinite(x) && x >= 1 && x <= 5), String(est));
  const unknown = model.predictOne(424242, 5);
  assert.is(unknown.impossible, true);
  assert.ok(unknown.est >= 1 && unknown.est <= 5);
});

test("early stopping keeps the epoch with the best validation RMSE, for both models", async () => {
  const { train, test: held } = moods();
  for (const algo of ["svdpp", "timesvdpp"]) {
    const seen: number[] = [];
    const model = await createModel(algo, { factors: 16, epochs: 80, lr: 0.03, reg: 0, initStd: 0.1 }).fit(train, {
      valid: held,
      earlyStop: 3,
      onEpoch: (e) => seen.push(e.validRmse!),
    });
    assert.ok(seen.length < 80, `${algo}: ran all ${seen.length} epochs`);
    const bestAt = seen.indexOf(Math.min(...seen));
    assert.is(seen.length, bestAt + 1 + 3, `${algo}: stopped ${seen.length - bestAt - 1} epochs after the best`);
    const rmse = evaluateModel(model, held).rmse;
    assert.ok(Math.abs(rmse - seen[bestAt]!) < 1e-4, `${algo}: kept RMSE ${rmse}, best epoch ${seen[bestAt]}`);
  }
});

test("early stopping without validation ratings holds out validFraction of the training ratings", async () => {
  const { train } = moods();
  for (const algo of ["svdpp", "timesvdpp"]) {
    const seen: number[] = [];
    await createModel(algo, { factors: 16, epochs: 80, lr: 0.03, reg: 0, initStd: 0.1 }).fit(train, {
      earlyStop: 3,
      validFraction: 0.1,
      onEpoch: (e) => seen.push(e.validRmse!),
    });
    assert.ok(seen.every((v) => Number.isFinite(v) && v > 0), `${algo}: a validation RMSE every epoch`);
    assert.ok(seen.length < 80, `${algo}: stopped early after ${seen.length} epochs`);
  }
});

test.run();
