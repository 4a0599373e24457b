/**
 * The timeSVD++ kernels against a plain TypeScript reference of per-rating SGD (f64), the
 * SIMD path against the scalar one (bit-identical), timeSVD++ with its time terms frozen against
 * SVD++, and predictions against the training estimate.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine, KernelError, type Region } from "../../src/abi/index.js";
import {
  TIME_SVDPP_TERMS, type ImplicitFeedback, type TimeSvdppModel, type TimeSvdppParams, type UserRatings,
} from "../../src/abi/kernels.js";
import { Rng } from "../../src/data/rng.js";
import { assertClose, assertSameBits } from "./assertions.js";

const engine = await Engine.create({ bytes: 32 << 20 });
const arena = engine.arena;

const ARRAYS = ["P", "AP", "Q", "Y", "bu", "alpha", "cu", "bi", "biBin", "but", "cut"] as const;
type ArrayName = (typeof ARRAYS)[number];

interface Problem {
  nUsers: number;
  nMovies: number;
  nDays: number;
  nBins: number;
  stride: number;
  order: Int32Array;
  ptr: Int32Array;
  movie: Int32Array;
  rating: Float32Array;
  day: Int32Array;
  dayBin: Int32Array;
  dayDev: Float32Array;
  arrays: Record<ArrayName, Float32Array>;
}

/**
 * Random CSR ratings (distinct movies per user, so N(u) is a set); each user has 1–3 days of its own (user-day indices are global), each day
 * a bin and a dev value; N(u) = the rated movies; every parameter random and small (c_u near 1).
 */
function problem(seed: number, nUsers: number, nMovies: number, maxPerUser: number, factors: number, nBins = 4): Problem {
  const rng = new Rng(seed);
  const stride = Math.ceil(factors / 4) * 4;
  const ptr = new Int32Array(nUsers + 1);
  const movie: number[] = [], day: number[] = [];
  let nDays = 0;
  for (let u = 0; u < nUsers; u++) {
    const days = 1 + rng.int(3);
    const count = Math.min(nMovies, rng.int(maxPerUser + 1));
    for (const i of rng.permutation(nMovies).subarray(0, count)) {
      movie.push(i);
      day.push(nDays + rng.int(days));
    }
    nDays += days;
    ptr[u + 1] = movie.length;
  }
  const rows = (count: number): Float32Array => {
    const m = new Float32Array(count * stride);
    for (let r = 0; r < count; r++) for (let f = 0; f < factors; f++) m[r * stride + f] = 0.3 * rng.normal();
    return m;
  };
  const small = (n: number, around = 0) => Float32Array.from({ length: n }, () => around + 0.2 * rng.normal());
  return {
    nUsers, nMovies, nDays, nBins, stride,
    order: Int32Array.from(rng.permutation(nUsers)),
    ptr,
    movie: Int32Array.from(movie),
    rating: Float32Array.from(movie, () => 1 + rng.int(5)),
    day: Int32Array.from(day),
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
  data: UserRatings & { day: Region<"i32"> };
  implicit: ImplicitFeedback;
  model: TimeSvdppModel;
  order: Region<"i32">;
}

function load(p: Problem): Loaded {
  const a = p.arrays;
  const movie = arena.copyIn(p.movie);
  const ptr = arena.copyIn(p.ptr);
  return {
    data: { ptr, movie, rating: arena.copyIn(p.rating), day: arena.copyIn(p.day) },
    implicit: { ptr, idx: movie },
    model: {
      nUsers: p.nUsers, nMovies: p.nMovies, nDays: p.nDays, nBins: p.nBins, stride: p.stride,
      P: arena.copyIn(a.P), AP: arena.copyIn(a.AP), Q: arena.copyIn(a.Q), Y: arena.copyIn(a.Y),
      bu: arena.copyIn(a.bu), alpha: arena.copyIn(a.alpha), cu: arena.copyIn(a.cu), bi: arena.copyIn(a.bi),
      biBin: arena.copyIn(a.biBin), but: arena.copyIn(a.but), cut: arena.copyIn(a.cut),
      dayBin: arena.copyIn(p.dayBin), dayDev: arena.copyIn(p.dayDev),
    },
    order: arena.copyIn(p.order),
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

/** One epoch of per-rating SGD on timeSVD++, literally (every y_j of N(u) after every rating), in f64. */
function referenceEpoch(p: Problem, k: TimeSvdppParams) {
  const m = Object.fromEntries(ARRAYS.map((name) => [name, Float64Array.from(p.arrays[name])])) as Record<ArrayName, Float64Array>;
  const { P, AP, Q, Y, bu, alpha, cu, bi, biBin, but, cut } = m;
  const s = p.stride;
  let sse = 0;
  for (const u of p.order) {
    const implicit = p.movie.subarray(p.ptr[u]!, p.ptr[u + 1]!);
    const scale = 1 / Math.sqrt(implicit.length);
    for (let r = p.ptr[u]!; r < p.ptr[u + 1]!; r++) {
      const i = p.movie[r]!, d = p.day[r]!, b = p.dayBin[d]!, dev = p.dayDev[d]!;
      const ib = i * p.nBins + b;
      const t = new Float64Array(s);
      for (const j of implicit) for (let f = 0; f < s; f++) t[f] += scale * Y[j * s + f]!;
      for (let f = 0; f < s; f++) t[f] += P[u * s + f]! + dev * AP[u * s + f]!;
      let dot = 0;
      for (let f = 0; f < s; f++) dot += Q[i * s + f]! * t[f]!;
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
      for (const j of implicit) {
        for (let f = 0; f < s; f++) Y[j * s + f] = Y[j * s + f]! + k.lrY * (e * scale * qOld[f]! - k.regY * Y[j * s + f]!);
      }
    }
  }
  return { m, sse };
}

test("timeSvdppEpoch gives per-rating SGD (f64 reference) on both paths", () => {
  for (const [factors, seed] of [[8, 2], [10, 3], [3, 4]] as const) {
    const mark = arena.mark();
    const p = problem(seed, 6, 7, 7, factors);
    const ref = referenceEpoch(p, PARAMS);
    for (const simd of [true, false]) {
      const l = load(p);
      const sse = engine.timeSvdppEpoch(l.data, l.implicit, l.model, PARAMS, l.order, { simd });
      const got = state(l.model);
      const what = `factors ${factors}, ${simd ? "SIMD" : "scalar"}`;
      assertClose([sse], [ref.sse], `${what} sse`);
      for (const name of ARRAYS) assertClose(got[name], ref.m[name], `${what} ${name}`);
    }
    arena.reset(mark);
  }
});

test("timeSvdppEpoch: the SIMD and scalar paths give bit-identical models over several epochs", () => {
  const mark = arena.mark();
  const p = problem(5, 40, 30, 25, 36, 6);
  // Moderate drift terms, so three epochs at these rates stay finite.
  p.dayDev.forEach((x, d) => (p.dayDev[d] = 0.2 * x));
  p.arrays.AP.forEach((x, k) => (p.arrays.AP[k] = 0.1 * x));
  const small = Object.fromEntries(Object.entries(PARAMS).map(([k, v]) => [k, k === "mu" ? v : v / 5])) as TimeSvdppParams;
  const a = load(p), b = load(p);
  let sseA = 0, sseB = 0;
  for (let epoch = 0; epoch < 3; epoch++) {
    sseA = engine.timeSvdppEpoch(a.data, a.implicit, a.model, small, a.order, { simd: true });
    sseB = engine.timeSvdppEpoch(b.data, b.implicit, b.model, small, b.order, { simd: false });
  }
  assert.ok(Number.isFinite(sseA));
  assert.is(sseA, sseB);
  const sa = state(a.model), sb = state(b.model);
  for (const name of ARRAYS) assertSameBits(sa[name], sb[name], name);
  arena.reset(mark);
});

test("with its time terms zero and frozen (c_u = 1), a timeSVD++ epoch is an SVD++ epoch, bit for bit", () => {
  const mark = arena.mark();
  const p = problem(6, 20, 15, 12, 12);
  for (const name of ["AP", "alpha", "biBin", "but", "cut"] as const) p.arrays[name].fill(0);
  p.arrays.cu.fill(1);
  const frozen = { ...PARAMS, lrAlpha: 0, lrBut: 0, lrBiBin: 0, lrCu: 0, lrCut: 0, lrAlphaP: 0 };
  const l = load(p);
  const sse = engine.timeSvdppEpoch(l.data, l.implicit, l.model, frozen, l.order);
  const a = p.arrays;
  const svd = {
    nUsers: p.nUsers, nMovies: p.nMovies, stride: p.stride,
    P: arena.copyIn(a.P), Q: arena.copyIn(a.Q), Y: arena.copyIn(a.Y), bu: arena.copyIn(a.bu), bi: arena.copyIn(a.bi),
  };
  const sseSvd = engine.svdppEpoch(l.data, l.implicit, svd, frozen, l.order);
  assert.is(sse, sseSvd);
  const got = state(l.model);
  for (const name of ["P", "Q", "Y", "bu", "bi"] as const) assertSameBits(got[name], arena.view(svd[name]), name);
  arena.reset(mark);
});

test("timeSvdppPredict: the training estimate for known pairs, the parts that exist for unknown ones", () => {
  const mark = arena.mark();
  const p = problem(7, 10, 8, 6, 8);
  const l = load(p);
  const U = arena.array("f32", p.nUsers * p.stride);
  engine.svdppUserVectors(l.implicit, l.model, U);
  const predictor = { ...l.model, U };
  const wide = { mu: 3.5, lo: -1e9, hi: 1e9 };
  // Known pairs: every training rating, in visiting order; with every learning rate 0 the epoch
  // changes nothing and its sse is Σ (r − est)² over the same estimates.
  const pairs = { user: [] as number[], movie: [] as number[], day: [] as number[], bin: [] as number[], dev: [] as number[], r: [] as number[] };
  for (const u of p.order) {
    for (let r = p.ptr[u]!; r < p.ptr[u + 1]!; r++) {
      const d = p.day[r]!;
      pairs.user.push(u); pairs.movie.push(p.movie[r]!); pairs.day.push(d);
      pairs.bin.push(p.dayBin[d]!); pairs.dev.push(p.dayDev[d]!); pairs.r.push(p.rating[r]!);
    }
  }
  const est = engine.timeSvdppPredict({
    user: Int32Array.from(pairs.user), movie: Int32Array.from(pairs.movie), day: Int32Array.from(pairs.day),
    bin: Int32Array.from(pairs.bin), dev: Float32Array.from(pairs.dev),
  }, predictor, wide);
  const still = Object.fromEntries(Object.entries(PARAMS).map(([k, v]) => [k, k === "mu" ? v : 0])) as TimeSvdppParams;
  const sse = engine.timeSvdppEpoch(l.data, l.implicit, l.model, still, l.order);
  let expected = 0;
  est.forEach((x, k) => {
    const e = Math.fround(pairs.r[k]! - x);
    expected += e * e;
  });
  assert.is(sse, expected);

  // Unknown parts, against the header's formula in f64.
  const a = p.arrays;
  const u = 3, i = 5, d = p.ptr[u + 1]! > p.ptr[u]! ? p.day[p.ptr[u]!]! : 0, b = 2, dev = 1.5;
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

test("timeSvdppEpoch reports a day or bin out of range", () => {
  const mark = arena.mark();
  const p = problem(9, 5, 6, 4, 4);
  const r = p.ptr.findIndex((x, u) => u < p.nUsers && p.ptr[u + 1]! > x);
  const badDay = load({ ...p, day: p.day.map((d, k) => (k === p.ptr[r]! ? p.nDays : d)) });
  assert.throws(() => engine.timeSvdppEpoch(badDay.data, badDay.implicit, badDay.model, PARAMS, badDay.order),
    (e: unknown) => e instanceof KernelError && e.codeName === "STATUS_INDEX_OUT_OF_RANGE");
  const badBin = load({ ...p, dayBin: p.dayBin.map(() => p.nBins) });
  assert.throws(() => engine.timeSvdppEpoch(badBin.data, badBin.implicit, badBin.model, PARAMS, badBin.order),
    (e: unknown) => e instanceof KernelError && e.codeName === "STATUS_INDEX_OUT_OF_RANGE");
  const ok = load(p);
  assert.throws(() => engine.timeSvdppEpoch(ok.data, ok.implicit, { ...ok.model, biBin: ok.model.bi }, PARAMS, ok.order), /biBin has 6 elements/);
  assert.throws(() => engine.timeSvdppEpoch(ok.data, ok.implicit, ok.model, { ...PARAMS, regCut: Number.NaN }, ok.order), /regCut must be a finite number/);
  arena.reset(mark);
});

test.run();
