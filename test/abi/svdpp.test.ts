/**
 * The SVD++ grid kernels (svdppBlock and the implicit passes of implicit.ts) against a plain
 * TypeScript reference of the paper's per-rating SGD with the y_j updates deferred to the end of
 * the epoch (f64), the SIMD path against the scalar one (bit-identical), and SVD++ with no
 * implicit part against the biased-MF kernel.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CHUNK_RATINGS, Engine, KernelError, type Region } from "../../src/abi/index.js";
import type { Coo, ImplicitFeedback, ImplicitState, SvdppModel, SvdppParams } from "../../src/abi/kernels.js";
import { Rng } from "../../src/data/rng.js";
import { assertClose, assertSameBits } from "./assertions.js";

const engine = await Engine.create({ bytes: 96 << 20 });
const arena = engine.arena;

interface Problem {
  nUsers: number;
  nMovies: number;
  stride: number;
  /** Ratings in the order a block pass visits them; (user, movie) pairs are distinct. */
  user: Int32Array;
  movie: Int32Array;
  rating: Float32Array;
  /** N(u) as CSR (each user's movies, in rating order), for svdppUserVectors. */
  impPtr: Int32Array;
  impIdx: Int32Array;
  P: Float32Array;
  Q: Float32Array;
  Y: Float32Array;
  bu: Float32Array;
  bi: Float32Array;
}

/** Random distinct (user, movie) ratings (some users with none) in random order, small random factors. */
function problem(seed: number, nUsers: number, nMovies: number, maxPerUser: number, factors: number): Problem {
  const rng = new Rng(seed);
  const stride = Math.ceil(factors / 4) * 4;
  const pairs: [number, number][] = [];
  for (let u = 0; u < nUsers; u++) {
    // Distinct movies per user: N(u) is a set.
    const count = Math.min(nMovies, rng.int(maxPerUser + 1));
    for (const i of rng.permutation(nMovies).subarray(0, count)) pairs.push([u, i]);
  }
  const visit = rng.permutation(pairs.length);
  const rows = (count: number): Float32Array => {
    const m = new Float32Array(count * stride);
    for (let r = 0; r < count; r++) for (let f = 0; f < factors; f++) m[r * stride + f] = 0.3 * rng.normal();
    return m;
  };
  const user = Int32Array.from(visit, (k) => pairs[k]![0]);
  const movie = Int32Array.from(visit, (k) => pairs[k]![1]);
  const impPtr = new Int32Array(nUsers + 1);
  for (const u of user) impPtr[u + 1]!++;
  for (let u = 0; u < nUsers; u++) impPtr[u + 1]! += impPtr[u]!;
  const next = impPtr.slice(0, nUsers);
  const impIdx = new Int32Array(user.length);
  user.forEach((u, r) => (impIdx[next[u]!++] = movie[r]!));
  return {
    nUsers, nMovies, stride, user, movie, impPtr, impIdx,
    rating: Float32Array.from(pairs, () => 1 + rng.int(5)),
    P: rows(nUsers),
    Q: rows(nMovies),
    Y: rows(nMovies),
    bu: Float32Array.from({ length: nUsers }, () => 0.2 * rng.normal()),
    bi: Float32Array.from({ length: nMovies }, () => 0.2 * rng.normal()),
  };
}

interface Loaded {
  data: Coo;
  implicit: ImplicitFeedback;
  model: SvdppModel;
  state: ImplicitState;
}

function load(p: Problem): Loaded {
  const model = {
    nUsers: p.nUsers, nMovies: p.nMovies, stride: p.stride,
    P: arena.copyIn(p.P), Q: arena.copyIn(p.Q), Y: arena.copyIn(p.Y), bu: arena.copyIn(p.bu), bi: arena.copyIn(p.bi),
  };
  const count = Int32Array.from({ length: p.nUsers }, (_, u) => p.impPtr[u + 1]! - p.impPtr[u]!);
  return {
    data: { user: arena.copyIn(p.user), movie: arena.copyIn(p.movie), rating: arena.copyIn(p.rating) },
    implicit: { ptr: arena.copyIn(p.impPtr), idx: arena.copyIn(p.impIdx) },
    model,
    state: {
      nUsers: p.nUsers, nMovies: p.nMovies, stride: p.stride, count: arena.copyIn(count), keep: arena.array("f32", p.nUsers),
      Y: model.Y, Z: arena.array("f32", p.nUsers * p.stride), Z0: arena.array("f32", p.nUsers * p.stride), P: model.P,
    },
  };
}

function state(m: SvdppModel) {
  return { P: arena.copyOut(m.P), Q: arena.copyOut(m.Q), Y: arena.copyOut(m.Y), bu: arena.copyOut(m.bu), bi: arena.copyOut(m.bi) };
}

const PARAMS: SvdppParams = {
  mu: 3.5, lrBu: 0.01, lrBi: 0.02, lrP: 0.03, lrQ: 0.04, lrY: 0.05,
  regBu: 0.06, regBi: 0.07, regP: 0.08, regQ: 0.09, regY: 0.1,
};

/** keepY as the kernel computes it, in f32. */
const keepYOf = (k: SvdppParams) => Math.fround(1 - Math.fround(Math.fround(k.lrY) * Math.fround(k.regY)));

/** One grid epoch: the implicit sums, the rating updates, the deltas and the y_j scatter. */
function gridEpoch(l: Loaded, params: SvdppParams, simd: boolean): number {
  engine.implicitSums(l.data, l.state, [0, l.model.nUsers], { simd });
  const sse = engine.svdppBlock(l.data, l.model, l.state.Z, params, { simd });
  engine.implicitDelta(l.state, [0, l.model.nUsers], keepYOf(params), { simd });
  engine.implicitScatter(l.data, l.state, { simd });
  return sse;
}

/**
 * One epoch of the paper's per-rating SGD, literally, in f64, with the y_j updates deferred: each
 * rating updates b_u, b_i, p_u, q_i with z_u = |N(u)|^−½ Σ y_j over the user's own copy of its
 * y_j (starting from the epoch's Y), and every y_j, j ∈ N(u), of that copy; after the pass, each
 * rating (u, j) in order applies u's per-rating y_j updates, in their order, to the shared y_j.
 */
function referenceEpoch(p: Problem, k: SvdppParams) {
  const P = Float64Array.from(p.P), Q = Float64Array.from(p.Q), Y = Float64Array.from(p.Y);
  const bu = Float64Array.from(p.bu), bi = Float64Array.from(p.bi);
  const s = p.stride;
  const own = new Map<number, Map<number, Float64Array>>();
  const steps = new Map<number, { e: number; q: Float64Array }[]>();
  let sse = 0;
  for (let r = 0; r < p.user.length; r++) {
    const u = p.user[r]!, i = p.movie[r]!;
    const implicit = p.impIdx.subarray(p.impPtr[u]!, p.impPtr[u + 1]!);
    const scale = 1 / Math.sqrt(implicit.length);
    if (!own.has(u)) own.set(u, new Map(Array.from(implicit, (j) => [j, Y.slice(j * s, (j + 1) * s)])));
    const ys = own.get(u)!;
    const z = new Float64Array(s);
    for (const y of ys.values()) for (let f = 0; f < s; f++) z[f] += scale * y[f]!;
    let dot = 0;
    for (let f = 0; f < s; f++) dot += Q[i * s + f]! * (P[u * s + f]! + z[f]!);
    const e = p.rating[r]! - (k.mu + bu[u]! + bi[i]! + dot);
    sse += e * e;
    bu[u] = bu[u]! + k.lrBu * (e - k.regBu * bu[u]!);
    bi[i] = bi[i]! + k.lrBi * (e - k.regBi * bi[i]!);
    const qOld = Q.slice(i * s, (i + 1) * s);
    for (let f = 0; f < s; f++) {
      const pf = P[u * s + f]!, qf = qOld[f]!;
      P[u * s + f] = pf + k.lrP * (e * qf - k.regP * pf);
      Q[i * s + f] = qf + k.lrQ * (e * (pf + z[f]!) - k.regQ * qf);
    }
    for (const y of ys.values()) for (let f = 0; f < s; f++) y[f] = y[f]! + k.lrY * (e * scale * qOld[f]! - k.regY * y[f]!);
    if (!steps.has(u)) steps.set(u, []);
    steps.get(u)!.push({ e, q: qOld });
  }
  for (let r = 0; r < p.user.length; r++) {
    const u = p.user[r]!, j = p.movie[r]!;
    const scale = 1 / Math.sqrt(p.impPtr[u + 1]! - p.impPtr[u]!);
    for (const { e, q } of steps.get(u)!) {
      for (let f = 0; f < s; f++) Y[j * s + f] = Y[j * s + f]! + k.lrY * (e * scale * q[f]! - k.regY * Y[j * s + f]!);
    }
  }
  return { P, Q, Y, bu, bi, sse };
}

test("a grid epoch gives the paper's per-rating SGD with the y_j updates deferred (f64 reference), on both paths", () => {
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
      for (const key of ["P", "Q", "Y", "bu", "bi"] as const) assertClose(got[key], ref[key], `${what} ${key}`);
      for (let r = 0; r < p.nMovies; r++) {
        for (let f = factors; f < p.stride; f++) assert.is(got.Y[r * p.stride + f], 0, "padding stays zero");
      }
    }
    arena.reset(mark);
  }
});

test("the grid kernels: the SIMD and scalar paths give bit-identical models over several epochs", () => {
  const mark = arena.mark();
  const p = problem(5, 40, 30, 25, 36);
  const a = load(p), b = load(p);
  let sseA = 0, sseB = 0;
  for (let epoch = 0; epoch < 3; epoch++) {
    sseA = gridEpoch(a, PARAMS, true);
    sseB = gridEpoch(b, PARAMS, false);
  }
  assert.is(sseA, sseB);
  const sa = state(a.model), sb = state(b.model);
  for (const key of ["P", "Q", "Y", "bu", "bi"] as const) assertSameBits(sa[key], sb[key], key);
  assertSameBits(arena.view(a.state.Z), arena.view(b.state.Z), "Z");
  arena.reset(mark);
});

test("with Y = 0 and lrY = 0, svdppBlock is the biased-MF epoch over the same ratings, bit for bit", () => {
  const mark = arena.mark();
  const p = problem(6, 20, 15, 12, 12);
  p.Y.fill(0);
  const params = { ...PARAMS, lrY: 0 };
  const l = load(p);
  const sse = gridEpoch(l, params, true);
  const mf = { nUsers: p.nUsers, nMovies: p.nMovies, stride: p.stride, P: arena.copyIn(p.P), Q: arena.copyIn(p.Q), bu: arena.copyIn(p.bu), bi: arena.copyIn(p.bi) };
  const sseMf = engine.sgdEpoch(l.data, mf, params);
  assert.is(sse, sseMf);
  const got = state(l.model);
  assertSameBits(got.P, arena.view(mf.P), "P");
  assertSameBits(got.Q, arena.view(mf.Q), "Q");
  assertSameBits(got.bu, arena.view(mf.bu), "bu");
  assertSameBits(got.bi, arena.view(mf.bi), "bi");
  assert.ok(got.Y.every((y) => y === 0), "Y stays zero");
  arena.reset(mark);
});

test("svdppUserVectors is p_u + |N(u)|^-1/2 Σ y_j on both paths, bit-identical to each other", () => {
  const mark = arena.mark();
  const p = problem(7, 12, 10, 5, 8);
  const l = load(p);
  const outs = [true, false].map((simd) => {
    const out = arena.array("f32", p.nUsers * p.stride);
    engine.svdppUserVectors(l.implicit, l.model, out, { simd });
    return arena.copyOut(out);
  });
  assertSameBits(outs[0]!, outs[1]!, "SIMD vs scalar");
  for (let u = 0; u < p.nUsers; u++) {
    const implicit = p.impIdx.subarray(p.impPtr[u]!, p.impPtr[u + 1]!);
    const scale = implicit.length ? 1 / Math.sqrt(implicit.length) : 0;
    const expected = Array.from({ length: p.stride }, (_, f) => {
      let sum = 0;
      for (const j of implicit) sum += p.Y[j * p.stride + f]!;
      return p.P[u * p.stride + f]! + scale * sum;
    });
    assertClose(outs[0]!.subarray(u * p.stride, (u + 1) * p.stride), expected, `user ${u}`);
  }
  arena.reset(mark);
});

test("implicitSums' user vectors p_u + z_u equal svdppUserVectors bit for bit, and Z0 is a copy of Z", () => {
  const mark = arena.mark();
  // Ratings grouped by user, so N(u) is summed in the same order by both.
  const p = problem(10, 15, 12, 6, 12);
  const order = Array.from(p.user.keys()).sort((a, b) => p.user[a]! - p.user[b]!);
  const sorted = { ...p, user: Int32Array.from(order, (r) => p.user[r]!), movie: Int32Array.from(order, (r) => p.movie[r]!), rating: Float32Array.from(order, (r) => p.rating[r]!) };
  for (const simd of [true, false]) {
    const l = load(sorted);
    const out = arena.array("f32", p.nUsers * p.stride);
    engine.implicitSums(l.data, l.state, [0, p.nUsers], { out, simd });
    const expected = arena.array("f32", p.nUsers * p.stride);
    engine.svdppUserVectors(l.implicit, l.model, expected, { simd });
    assertSameBits(arena.view(out), arena.view(expected), `${simd ? "SIMD" : "scalar"} user vectors`);
    assertSameBits(arena.view(l.state.Z0), arena.view(l.state.Z), "Z0");
  }
  arena.reset(mark);
});

test("the grid passes by user ranges and rating ranges, and svdppBlock in chunks past CHUNK_RATINGS, equal one pass", () => {
  const mark = arena.mark();
  const nUsers = 24;
  const nMovies = Math.ceil((CHUNK_RATINGS * 1.2) / nUsers);
  const rng = new Rng(8);
  // Every user rates every movie; ratings grouped by user, so a user range is a rating range.
  const n = nUsers * nMovies;
  const p: Problem = {
    ...problem(8, nUsers, 4, 1, 4),
    nMovies,
    user: Int32Array.from({ length: n }, (_, r) => Math.floor(r / nMovies)),
    movie: Int32Array.from({ length: n }, (_, r) => r % nMovies),
    rating: Float32Array.from({ length: n }, () => 1 + rng.int(5)),
    impPtr: Int32Array.from({ length: nUsers + 1 }, (_, u) => u * nMovies),
    impIdx: Int32Array.from({ length: n }, (_, r) => r % nMovies),
    Q: new Float32Array(nMovies * 4).map(() => 0.1 * rng.normal()),
    Y: new Float32Array(nMovies * 4).map(() => 0.1 * rng.normal()),
    bi: new Float32Array(nMovies),
  };
  const small = { ...PARAMS, lrP: 0.001, lrQ: 0.001, lrY: 0.001, lrBu: 0.001, lrBi: 0.001 };
  const whole = load(p), parts = load(p);
  const sse = gridEpoch(whole, small, true);
  let sseParts = 0;
  for (let u = 0; u < nUsers; u += 5) {
    const u1 = Math.min(nUsers, u + 5);
    engine.implicitSums(parts.data, parts.state, [u, u1], { start: u * nMovies, end: u1 * nMovies });
  }
  for (let at = 0; at < n; at += 1000) sseParts += engine.svdppBlock(parts.data, parts.model, parts.state.Z, small, { start: at, end: Math.min(n, at + 1000) });
  for (let u = 0; u < nUsers; u += 7) engine.implicitDelta(parts.state, [u, Math.min(nUsers, u + 7)], keepYOf(small));
  for (let at = 0; at < n; at += 999) engine.implicitScatter(parts.data, parts.state, { start: at, end: Math.min(n, at + 999) });
  assert.ok(Math.abs(sse - sseParts) <= 1e-9 * sse, `${sse} vs ${sseParts}`);
  const a = state(whole.model), b = state(parts.model);
  for (const key of ["P", "Q", "Y", "bu", "bi"] as const) assertSameBits(a[key], b[key], key);
  arena.reset(mark);
});

test("the grid kernels report bad indices and bad arguments", () => {
  const mark = arena.mark();
  const p = problem(9, 5, 6, 4, 4);
  const isIndexError = (e: unknown) => e instanceof KernelError && e.codeName === "STATUS_INDEX_OUT_OF_RANGE";
  const badMovie = load({ ...p, movie: p.movie.map((i, r) => (r === 2 ? 99 : i)) });
  assert.throws(() => engine.svdppBlock(badMovie.data, badMovie.model, badMovie.state.Z, PARAMS), isIndexError);
  assert.throws(() => engine.implicitSums(badMovie.data, badMovie.state, [0, p.nUsers]), isIndexError);
  assert.throws(() => engine.implicitScatter(badMovie.data, badMovie.state), isIndexError);
  const badUser = load({ ...p, user: p.user.map((u, r) => (r === 1 ? -3 : u)) });
  assert.throws(() => engine.svdppBlock(badUser.data, badUser.model, badUser.state.Z, PARAMS), isIndexError);
  assert.throws(() => engine.implicitScatter(badUser.data, badUser.state), isIndexError);
  const ok = load(p);
  // A rating of a user outside the range being summed.
  assert.throws(() => engine.implicitSums(ok.data, ok.state, [0, 1]), isIndexError);
  assert.throws(() => engine.implicitSums(ok.data, ok.state, [0, 9]), /users must satisfy 0 ≤ start ≤ end ≤ 5 \(the user count\)/);
  assert.throws(() => engine.svdppBlock(ok.data, ok.model, ok.state.Z, { ...PARAMS, lrY: -1 }), /lrY must be a finite number ≥ 0/);
  assert.throws(() => engine.svdppBlock(ok.data, ok.model, ok.model.bu, PARAMS), /Z has 5 elements/);
  assert.throws(() => engine.implicitDelta({ ...ok.state, count: arena.array("i32", 2) }, [0, 5], 0.9), /count has 2 elements/);
  assert.throws(() => engine.implicitDelta(ok.state, [0, 5], NaN), /keepY must be a finite number/);
  arena.reset(mark);
});

test.run();
