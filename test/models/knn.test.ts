/**
 * knn-item and knn-user against a plain reference of Surprise's KNNBasic / KNNWithMeans /
 * KNNBaseline estimate (with the damping term), on a small planted matrix.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Dataset } from "../../src/data/types.js";
import type { Model } from "../../src/models/model.js";
import type { Params } from "../../src/models/params.js";
import { createModel } from "../../src/models/registry.js";
import { fitBiases, type Biases, type SimilarityKind } from "../../src/models/similarity.js";
import { planted } from "./fixtures.js";

const { train, test: testSet } = planted({ users: 80, movies: 40, perUser: 20, testPerUser: 4, seed: 3 });
const nU = train.users.length;
const nM = train.movies.length;

/** ratings[u][i] (NaN where not rated). */
const R = Array.from({ length: nU }, () => new Float64Array(nM).fill(NaN));
train.ratings.user.forEach((u, k) => (R[u]![train.ratings.movie[k]!] = train.ratings.rating[k]!));
const mu = train.ratings.rating.reduce((s, r) => s + r, 0) / train.ratings.rating.length;
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const userMean = R.map((row) => mean(Array.from(row).filter((r) => !Number.isNaN(r))));
const movieMean = Array.from({ length: nM }, (_, i) => mean(R.map((row) => row[i]!).filter((r) => !Number.isNaN(r))));

/** Surprise's similarity of two rows of `m` (m[x][c], NaN missing). */
function similarity(kind: SimilarityKind, a: Float64Array, b: Float64Array, minSupport: number, shrinkage: number): number {
  const pairs: [number, number][] = [];
  a.forEach((x, c) => {
    if (!Number.isNaN(x) && !Number.isNaN(b[c]!)) pairs.push([x, b[c]!]);
  });
  const n = pairs.length;
  if (n < minSupport || n === 0) return 0;
  const s = (f: (x: number, y: number) => number) => pairs.reduce((t, [x, y]) => t + f(x, y), 0);
  if (kind === "msd") return 1 / (s((x, y) => (x - y) ** 2) / n + 1);
  if (kind === "pearson") {
    const [sx, sy] = [s((x) => x), s((_, y) => y)];
    const den = Math.sqrt((n * s((x) => x * x) - sx * sx) * (n * s((_, y) => y * y) - sy * sy));
    return den > 0 ? (n * s((x, y) => x * y) - sx * sy) / den : 0;
  }
  const den = Math.sqrt(s((x) => x * x) * s((_, y) => y * y));
  if (!(den > 0)) return 0;
  const rho = s((x, y) => x * y) / den;
  return kind === "pearson-baseline" ? rho * ((n - 1) / (n - 1 + shrinkage)) : rho;
}

interface Settings {
  side: "item" | "user";
  variant: "basic" | "means" | "baseline";
  sim: SimilarityKind;
  k: number;
  minK: number;
  minSupport: number;
  shrinkage: number;
  damping: number;
}

/** The reference estimate for (u, i), both known. */
function reference(s: Settings, b: Biases, u: number, i: number): number {
  const base = (v: number, j: number) => (s.variant === "baseline" ? b.mu + b.bu[v]! + b.bi[j]! : s.variant === "means" ? (s.side === "item" ? movieMean[j]! : userMean[v]!) : 0);
  const value = (v: number, j: number) => (s.sim === "pearson-baseline" ? R[v]![j]! - (b.mu + b.bu[v]! + b.bi[j]!) : R[v]![j]!);
  const rows = s.side === "item"
    ? Array.from({ length: nM }, (_, j) => Float64Array.from({ length: nU }, (_, v) => (Number.isNaN(R[v]![j]!) ? NaN : value(v, j))))
    : Array.from({ length: nU }, (_, v) => Float64Array.from({ length: nM }, (_, j) => (Number.isNaN(R[v]![j]!) ? NaN : value(v, j))));
  const x = s.side === "item" ? i : u;
  const cands: [number, number][] = [];
  if (s.side === "item") {
    for (let j = 0; j < nM; j++) if (!Number.isNaN(R[u]![j]!)) cands.push([j === i ? 1 : similarity(s.sim, rows[x]!, rows[j]!, s.minSupport, s.shrinkage), R[u]![j]! - base(u, j)]);
  } else {
    for (let v = 0; v < nU; v++) if (!Number.isNaN(R[v]![i]!)) cands.push([v === u ? 1 : similarity(s.sim, rows[x]!, rows[v]!, s.minSupport, s.shrinkage), R[v]![i]! - base(v, i)]);
  }
  const top = cands.filter(([sim]) => sim > 0).sort((p, q) => q[0] - p[0]).slice(0, s.k);
  const num = top.reduce((t, [sim, d]) => t + sim * d, 0);
  const den = top.reduce((t, [sim]) => t + sim, 0);
  const fallback = s.variant === "basic" ? mu : base(u, i);
  let est = top.length < s.minK || den === 0 ? fallback : s.variant === "basic" ? num / den : base(u, i) + num / (den + s.damping);
  est = Math.min(5, Math.max(1, est));
  return est;
}

const CASES: Settings[] = [
  { side: "item", variant: "baseline", sim: "pearson-baseline", k: 10, minK: 1, minSupport: 1, shrinkage: 100, damping: 0 },
  { side: "item", variant: "baseline", sim: "pearson-baseline", k: 40, minK: 3, minSupport: 4, shrinkage: 20, damping: 0.05 },
  { side: "item", variant: "means", sim: "pearson", k: 8, minK: 1, minSupport: 2, shrinkage: 0, damping: 0.2 },
  { side: "item", variant: "basic", sim: "cosine", k: 5, minK: 2, minSupport: 1, shrinkage: 0, damping: 0 },
  { side: "user", variant: "baseline", sim: "pearson-baseline", k: 15, minK: 1, minSupport: 2, shrinkage: 50, damping: 0.1 },
  { side: "user", variant: "means", sim: "msd", k: 10, minK: 1, minSupport: 1, shrinkage: 0, damping: 0 },
  { side: "user", variant: "basic", sim: "pearson", k: 20, minK: 5, minSupport: 3, shrinkage: 0, damping: 0 },
];

const BASELINE = { epochs: 5, regU: 4, regI: 6 };

async function fit(s: Settings, data: Dataset = train): Promise<Model> {
  const { side, ...params } = s;
  const extra = side === "item" ? { neighbours: nM } : {};
  return createModel(`knn-${side}`, { ...params, ...extra, ...BASELINE } as Params).fit(data);
}

for (const s of CASES) {
  test(`knn-${s.side} (${s.variant}, ${s.sim}, k ${s.k}, minK ${s.minK}, minSupport ${s.minSupport}) matches the reference estimate`, async () => {
    const model = await fit(s);
    const b = await fitBiases(train, BASELINE);
    const got = model.predictDataset(testSet);
    const { user, movie } = testSet.ratings;
    for (let t = 0; t < user.length; t++) {
      const expected = reference(s, b, user[t]!, movie[t]!);
      assert.ok(Math.abs(got[t]! - expected) < 2e-4, `pair ${t} (u ${user[t]}, i ${movie[t]}): got ${got[t]}, expected ${expected}`);
    }
  });
}

test("knn-item keeps `neighbours` most similar movies per movie: fewer neighbours change predictions, similarItems lists them", async () => {
  const s = CASES[0]!;
  const all = await fit(s);
  const { side: _side, ...params } = s;
  const few = await createModel("knn-item", { ...params, neighbours: 3, ...BASELINE }).fit(train);
  const a = all.predictDataset(testSet);
  const b = few.predictDataset(testSet);
  assert.ok(a.some((x, t) => x !== b[t]), "3 neighbours per movie give other estimates than all of them");
  const [sim] = few.similarItems([train.movies[5]!], { n: 10 });
  assert.is(sim!.movieIds.length, 3);
  const [full] = all.similarItems([train.movies[5]!], { n: 3 });
  assert.equal(sim!.movieIds, full!.movieIds, "the kept neighbours are the most similar");
  for (let k = 1; k < 3; k++) assert.ok(sim!.scores[k - 1]! >= sim!.scores[k]!);
});

test("knn-user answers similarItems with movie–movie similarity of the same settings", async () => {
  const s = CASES[4]!;
  const user = await fit(s);
  const item = await fit({ ...s, side: "item" });
  const id = train.movies[7]!;
  const [a] = user.similarItems([id], { n: 5 });
  const [b] = item.similarItems([id], { n: 5 });
  assert.equal(a!.movieIds, b!.movieIds);
  assert.is(a!.reason, null);
});

test("unknown users or movies fall back to the parts of the baseline (or means) that exist", async () => {
  const base = await fit(CASES[0]!);
  const b = await fitBiases(train, BASELINE);
  const id = train.movies[2]!;
  const e = base.predictOne(123456, id);
  assert.ok(Math.abs(e.est - Math.min(5, Math.max(1, b.mu + b.bi[2]!))) < 1e-5);
  assert.match(e.reason!, "μ + b_i");
  const means = await fit(CASES[2]!);
  assert.ok(Math.abs(means.predictOne(123456, id).est - movieMean[2]!) < 1e-5);
  assert.match(means.predictOne(123456, id).reason!, "movie's mean rating");
  const basic = await fit(CASES[3]!);
  assert.ok(Math.abs(basic.predictOne(train.users[0]!, 999999).est - mu) < 1e-5);
});

test.run();
