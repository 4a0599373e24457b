/**
 * The SVD++ kernels against a plain TypeScript reference of the paper's per-rating SGD (f64),
 * the SIMD path against the scalar one (bit-identical), and SVD++ with no implicit part against
 * the biased-MF kernel.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CHUNK_RATINGS, Engine, KernelError, type Region } from "../../src/abi/index.js";
import type { ImplicitFeedback, SvdppModel, SvdppParams, UserRatings } from "../../src/abi/kernels.js";
import { Rng } from "../../src/data/rng.js";
import { assertClose, assertSameBits } from "./assertions.js";

const engine = await Engine.create({ bytes: 96 << 20 });
const arena = engine.arena;

interface Problem {
  nUsers: number;
  nMovies: number;
  stride: number;
  order: Int32Array;
  ptr: Int32Array;
  movie: Int32Array;
  rating: Float32Array;
  impPtr: Int32Array;
  impIdx: Int32Array;
  P: Float32Array;
  Q: Float32Array;
  Y: Float32Array;
  bu: Float32Array;
  bi: Float32Array;
}

/**
 * Random CSR ratings (some users with none), an implicit set per user that differs from the rated
 * movies (some empty), a shuffled user order, small random factors.
 */
function problem(seed: number, nUsers: number, nMovies: number, maxPerUser: number, factors: number): Problem {
  const rng = new Rng(seed);
  const stride = Math.ceil(factors / 4) * 4;
  const csr = (max: number) => {
    const ptr = new Int32Array(nUsers + 1);
    const idx: number[] = [];
    for (let u = 0; u < nUsers; u++) {
      // Distinct movies per user: N(u) is a set (with a movie listed twice, per-rating updates
      // would move that y_j twice per rating).
      const count = Math.min(nMovies, rng.int(max + 1));
      idx.push(...rng.permutation(nMovies).subarray(0, count));
      ptr[u + 1] = idx.length;
    }
    return { ptr, idx: Int32Array.from(idx) };
  };
  const rows = (count: number): Float32Array => {
    const m = new Float32Array(count * stride);
    for (let r = 0; r < count; r++) for (let f = 0; f < factors; f++) m[r * stride + f] = 0.3 * rng.normal();
    return m;
  };
  const ratings = csr(maxPerUser);
  const implicit = csr(maxPerUser + 2);
  return {
    nUsers, nMovies, stride,
    order: Int32Array.from(rng.permutation(nUsers)),
    ptr: ratings.ptr,
    movie: ratings.idx,
    rating: Float32Array.from(ratings.idx, () => 1 + rng.int(5)),
    impPtr: implicit.ptr,
    impIdx: implicit.idx,
    P: rows(nUsers),
    Q: rows(nMovies),
    Y: rows(nMovies),
    bu: Float32Array.from({ length: nUsers }, () => 0.2 * rng.normal()),
    bi: Float32Array.from({ length: nMovies }, () => 0.2 * rng.normal()),
  };
}

interface Loaded {
  data: UserRatings;
  implicit: ImplicitFeedback;
  model: SvdppModel;
  order: Region<"i32">;
}

function load(p: Problem): Loaded {
  return {
    data: { ptr: arena.copyIn(p.ptr), movie: arena.copyIn(p.movie), rating: arena.copyIn(p.rating) },
    implicit: { ptr: arena.copyIn(p.impPtr), idx: arena.copyIn(p.impIdx) },
    model: {
      nUsers: p.nUsers, nMovies: p.nMovies, stride: p.stride,
      P: arena.copyIn(p.P), Q: arena.copyIn(p.Q), Y: arena.copyIn(p.Y), bu: arena.copyIn(p.bu), bi: arena.copyIn(p.bi),
    },
    order: arena.copyIn(p.order),
  };
}

function state(m: SvdppModel) {
  return { P: arena.copyOut(m.P), Q: arena.copyOut(m.Q), Y: arena.copyOut(m.Y), bu: arena.copyOut(m.bu), bi: arena.copyOut(m.bi) };
}

const PARAMS: SvdppParams = {
  mu: 3.5, lrBu: 0.01, lrBi: 0.02, lrP: 0.03, lrQ: 0.04, lrY: 0.05,
  regBu: 0.06, regBi: 0.07, regP: 0.08, regQ: 0.09, regY: 0.1,
};

/**
 * One epoch of the paper's SGD as Surprise's SVDpp runs it, literally, in f64: users in order,
 * and after every rating every y_j of N(u) updated. The kernel writes the y_j once per user and
 * must give the same result.
 */
function referenceEpoch(p: Problem, k: SvdppParams) {
  const P = Float64Array.from(p.P), Q = Float64Array.from(p.Q), Y = Float64Array.from(p.Y);
  const bu = Float64Array.from(p.bu), bi = Float64Array.from(p.bi);
  const s = p.stride;
  let sse = 0;
  for (const u of p.order) {
    const implicit = p.impIdx.subarray(p.impPtr[u]!, p.impPtr[u + 1]!);
    const scale = implicit.length > 0 ? 1 / Math.sqrt(implicit.length) : 0;
    for (let r = p.ptr[u]!; r < p.ptr[u + 1]!; r++) {
      const i = p.movie[r]!;
      const z = new Float64Array(s);
      for (const j of implicit) for (let f = 0; f < s; f++) z[f] += scale * Y[j * s + f]!;
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
      for (const j of implicit) {
        for (let f = 0; f < s; f++) Y[j * s + f] = Y[j * s + f]! + k.lrY * (e * scale * qOld[f]! - k.regY * Y[j * s + f]!);
      }
    }
  }
  return { P, Q, Y, bu, bi, sse };
}

test("svdppEpoch gives the per-rating SGD of the paper (f64 reference) on both paths", () => {
  for (const [factors, seed] of [[8, 2], [10, 3], [3, 4]] as const) {
    const mark = arena.mark();
    const p = problem(seed, 6, 9, 7, factors);
    const ref = referenceEpoch(p, PARAMS);
    for (const simd of [true, false]) {
      const l = load(p);
      const sse = engine.svdppEpoch(l.data, l.implicit, l.model, PARAMS, l.order, { simd });
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

test("svdppEpoch: the SIMD and scalar paths give bit-identical models over several epochs", () => {
  const mark = arena.mark();
  const p = problem(5, 40, 30, 25, 36);
  const a = load(p), b = load(p);
  let sseA = 0, sseB = 0;
  for (let epoch = 0; epoch < 3; epoch++) {
    sseA = engine.svdppEpoch(a.data, a.implicit, a.model, PARAMS, a.order, { simd: true });
    sseB = engine.svdppEpoch(b.data, b.implicit, b.model, PARAMS, b.order, { simd: false });
  }
  assert.is(sseA, sseB);
  const sa = state(a.model), sb = state(b.model);
  for (const key of ["P", "Q", "Y", "bu", "bi"] as const) assertSameBits(sa[key], sb[key], key);
  arena.reset(mark);
});

test("with Y = 0 and lrY = 0, an SVD++ epoch is the biased-MF epoch over the same order, bit for bit", () => {
  const mark = arena.mark();
  const p = problem(6, 20, 15, 12, 12);
  p.Y.fill(0);
  const params = { ...PARAMS, lrY: 0 };
  const l = load(p);
  const sse = engine.svdppEpoch(l.data, l.implicit, l.model, params, l.order);
  // The same ratings as COO in the visiting order, through sgdEpoch.
  const user: number[] = [], movie: number[] = [], rating: number[] = [];
  for (const u of p.order) {
    for (let r = p.ptr[u]!; r < p.ptr[u + 1]!; r++) {
      user.push(u);
      movie.push(p.movie[r]!);
      rating.push(p.rating[r]!);
    }
  }
  const coo = { user: arena.copyIn(Int32Array.from(user)), movie: arena.copyIn(Int32Array.from(movie)), rating: arena.copyIn(Float32Array.from(rating)) };
  const mf = { nUsers: p.nUsers, nMovies: p.nMovies, stride: p.stride, P: arena.copyIn(p.P), Q: arena.copyIn(p.Q), bu: arena.copyIn(p.bu), bi: arena.copyIn(p.bi) };
  const sseMf = engine.sgdEpoch(coo, mf, params);
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

test("svdppEpoch over user ranges, and in chunks past CHUNK_RATINGS, equals one pass", () => {
  const mark = arena.mark();
  const nUsers = 24;
  const perUser = Math.ceil((CHUNK_RATINGS * 1.2) / nUsers);
  const rng = new Rng(8);
  const ptr = Int32Array.from({ length: nUsers + 1 }, (_, u) => u * perUser);
  const n = nUsers * perUser;
  const p: Problem = {
    ...problem(8, nUsers, 50, 1, 4),
    ptr,
    movie: Int32Array.from({ length: n }, () => rng.int(50)),
    rating: Float32Array.from({ length: n }, () => 1 + rng.int(5)),
  };
  p.impPtr = ptr;
  p.impIdx = p.movie;
  const small = { ...PARAMS, lrP: 0.001, lrQ: 0.001, lrY: 0.001, lrBu: 0.001, lrBi: 0.001 };
  const whole = load(p), parts = load(p);
  const sse = engine.svdppEpoch(whole.data, whole.implicit, whole.model, small, whole.order);
  let sseParts = 0;
  for (let k = 0; k < nUsers; k += 5) {
    sseParts += engine.svdppEpoch(parts.data, parts.implicit, parts.model, small, parts.order, { start: k, end: Math.min(nUsers, k + 5) });
  }
  assert.ok(Math.abs(sse - sseParts) <= 1e-9 * sse, `${sse} vs ${sseParts}`);
  const a = state(whole.model), b = state(parts.model);
  for (const key of ["P", "Q", "Y", "bu", "bi"] as const) assertSameBits(a[key], b[key], key);
  arena.reset(mark);
});

test("svdppEpoch reports bad indices and bad arguments", () => {
  const mark = arena.mark();
  const p = problem(9, 5, 6, 4, 4);
  const badMovie = { ...p, movie: p.movie.map((i, r) => (r === 2 ? 99 : i)) };
  const l = load(badMovie);
  assert.throws(() => engine.svdppEpoch(l.data, l.implicit, l.model, PARAMS, l.order), (e: unknown) =>
    e instanceof KernelError && e.codeName === "STATUS_INDEX_OUT_OF_RANGE");
  const badUser = load({ ...p, order: Int32Array.of(0, 7) });
  assert.throws(() => engine.svdppEpoch(badUser.data, badUser.implicit, badUser.model, PARAMS, badUser.order), (e: unknown) =>
    e instanceof KernelError && e.codeName === "STATUS_INDEX_OUT_OF_RANGE");
  const badImplicit = load({ ...p, impIdx: p.impIdx.map(() => -1) });
  assert.throws(() => engine.svdppEpoch(badImplicit.data, badImplicit.implicit, badImplicit.model, PARAMS, badImplicit.order),
    (e: unknown) => e instanceof KernelError && e.codeName === "STATUS_INDEX_OUT_OF_RANGE");
  const ok = load(p);
  assert.throws(() => engine.svdppEpoch(ok.data, ok.implicit, ok.model, { ...PARAMS, lrY: -1 }, ok.order), /lrY must be a finite number ≥ 0/);
  assert.throws(() => engine.svdppEpoch(ok.data, ok.implicit, { ...ok.model, Y: ok.model.bu }, PARAMS, ok.order), /Y has 5 elements/);
  assert.throws(() => engine.svdppEpoch({ ...ok.data, ptr: arena.array("i32", 2) }, ok.implicit, ok.model, PARAMS, ok.order), /data\.ptr has 2 elements/);
  arena.reset(mark);
});

test.run();
