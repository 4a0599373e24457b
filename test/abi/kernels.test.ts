import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  AbiError,
  CHUNK_RATINGS,
  Engine,
  KernelError,
  type Coo,
  type FactorModel,
  type SgdParams,
} from "../../src/abi/index.js";
import { Rng } from "../../src/data/rng.js";
import { assertClose, assertSameBits } from "./assertions.js";

const engine = await Engine.create({ bytes: 64 << 20 });
const arena = engine.arena;

interface Problem {
  nUsers: number;
  nMovies: number;
  factors: number;
  stride: number;
  user: Int32Array;
  movie: Int32Array;
  rating: Float32Array;
  P: Float32Array;
  Q: Float32Array;
  bu: Float32Array;
  bi: Float32Array;
}

/** Random ratings 1..5 and small random factors (columns ≥ factors are zero padding). */
function problem(seed: number, nUsers: number, nMovies: number, n: number, factors: number): Problem {
  const rng = new Rng(seed);
  const stride = Math.ceil(factors / 4) * 4;
  const rows = (count: number): Float32Array => {
    const m = new Float32Array(count * stride);
    for (let r = 0; r < count; r++) for (let f = 0; f < factors; f++) m[r * stride + f] = 0.3 * rng.normal();
    return m;
  };
  return {
    nUsers, nMovies, factors, stride,
    user: Int32Array.from({ length: n }, () => rng.int(nUsers)),
    movie: Int32Array.from({ length: n }, () => rng.int(nMovies)),
    rating: Float32Array.from({ length: n }, () => 1 + rng.int(5)),
    P: rows(nUsers),
    Q: rows(nMovies),
    bu: Float32Array.from({ length: nUsers }, () => 0.2 * rng.normal()),
    bi: Float32Array.from({ length: nMovies }, () => 0.2 * rng.normal()),
  };
}

function load(p: Problem): { coo: Coo; model: FactorModel } {
  return {
    coo: { user: arena.copyIn(p.user), movie: arena.copyIn(p.movie), rating: arena.copyIn(p.rating) },
    model: {
      nUsers: p.nUsers, nMovies: p.nMovies, stride: p.stride,
      P: arena.copyIn(p.P), Q: arena.copyIn(p.Q), bu: arena.copyIn(p.bu), bi: arena.copyIn(p.bi),
    },
  };
}

function copyModel(model: FactorModel) {
  return { P: arena.copyOut(model.P), Q: arena.copyOut(model.Q), bu: arena.copyOut(model.bu), bi: arena.copyOut(model.bi) };
}

const PARAMS: SgdParams = {
  mu: 3.5, lrBu: 0.01, lrBi: 0.02, lrP: 0.03, lrQ: 0.04, regBu: 0.05, regBi: 0.06, regP: 0.07, regQ: 0.08,
};

/** Surprise's SVD epoch, literally, in f64. */
function referenceEpoch(p: Problem, k: SgdParams) {
  const P = Float64Array.from(p.P), Q = Float64Array.from(p.Q), bu = Float64Array.from(p.bu), bi = Float64Array.from(p.bi);
  const s = p.stride;
  let sse = 0;
  for (let j = 0; j < p.user.length; j++) {
    const u = p.user[j]!, i = p.movie[j]!;
    let dot = 0;
    for (let f = 0; f < s; f++) dot += P[u * s + f]! * Q[i * s + f]!;
    const e = p.rating[j]! - (k.mu + bu[u]! + bi[i]! + dot);
    sse += e * e;
    bu[u] = bu[u]! + k.lrBu * (e - k.regBu * bu[u]!);
    bi[i] = bi[i]! + k.lrBi * (e - k.regBi * bi[i]!);
    for (let f = 0; f < s; f++) {
      const pf = P[u * s + f]!, qf = Q[i * s + f]!;
      P[u * s + f] = pf + k.lrP * (e * qf - k.regP * pf);
      Q[i * s + f] = qf + k.lrQ * (e * pf - k.regQ * qf);
    }
  }
  return { P, Q, bu, bi, sse };
}

/** est(u, i) with −1 = unknown, in f64. */
function referenceEstimate(p: Problem, mu: number, u: number, i: number): number {
  let est = mu;
  if (u >= 0) est += p.bu[u]!;
  if (i >= 0) est += p.bi[i]!;
  if (u >= 0 && i >= 0) for (let f = 0; f < p.stride; f++) est += p.P[u * p.stride + f]! * p.Q[i * p.stride + f]!;
  return est;
}

const clip = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

test("dot and axpy match a TypeScript reference on both paths, bit-identical to each other", () => {
  const mark = arena.mark();
  const rng = new Rng(1);
  for (const n of [0, 4, 8, 12, 100]) {
    const a = Float32Array.from({ length: n }, () => rng.normal());
    const b = Float32Array.from({ length: n }, () => rng.normal());
    const ra = arena.copyIn(a), rb = arena.copyIn(b);
    let expected = 0;
    for (let f = 0; f < n; f++) expected += a[f]! * b[f]!;
    const simd = engine.dot(ra, rb);
    const scalar = engine.dot(ra, rb, { simd: false });
    assertClose([simd], [expected], `dot n=${n}`);
    assert.ok(Object.is(Math.fround(simd), Math.fround(scalar)), `dot n=${n}: SIMD ${simd} vs scalar ${scalar}`);

    const ySimd = arena.copyIn(b), yScalar = arena.copyIn(b);
    engine.axpy(0.75, ra, ySimd);
    engine.axpy(0.75, ra, yScalar, { simd: false });
    assertClose(arena.view(ySimd), Array.from(b, (y, f) => y + 0.75 * a[f]!), `axpy n=${n}`);
    assertSameBits(arena.view(ySimd), arena.view(yScalar), `axpy n=${n}: SIMD vs scalar`);
  }
  arena.reset(mark);
});

test("sgdEpoch matches Surprise's update equations (f64 reference) on both paths", () => {
  for (const [factors, seed] of [[8, 2], [10, 3], [3, 4]] as const) {
    const mark = arena.mark();
    const p = problem(seed, 5, 4, 40, factors);
    const ref = referenceEpoch(p, PARAMS);
    for (const simd of [true, false]) {
      const { coo, model } = load(p);
      const sse = engine.sgdEpoch(coo, model, PARAMS, { simd });
      const got = copyModel(model);
      const what = `factors ${factors}, ${simd ? "SIMD" : "scalar"}`;
      assertClose([sse], [ref.sse], `${what} sse`);
      assertClose(got.P, ref.P, `${what} P`);
      assertClose(got.Q, ref.Q, `${what} Q`);
      assertClose(got.bu, ref.bu, `${what} bu`);
      assertClose(got.bi, ref.bi, `${what} bi`);
      for (let r = 0; r < p.nUsers; r++) {
        for (let f = factors; f < p.stride; f++) assert.is(got.P[r * p.stride + f], 0, "padding stays zero");
      }
    }
    arena.reset(mark);
  }
});

test("sgdEpoch: the SIMD and scalar paths give bit-identical factors over several epochs", () => {
  const mark = arena.mark();
  const p = problem(5, 30, 20, 600, 36);
  const a = load(p), b = load(p);
  let sseA = 0, sseB = 0;
  for (let epoch = 0; epoch < 3; epoch++) {
    sseA = engine.sgdEpoch(a.coo, a.model, PARAMS, { simd: true });
    sseB = engine.sgdEpoch(b.coo, b.model, PARAMS, { simd: false });
  }
  assert.is(sseA, sseB);
  const ma = copyModel(a.model), mb = copyModel(b.model);
  assertSameBits(ma.P, mb.P, "P");
  assertSameBits(ma.Q, mb.Q, "Q");
  assertSameBits(ma.bu, mb.bu, "bu");
  assertSameBits(ma.bi, mb.bi, "bi");
  arena.reset(mark);
});

test("sgdEpoch with stride 0 is the SGD baseline", () => {
  const mark = arena.mark();
  const p = problem(6, 6, 7, 50, 0);
  assert.is(p.stride, 0);
  const { coo, model } = load(p);
  const sse = engine.sgdEpoch(coo, model, PARAMS);
  const ref = referenceEpoch(p, PARAMS);
  assertClose([sse], [ref.sse], "sse");
  assertClose(arena.view(model.bu), ref.bu, "bu");
  assertClose(arena.view(model.bi), ref.bi, "bi");
  arena.reset(mark);
});

test("sgdEpoch over a range, and in chunks past CHUNK_RATINGS, equals one pass", () => {
  const mark = arena.mark();
  const n = CHUNK_RATINGS + 1000;
  const p = problem(7, 50, 40, n, 4);
  const whole = load(p), parts = load(p);
  const sse = engine.sgdEpoch(whole.coo, whole.model, PARAMS);
  const split = engine.sgdEpoch(parts.coo, parts.model, PARAMS, { end: 777 }) +
    engine.sgdEpoch(parts.coo, parts.model, PARAMS, { start: 777 });
  assertClose([split], [sse], "sse");
  assertSameBits(arena.view(parts.model.P), arena.view(whole.model.P), "P");
  assertSameBits(arena.view(parts.model.Q), arena.view(whole.model.Q), "Q");
  arena.reset(mark);
});

test("predictPairs, sse and scoreUser: unknown users/movies fall back to the parts that exist", () => {
  const mark = arena.mark();
  const p = problem(8, 4, 6, 0, 6);
  const { model } = load(p);
  const users = Int32Array.from([0, 3, -1, 2, -1, 1]);
  const movies = Int32Array.from([5, -1, 2, 0, -1, 4]);
  const params = { mu: 3.6, lo: 1, hi: 5 };
  const expected = Array.from(users, (u, j) => clip(referenceEstimate(p, params.mu, u, movies[j]!), 1, 5));
  for (const simd of [true, false]) {
    assertClose(engine.predictPairs(users, movies, model, params, { simd }), expected, `predictPairs simd=${simd}`);
  }
  // Clipping bites with a narrow scale.
  const narrow = engine.predictPairs(users, movies, model, { mu: 3.6, lo: 3.5, hi: 3.7 });
  for (const v of narrow) assert.ok(v >= 3.5 && v <= 3.7 + 1e-6, `clipped ${v}`);

  const rating = Float32Array.from([1, 5, 3, 4, 2, 5]);
  const coo = { user: arena.copyIn(users), movie: arena.copyIn(movies), rating: arena.copyIn(rating) };
  const expectedSse = expected.reduce((s, est, j) => s + (rating[j]! - est) ** 2, 0);
  assertClose([engine.sse(coo, model, params)], [expectedSse], "sse");
  assertClose([engine.sse(coo, model, params, { simd: false })], [expectedSse], "sse scalar");

  for (const u of [2, -1]) {
    for (const simd of [true, false]) {
      const scores = engine.scoreUser(u, model, 3.6, { simd });
      const expectedScores = Array.from({ length: p.nMovies }, (_, i) => referenceEstimate(p, 3.6, u, i));
      assertClose(scores, expectedScores, `scoreUser(${u}) simd=${simd}`);
    }
  }
  arena.reset(mark);
});

test("topN: best first, ties by lower index, NaN last, exclusions skipped, fewer when fewer qualify", () => {
  const scores = Float32Array.from([0.5, 2, NaN, 2, -1, 3, 0.5, 2]);
  const top = engine.topN(scores, 4);
  assert.equal(Array.from(top.indices), [5, 1, 3, 7]);
  assert.equal(Array.from(top.scores), [3, 2, 2, 2]);

  const exclude = Uint8Array.from([0, 1, 0, 0, 0, 1, 0, 0]);
  assert.equal(Array.from(engine.topN(scores, 3, exclude).indices), [3, 7, 0]);
  const all = engine.topN(scores, 20, exclude);
  assert.equal(Array.from(all.indices), [3, 7, 0, 6, 4, 2], "NaN ranks last, only 6 eligible");
  assert.is(engine.topN(scores, 0).indices.length, 0);

  // Against a full sort on random scores with many ties.
  const rng = new Rng(9);
  const many = Float32Array.from({ length: 500 }, () => rng.int(40) / 4);
  const mask = Uint8Array.from({ length: 500 }, () => (rng.next() < 0.2 ? 1 : 0));
  const order = Array.from(many.keys()).filter((x) => mask[x] === 0).sort((a, b) => many[b]! - many[a]! || a - b);
  assert.equal(Array.from(engine.topN(many, 37, mask).indices), order.slice(0, 37));
});

test("bias half-steps reproduce Surprise's BaselineOnly ALS", () => {
  const mark = arena.mark();
  const p = problem(10, 9, 7, 120, 0);
  const nUsers = 10; // user 9 has no ratings: its bias stays 0
  const model = { nUsers, nMovies: p.nMovies, bu: arena.zeros("f32", nUsers), bi: arena.zeros("f32", p.nMovies) };
  const coo = { user: arena.copyIn(p.user), movie: arena.copyIn(p.movie), rating: arena.copyIn(p.rating) };
  const mu = p.rating.reduce((s, r) => s + r, 0) / p.rating.length;
  const regI = 10, regU = 15;
  const bu = new Float64Array(nUsers), bi = new Float64Array(p.nMovies);
  for (let epoch = 0; epoch < 3; epoch++) {
    engine.biasHalfStep("movie", coo, model, { mu, reg: regI });
    engine.biasHalfStep("user", coo, model, { mu, reg: regU });
    for (const [bias, other, key, otherKey, reg] of [
      [bi, bu, p.movie, p.user, regI],
      [bu, bi, p.user, p.movie, regU],
    ] as const) {
      const sums = new Float64Array(bias.length), counts = new Float64Array(bias.length);
      for (let j = 0; j < key.length; j++) {
        sums[key[j]!] += p.rating[j]! - mu - other[otherKey[j]!]!;
        counts[key[j]!]++;
      }
      for (let x = 0; x < bias.length; x++) bias[x] = sums[x]! / (reg + counts[x]!);
    }
  }
  assertClose(arena.view(model.bi), bi, "bi");
  assertClose(arena.view(model.bu), bu, "bu");
  assert.is(arena.view(model.bu)[9], 0);
  arena.reset(mark);
});

test("bad arguments are refused before the call, saying what is allowed", () => {
  const mark = arena.mark();
  const p = problem(11, 3, 3, 10, 4);
  const { coo, model } = load(p);
  const refuses = (fn: () => unknown, pattern: RegExp): void => {
    try {
      fn();
    } catch (err) {
      assert.instance(err, AbiError);
      assert.match((err as Error).message, pattern);
      return;
    }
    assert.unreachable(`expected an error matching ${pattern}`);
  };
  refuses(() => engine.sgdEpoch(coo, { ...model, stride: 6 }, PARAMS), /stride must be a multiple of 4/);
  refuses(() => engine.sgdEpoch(coo, { ...model, nUsers: 30 }, PARAMS), /P has 12 elements, at least 120 are needed/);
  refuses(() => engine.sgdEpoch(coo, { ...model, P: model.bu as never }, PARAMS), /P has 3 elements/);
  refuses(() => engine.sgdEpoch({ ...coo, user: coo.rating as never }, model, PARAMS), /data.user must be a i32 region, got f32/);
  refuses(() => engine.sgdEpoch(coo, model, { ...PARAMS, lrP: -0.1 }), /sgdEpoch: lrP must be a finite number ≥ 0, got -0.1/);
  refuses(() => engine.sgdEpoch(coo, model, { ...PARAMS, mu: NaN }), /mu must be a finite number/);
  refuses(() => engine.sgdEpoch(coo, model, PARAMS, { start: 5, end: 2 }), /0 ≤ start ≤ end ≤ 10/);
  refuses(() => engine.sgdEpoch({ ...coo, rating: { ...coo.rating, length: 9 } }, model, PARAMS), /differ in length/);
  refuses(() => engine.sse(coo, model, { mu: 3, lo: 5, hi: 1 }), /lo must be ≤ hi/);
  refuses(() => engine.predictPairs(new Float32Array(2) as never, new Int32Array(2), model, { mu: 3, lo: 1, hi: 5 }),
    /users must be a i32 array or region, got a Float32Array/);
  refuses(() => engine.predictPairs(new Int32Array(2), new Int32Array(3), model, { mu: 3, lo: 1, hi: 5 }),
    /users has 2 entries but movies has 3/);
  refuses(() => engine.scoreUser(3, model, 3), /u must be a dense user index in 0..2 or −1/);
  refuses(() => engine.topN(new Float32Array(3), -1), /k must be a whole number/);
  refuses(() => engine.dot(arena.copyIn(new Float32Array(6)), arena.copyIn(new Float32Array(6))), /multiple of 4/);
  refuses(() => engine.dot({ ptr: 1 << 30, length: 4, dtype: "f32" }, model.P), /runs past the end of the/);
  refuses(() => engine.biasHalfStep("both" as never, coo, model, { mu: 3, reg: 1 }), /side must be "movie" or "user"/);
  arena.reset(mark);
});

test("bad data and divergence come back as KernelError with the status name", () => {
  const mark = arena.mark();
  const p = problem(12, 3, 3, 10, 4);
  p.movie[6] = 3;
  const { coo, model } = load(p);
  const fails = (fn: () => unknown, codeName: string, kernel: string): void => {
    try {
      fn();
    } catch (err) {
      assert.instance(err, KernelError);
      assert.is((err as KernelError).codeName, codeName);
      assert.is((err as KernelError).kernel, kernel);
      assert.match((err as Error).message, codeName);
      return;
    }
    assert.unreachable(`expected ${codeName}`);
  };
  fails(() => engine.sgdEpoch(coo, model, PARAMS), "STATUS_INDEX_OUT_OF_RANGE", "sgdEpoch");
  fails(() => engine.sse(coo, model, { mu: 3, lo: 1, hi: 5 }), "STATUS_INDEX_OUT_OF_RANGE", "sse");
  fails(() => engine.biasHalfStep("movie", coo, model, { mu: 3, reg: 1 }), "STATUS_INDEX_OUT_OF_RANGE", "biasResidualSums");
  fails(() => engine.predictPairs(Int32Array.from([-2]), Int32Array.from([0]), model, { mu: 3, lo: 1, hi: 5 }),
    "STATUS_INDEX_OUT_OF_RANGE", "predictPairs");
  p.movie[6] = 0;
  const ok = load(p);
  fails(() => {
    for (let epoch = 0; epoch < 50; epoch++) engine.sgdEpoch(ok.coo, ok.model, { ...PARAMS, lrP: 1e18, lrQ: 1e18 });
  }, "STATUS_DIVERGED", "sgdEpoch");
  arena.reset(mark);
});

test("engines sharing a memory get separate scratch slots; close() frees a slot and retires the engine", () => {
  const mark = arena.mark();
  const p = problem(13, 8, 8, 200, 8);
  const { coo, model } = load(p);
  const params = { mu: 3, lo: 1, hi: 5 };
  const expected = engine.sse(coo, model, params);
  const others = [Engine.attach(engine.share())];
  assert.is(others[0]!.sse(coo, model, params), expected);
  assert.is(engine.sse(coo, model, params), expected);
  others[0]!.close();
  try {
    others[0]!.sse(coo, model, params);
    assert.unreachable("a closed engine ran a kernel");
  } catch (err) {
    assert.match((err as Error).message, "sse: this engine was closed");
  }
  others.length = 0;
  try {
    for (;;) others.push(Engine.attach(engine.share()));
  } catch (err) {
    assert.match((err as Error).message, "at most 255 engines");
  }
  assert.is(others.length, 254, "the main engine holds one slot");
  others.pop()!.close();
  others.push(Engine.attach(engine.share()));
  for (const other of others) other.close();
  arena.reset(mark);
});

test.run();
