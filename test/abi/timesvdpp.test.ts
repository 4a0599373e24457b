/**
 * The timeSVD++ grid kernel (timeSvdppBlock, with the implicit passes of implicit.ts) against a
 * plain TypeScript reference of the paper's per-rating SGD with the y_j updates deferred to the
 * end of the epoch (f64), the SIMD path against the scalar one (bit-identical), timeSVD++ with its
 * time terms frozen against SVD++, and predictions against the training estimate.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CHUNK_RATINGS, Engine, KernelError, type Region } from "../../src/abi/index.js";
import {
  TIME_SVDPP_HYPER_LENGTH, TIME_SVDPP_TERMS, timeSvdppHyper, type ImplicitState, type TimeCoo, type TimeSvdppModel,
  type TimeSvdppParams,
} from "../../src/abi/kernels.js";
import { Rng } from "../../src/data/rng.js";
import { assertClose, assertSameBits } from "./assertions.js";

const engine = await Engine.create({ bytes: 128 << 20 });
const arena = engine.arena;

const ARRAYS = ["P", "AP", "Q", "Y", "bu", "alpha", "cu", "bi", "biBin", "but", "cut"] as const;
type ArrayName = (typeof ARRAYS)[number];

interface Problem {
  nUsers: number;
  nMovies: number;
  nDays: number;
  nBins: number;
  stride: number;
  /** Ratings in the order a block pass visits them; (user, movie) pairs are distinct. */
  user: Int32Array;
  movie: Int32Array;
  rating: Float32Array;
  /** Each rating's user-day index (a day of its own user). */
  day: Int32Array;
  dayBin: Int32Array;
  dayDev: Float32Array;
  arrays: Record<ArrayName, Float32Array>;
}

/**
 * Random distinct (user, movie) ratings (some users with none) in random order; each user has 1–3
 * days of its own (user-day indices are global), each day a bin and a dev value; every parameter
 * random and small (c_u near 1).
 */
function problem(seed: number, nUsers: number, nMovies: number, maxPerUser: number, factors: number, nBins = 4): Problem {
  const rng = new Rng(seed);
  const stride = Math.ceil(factors / 4) * 4;
  const ratings: [number, number, number][] = [];
  let nDays = 0;
  for (let u = 0; u < nUsers; u++) {
    const days = 1 + rng.int(3);
    const count = Math.min(nMovies, rng.int(maxPerUser + 1));
    for (const i of rng.permutation(nMovies).subarray(0, count)) ratings.push([u, i, nDays + rng.int(days)]);
    nDays += days;
  }
  const visit = rng.permutation(ratings.length);
  const rows = (count: number): Float32Array => {
    const m = new Float32Array(count * stride);
    for (let r = 0; r < count; r++) for (let f = 0; f < factors; f++) m[r * stride + f] = 0.3 * rng.normal();
    return m;
  };
  const small = (n: number, around = 0) => Float32Array.from({ length: n }, () => around + 0.2 * rng.normal());
  return {
    nUsers, nMovies, nDays, nBins, stride,
    user: Int32Array.from(visit, (k) => ratings[k]![0]),
    movie: Int32Array.from(visit, (k) => ratings[k]![1]),
    day: Int32Array.from(visit, (k) => ratings[k]![2]),
    rating: Float32Array.from(ratings, () => 1 + rng.int(5)),
    dayBin: Int32Array.from({ length: nDays }, () => rng.int(nBins)),
    dayDev: Float32Array.from({ length: nDays }, () => 3 * rng.normal()),
    arrays: {
      P: rows(nUsers), AP: rows(nUsers), Q: rows(nMovies), Y: rows(nMovies),
      bu: small(nUsers), alpha: small(nUsers), cu: small(nUsers, 1), bi: small(nMovies),
      biBin: small(nMovies * nBins), but: small(nDays), cut: small(nDays),
    },
  };
}

interface Loaded {
  data: TimeCoo;
  model: TimeSvdppModel;
  state: ImplicitState;
}

function load(p: Problem): Loaded {
  const a = p.arrays;
  const model: TimeSvdppModel = {
    nUsers: p.nUsers, nMovies: p.nMovies, nDays: p.nDays, nBins: p.nBins, stride: p.stride,
    P: arena.copyIn(a.P), AP: arena.copyIn(a.AP), Q: arena.copyIn(a.Q), Y: arena.copyIn(a.Y),
    bu: arena.copyIn(a.bu), alpha: arena.copyIn(a.alpha), cu: arena.copyIn(a.cu), bi: arena.copyIn(a.bi),
    biBin: arena.copyIn(a.biBin), but: arena.copyIn(a.but), cut: arena.copyIn(a.cut),
    dayBin: arena.copyIn(p.dayBin), dayDev: arena.copyIn(p.dayDev),
  };
  const count = new Int32Array(p.nUsers);
  for (const u of p.user) if (u >= 0 && u < p.nUsers) count[u]!++;
  return {
    data: { user: arena.copyIn(p.user), movie: arena.copyIn(p.movie), rating: arena.copyIn(p.rating), day: arena.copyIn(p.day) },
    model,
    state: {
      nUsers: p.nUsers, nMovies: p.nMovies, stride: p.stride, count: arena.copyIn(count), keep: arena.array("f32", p.nUsers),
      Y: model.Y, Z: arena.array("f32", p.nUsers * p.stride), Z0: arena.array("f32", p.nUsers * p.stride), P: model.P,
    },
  };
}

function state(m: TimeSvdppModel): Record<ArrayName, Float32Array> {
  return Object.fromEntries(ARRAYS.map((k) => [k, arena.copyOut(m[k])])) as Record<ArrayName, Float32Array>;
}

/** Distinct rates per term, so a swapped term shows. */
const PARAMS = Object.fromEntries([
  ["mu", 3.5],
  ...TIME_SVDPP_TERMS.flatMap((t, k) => [[`lr${t}`, 0.005 * (k + 1)], [`reg${t}`, 0.01 * (k + 2)]]),
]) as TimeSvdppParams;

/** The kernel's parameters: μ and the hyperparameter block in the arena. */
const kernelParams = (k: TimeSvdppParams) => ({ mu: k.mu, hyper: arena.copyIn(timeSvdppHyper(k)) });

/** keepY as the kernel computes it, in f32. */
const keepYOf = (k: TimeSvdppParams) => Math.fround(1 - Math.fround(Math.fround(k.lrY) * Math.fround(k.regY)));

/** One grid epoch: the implicit sums, the rating updates, the deltas and the y_j scatter. */
function gridEpoch(l: Loaded, k: TimeSvdppParams, simd: boolean): number {
  const all: [number, number] = [0, l.model.nUsers];
  engine.implicitSums(l.data, l.state, all, { simd });
  const sse = engine.timeSvdppBlock(l.data, l.model, l.state.Z, kernelParams(k), { simd });
  engine.implicitDelta(l.state, all, keepYOf(k), { simd });
  engine.implicitScatter(l.data, l.state, { simd });
  return sse;
}

/**
 * One epoch of the paper's per-rating SGD on timeSVD++, literally, in f64, with the y_j updates
 * deferred: each rating updates every term with z_u = |N(u)|^−½ Σ y_j over the user's own copy
 * of its y_j (starting from the epoch's Y), and every y_j, j ∈ N(u), of that copy; after the
 * pass, each rating (u, j) in order applies u's per-rating y_j updates, in their order, to the
 * shared y_j.
 */
function referenceEpoch(p: Problem, k: TimeSvdppParams) {
  const m = Object.fromEntries(ARRAYS.map((name) => [name, Float64Array.from(p.arrays[name])])) as Record<ArrayName, Float64Array>;
  const { P, AP, Q, Y, bu, alpha, cu, bi, biBin, but, cut } = m;
  const s = p.stride;
  const implicitOf = (u: number) => p.movie.filter((_, r) => p.user[r] === u);
  const own = new Map<number, Map<number, Float64Array>>();
  const steps = new Map<number, { e: number; q: Float64Array }[]>();
  let sse = 0;
  for (let r = 0; r < p.user.length; r++) {
    const u = p.user[r]!, i = p.movie[r]!, d = p.day[r]!, b = p.dayBin[d]!, dev = p.dayDev[d]!;
    const implicit = implicitOf(u);
    const scale = 1 / Math.sqrt(implicit.length);
    if (!own.has(u)) own.set(u, new Map(Array.from(implicit, (j) => [j, Y.slice(j * s, (j + 1) * s)])));
    const ys = own.get(u)!;
    const t = new Float64Array(s);
    for (const y of ys.values()) for (let f = 0; f < s; f++) t[f] += scale * y[f]!;
    for (let f = 0; f < s; f++) t[f] += P[u * s + f]! + dev * AP[u * s + f]!;
    let dot = 0;
    for (let f = 0; f < s; f++) dot += Q[i * s + f]! * t[f]!;
    const ib = i * p.nBins + b;
    const bit = bi[i]! + biBin[ib]!, sc = cu[u]! + cut[d]!;
    const e = p.rating[r]! - (k.mu + bu[u]! + alpha[u]! * dev + but[d]! + bit * sc + dot);
    sse += e * e;
    bu[u] = bu[u]! + k.lrBu * (e - k.regBu * bu[u]!);
    alpha[u] = alpha[u]! + k.lrAlpha * (e * dev - k.regAlpha * alpha[u]!);
    but[d] = but[d]! + k.lrBut * (e - k.regBut * but[d]!);
    bi[i] = bi[i]! + k.lrBi * (e * sc - k.regBi * bi[i]!);
    biBin[ib] = biBin[ib]! + k.lrBiBin * (e * sc - k.regBiBin * biBin[ib]!);
    cu[u] = cu[u]! + k.lrCu * (e * bit - k.regCu * (cu[u]! - 1));
    cut[d] = cut[d]! + k.lrCut * (e * bit - k.regCut * cut[d]!);
    const qOld = Q.slice(i * s, (i + 1) * s);
    for (let f = 0; f < s; f++) {
      const pf = P[u * s + f]!, af = AP[u * s + f]!, qf = qOld[f]!;
      P[u * s + f] = pf + k.lrP * (e * qf - k.regP * pf);
      AP[u * s + f] = af + k.lrAlphaP * (e * dev * qf - k.regAlphaP * af);
      Q[i * s + f] = qf + k.lrQ * (e * t[f]! - k.regQ * qf);
    }
    for (const y of ys.values()) for (let f = 0; f < s; f++) y[f] = y[f]! + k.lrY * (e * scale * qOld[f]! - k.regY * y[f]!);
    if (!steps.has(u)) steps.set(u, []);
    steps.get(u)!.push({ e, q: qOld });
  }
  for (let r = 0; r < p.user.length; r++) {
    const u = p.user[r]!, j = p.movie[r]!;
    const scale = 1 / Math.sqrt(implicitOf(u).length);
    for (const { e, q } of steps.get(u)!) {
      for (let f = 0; f < s; f++) Y[j * s + f] = Y[j * s + f]! + k.lrY * (e * scale * q[f]! - k.regY * Y[j * s + f]!);
    }
  }
  return { m, sse };
}

test("a timeSVD++ grid epoch gives the paper's per-rating SGD with the y_j updates deferred (f64 reference), on both paths", () => {
  for (const [factors, seed] of [[8, 2], [10, 3], [3, 4]] as const) {
    const mark = arena.mark();
    const p = problem(seed, 6, 9, 7, factors);
    const ref = referenceEpoch(p, PARAMS);
    for (const simd of [true, false]) {
      const l = load(p);
      const sse = gridEpoch(l, PARAMS, simd);
      const got = state(l.model);
      const what = `factors ${factors}, ${simd ? "SIMD" : "scalar"}`;
      assertClose([sse], [ref.sse], `${what} sse`);
      for (const name of ARRAYS) assertClose(got[name], ref.m[name], `${what} ${name}`);
      for (const name of ["P", "AP", "Q", "Y"] as const) {
        for (let r = 0; r < got[name].length; r += p.stride) {
          for (let f = factors; f < p.stride; f++) assert.is(got[name][r + f], 0, `${name}: padding stays zero`);
        }
      }
    }
    arena.reset(mark);
  }
});

test("timeSvdppBlock: the SIMD and scalar paths give bit-identical models over several epochs", () => {
  const mark = arena.mark();
  const p = problem(5, 40, 30, 25, 36, 6);
  // Moderate drift terms, so three epochs at these rates stay finite.
  p.dayDev.forEach((x, d) => (p.dayDev[d] = 0.2 * x));
  p.arrays.AP.forEach((x, k) => (p.arrays.AP[k] = 0.1 * x));
  const small = Object.fromEntries(Object.entries(PARAMS).map(([k, v]) => [k, k === "mu" ? v : v / 5])) as TimeSvdppParams;
  const a = load(p), b = load(p);
  let sseA = 0, sseB = 0;
  for (let epoch = 0; epoch < 3; epoch++) {
    sseA = gridEpoch(a, small, true);
    sseB = gridEpoch(b, small, false);
  }
  assert.ok(Number.isFinite(sseA));
  assert.is(sseA, sseB);
  const sa = state(a.model), sb = state(b.model);
  for (const name of ARRAYS) assertSameBits(sa[name], sb[name], name);
  assertSameBits(arena.view(a.state.Z), arena.view(b.state.Z), "Z");
  arena.reset(mark);
});

test("with its time terms zero and frozen (c_u = 1), timeSvdppBlock is svdppBlock bit for bit", () => {
  const mark = arena.mark();
  const p = problem(6, 20, 15, 12, 12);
  for (const name of ["AP", "alpha", "biBin", "but", "cut"] as const) p.arrays[name].fill(0);
  p.arrays.cu.fill(1);
  const frozen = { ...PARAMS, lrAlpha: 0, lrBut: 0, lrBiBin: 0, lrCu: 0, lrCut: 0, lrAlphaP: 0 };
  for (const simd of [true, false]) {
    const l = load(p);
    engine.implicitSums(l.data, l.state, [0, p.nUsers]);
    const Z = arena.copyIn(arena.view(l.state.Z));
    const sse = engine.timeSvdppBlock(l.data, l.model, l.state.Z, kernelParams(frozen), { simd });
    const a = p.arrays;
    const svd = {
      nUsers: p.nUsers, nMovies: p.nMovies, stride: p.stride,
      P: arena.copyIn(a.P), Q: arena.copyIn(a.Q), bu: arena.copyIn(a.bu), bi: arena.copyIn(a.bi),
    };
    const sseSvd = engine.svdppBlock(l.data, svd, Z, frozen, { simd });
    assert.is(sse, sseSvd);
    const got = state(l.model);
    for (const name of ["P", "Q", "bu", "bi"] as const) assertSameBits(got[name], arena.view(svd[name]), name);
    assertSameBits(arena.view(l.state.Z), arena.view(Z), "Z");
  }
  arena.reset(mark);
});

test("timeSvdppBlock over rating ranges, and in chunks past CHUNK_RATINGS, equals one pass", () => {
  const mark = arena.mark();
  const nUsers = 24;
  const nMovies = Math.ceil((CHUNK_RATINGS * 1.1) / nUsers);
  const n = nUsers * nMovies;
  const rng = new Rng(8);
  // Every user rates every movie, on one of its two days.
  const base = problem(8, nUsers, 4, 1, 4);
  const p: Problem = {
    ...base,
    nMovies,
    nDays: 2 * nUsers,
    user: Int32Array.from({ length: n }, (_, r) => Math.floor(r / nMovies)),
    movie: Int32Array.from({ length: n }, (_, r) => r % nMovies),
    rating: Float32Array.from({ length: n }, () => 1 + rng.int(5)),
    day: Int32Array.from({ length: n }, (_, r) => 2 * Math.floor(r / nMovies) + rng.int(2)),
    dayBin: Int32Array.from({ length: 2 * nUsers }, () => rng.int(base.nBins)),
    dayDev: Float32Array.from({ length: 2 * nUsers }, () => rng.normal()),
    arrays: {
      ...base.arrays,
      Q: new Float32Array(nMovies * 4).map(() => 0.1 * rng.normal()),
      Y: new Float32Array(nMovies * 4).map(() => 0.1 * rng.normal()),
      bi: new Float32Array(nMovies),
      biBin: new Float32Array(nMovies * base.nBins),
      but: new Float32Array(2 * nUsers),
      cut: new Float32Array(2 * nUsers),
    },
  };
  const small = Object.fromEntries(Object.entries(PARAMS).map(([k, v]) => [k, k === "mu" ? v : v / 20])) as TimeSvdppParams;
  const whole = load(p), parts = load(p);
  const params = kernelParams(small);
  engine.implicitSums(whole.data, whole.state, [0, nUsers]);
  engine.implicitSums(parts.data, parts.state, [0, nUsers]);
  const sse = engine.timeSvdppBlock(whole.data, whole.model, whole.state.Z, params);
  let sseParts = 0;
  for (let at = 0; at < n; at += 100_000) {
    sseParts += engine.timeSvdppBlock(parts.data, parts.model, parts.state.Z, params, { start: at, end: Math.min(n, at + 100_000) });
  }
  assert.ok(Number.isFinite(sse));
  assert.ok(Math.abs(sse - sseParts) <= 1e-9 * sse, `${sse} vs ${sseParts}`);
  const a = state(whole.model), b = state(parts.model);
  for (const name of ARRAYS) assertSameBits(a[name], b[name], name);
  assertSameBits(arena.view(whole.state.Z), arena.view(parts.state.Z), "Z");
  arena.reset(mark);
});

test("timeSvdppPredict: the training estimate for known pairs, the parts that exist for unknown ones", () => {
  const mark = arena.mark();
  const p = problem(7, 10, 8, 6, 8);
  const l = load(p);
  // The user vectors p_u + z_u from the same sums the rating updates use.
  const U = arena.array("f32", p.nUsers * p.stride);
  engine.implicitSums(l.data, l.state, [0, p.nUsers], { out: U });
  const predictor = { ...l.model, U };
  const wide = { mu: 3.5, lo: -1e9, hi: 1e9 };
  // Known pairs: every training rating, in visiting order; with every learning rate 0 the pass
  // changes nothing and its sse is Σ (r − est)² over the same estimates.
  const est = engine.timeSvdppPredict({
    user: p.user, movie: p.movie, day: p.day, bin: Int32Array.from(p.day, (d) => p.dayBin[d]!), dev: Float32Array.from(p.day, (d) => p.dayDev[d]!),
  }, predictor, wide);
  const still = Object.fromEntries(Object.entries(PARAMS).map(([k, v]) => [k, k === "mu" ? v : 0])) as TimeSvdppParams;
  const sse = engine.timeSvdppBlock(l.data, l.model, l.state.Z, kernelParams(still));
  let expected = 0;
  est.forEach((x, k) => {
    const e = Math.fround(p.rating[k]! - x);
    expected += e * e;
  });
  assert.is(sse, expected);

  // Unknown parts, against the header's formula in f64.
  const a = p.arrays;
  const r0 = p.user.findIndex((x) => x === 3);
  const u = 3, i = 5, d = r0 >= 0 ? p.day[r0]! : 0, b = 2, dev = 1.5;
  const uvec = arena.view(U);
  const cases: [number, number, number, number][] = [[u, i, d, b], [u, i, -1, b], [u, i, d, -1], [u, -1, d, b], [-1, i, -1, b], [-1, -1, -1, -1]];
  const got = engine.timeSvdppPredict({
    user: Int32Array.from(cases, (c) => c[0]), movie: Int32Array.from(cases, (c) => c[1]), day: Int32Array.from(cases, (c) => c[2]),
    bin: Int32Array.from(cases, (c) => c[3]), dev: Float32Array.from(cases, () => dev),
  }, predictor, wide, { simd: false });
  const want = cases.map(([cu, ci, cd, cb]) => {
    let x = 3.5;
    if (cu >= 0) x += a.bu[cu]! + a.alpha[cu]! * dev + (cd >= 0 ? a.but[cd]! : 0);
    if (ci >= 0) {
      const bit = a.bi[ci]! + (cb >= 0 ? a.biBin[ci * p.nBins + cb]! : 0);
      if (cu < 0) return x + bit;
      let dot = 0;
      for (let f = 0; f < p.stride; f++) dot += a.Q[ci * p.stride + f]! * (uvec[cu * p.stride + f]! + dev * a.AP[cu * p.stride + f]!);
      x += bit * (a.cu[cu]! + (cd >= 0 ? a.cut[cd]! : 0)) + dot;
    }
    return x;
  });
  assertClose(got, want, "unknown parts");
  const clipped = engine.timeSvdppPredict({ user: Int32Array.of(u), movie: Int32Array.of(i), day: Int32Array.of(d), bin: Int32Array.of(b), dev: Float32Array.of(40) }, predictor, { mu: 3.5, lo: 1, hi: 5 });
  assert.ok(clipped[0]! >= 1 && clipped[0]! <= 5);
  assert.throws(() => engine.timeSvdppPredict({ user: Int32Array.of(p.nUsers), movie: Int32Array.of(0), day: Int32Array.of(0), bin: Int32Array.of(0), dev: Float32Array.of(0) }, predictor, wide),
    (e: unknown) => e instanceof KernelError && e.codeName === "STATUS_INDEX_OUT_OF_RANGE");
  assert.throws(() => engine.timeSvdppPredict({ user: Int32Array.of(0), movie: Int32Array.of(0, 1), day: Int32Array.of(0), bin: Int32Array.of(0), dev: Float32Array.of(0) }, predictor, wide),
    /pairs\.movie has 2 entries/);
  arena.reset(mark);
});

test("timeSvdppBlock reports bad indices and bad arguments", () => {
  const mark = arena.mark();
  const p = problem(9, 5, 6, 4, 4);
  const params = kernelParams(PARAMS);
  const isIndexError = (e: unknown) => e instanceof KernelError && e.codeName === "STATUS_INDEX_OUT_OF_RANGE";
  const run = (l: Loaded, k = params) => engine.timeSvdppBlock(l.data, l.model, l.state.Z, k);
  const bad = (change: Partial<Problem>) => load({ ...p, ...change });
  assert.throws(() => run(bad({ day: p.day.map((d, r) => (r === 1 ? p.nDays : d)) })), isIndexError);
  assert.throws(() => run(bad({ dayBin: p.dayBin.map(() => p.nBins) })), isIndexError);
  assert.throws(() => run(bad({ user: p.user.map((u, r) => (r === 1 ? -3 : u)) })), isIndexError);
  assert.throws(() => run(bad({ movie: p.movie.map((i, r) => (r === 2 ? 99 : i)) })), isIndexError);
  const ok = load(p);
  assert.throws(() => engine.timeSvdppBlock(ok.data, { ...ok.model, biBin: ok.model.bi }, ok.state.Z, params), /biBin has 6 elements/);
  assert.throws(() => engine.timeSvdppBlock(ok.data, ok.model, ok.model.bu, params), /Z has 5 elements/);
  assert.throws(() => engine.timeSvdppBlock({ ...ok.data, day: arena.array("i32", 1) }, ok.model, ok.state.Z, params), /data\.day has 1 elements/);
  assert.throws(() => run(ok, kernelParams({ ...PARAMS, regCut: Number.NaN })), /regCut must be a finite number/);
  assert.throws(() => run(ok, kernelParams({ ...PARAMS, lrAlphaP: -1 })), /lrAlphaP must be a finite number ≥ 0/);
  const short: Region<"f32"> = arena.array("f32", TIME_SVDPP_HYPER_LENGTH - 1);
  assert.throws(() => run(ok, { mu: 3.5, hyper: short }), /hyper has 21 elements, at least 22/);
  assert.throws(() => run(ok, { mu: Number.POSITIVE_INFINITY, hyper: params.hyper }), /mu must be a finite number/);
  arena.reset(mark);
});

test.run();
