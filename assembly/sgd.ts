// One epoch of biased matrix factorization by stochastic gradient descent (Funk SVD as in
// Surprise's SVD and LIBMF), over ratings in the order given.
//
// For each rating (u, i, r), in order:
//   e    = r − (((mu + b_u) + b_i) + p_u·q_i)
//   b_u ← b_u + lrBu·(e − regBu·b_u)
//   b_i ← b_i + lrBi·(e − regBi·b_i)
//   p_u ← (1 − lrP·regP)·p_u + (lrP·e)·q_i          (= p_u + lrP·(e·q_i − regP·p_u))
//   q_i ← (1 − lrQ·regQ)·q_i + (lrQ·e)·p_u_old      (= q_i + lrQ·(e·p_u − regQ·q_i))
//   sse += e²                                        (f64; e is the error before the update)
// All arithmetic is f32 except the sse sum; dot products follow vec.ts's summation order, so
// the SIMD and scalar paths give bit-identical results. With stride 0 (no factors) this is the
// plain SGD baseline (Surprise's BaselineOnly, method "sgd").
//
// Pointers (byte offsets)
//   user   : i32[n]                read   dense user index per rating, 0 ≤ u < nUsers
//   movie  : i32[n]                read   dense movie index per rating, 0 ≤ i < nMovies
//   rating : f32[n]                read
//   P      : f32[nUsers × stride]  read/written, row-major, row u at P + 4·u·stride
//   Q      : f32[nMovies × stride] read/written, row-major
//   bu     : f32[nUsers]           read/written
//   bi     : f32[nMovies]          read/written
//   outSse : f64[1]                written (also when an index is out of range: the sum so far)
//   stride : floats per factor row, a multiple of 4 (the factor count padded with zeros)
//
// simd ≠ 0 selects the v128 path. (Touching the rows of the ratings ~32 ahead to overlap their
// cache misses was measured and gave no gain here, neither in grid order nor in random order with
// P at 19 MB and 192 MB, so the loop has no prefetch.)
//
// Concurrency: a call writes the P/bu rows of the users and the Q/bi rows of the movies it
// reads. Two calls may run at once (on threads sharing the memory) only when their user sets
// and their movie sets are disjoint — the block grid scheduler guarantees this.
//
// Returns STATUS_OK; STATUS_INDEX_OUT_OF_RANGE at the first bad index (updates before it stay
// applied); STATUS_DIVERGED when the sse is not finite; STATUS_BAD_POINTER / STATUS_BAD_SIZE.
import { STATUS_DIVERGED, STATUS_INDEX_OUT_OF_RANGE, STATUS_OK } from "./status";
import { checkCount, checkPtr, checkStride } from "./check";
import { dot } from "./vec";

export function sgdEpoch(
  userPtr: usize, moviePtr: usize, ratingPtr: usize, n: i32, nUsers: i32, nMovies: i32,
  pPtr: usize, qPtr: usize, buPtr: usize, biPtr: usize, stride: i32,
  mu: f32, lrBu: f32, lrBi: f32, lrP: f32, lrQ: f32, regBu: f32, regBi: f32, regP: f32, regQ: f32,
  simd: i32, outSsePtr: usize,
): i32 {
  let status = checkPtr(userPtr, 4) | checkPtr(moviePtr, 4) | checkPtr(ratingPtr, 4) |
    checkPtr(pPtr, 4) | checkPtr(qPtr, 4) | checkPtr(buPtr, 4) | checkPtr(biPtr, 4) |
    checkPtr(outSsePtr, 8);
  if (status != STATUS_OK) return status;
  status = checkCount(n) | checkCount(nUsers) | checkCount(nMovies) | checkStride(stride);
  if (status != STATUS_OK) return status;
  const useSimd = simd != 0;
  const rowBytes = <usize>stride << 2;
  const keepP: f32 = 1 - lrP * regP;
  const keepQ: f32 = 1 - lrQ * regQ;
  let sse: f64 = 0;
  for (let j = 0; j < n; j++) {
    const at = <usize>j << 2;
    const u = load<i32>(userPtr + at);
    const i = load<i32>(moviePtr + at);
    if (<u32>u >= <u32>nUsers || <u32>i >= <u32>nMovies) {
      store<f64>(outSsePtr, sse);
      return STATUS_INDEX_OUT_OF_RANGE;
    }
    const p = pPtr + <usize>u * rowBytes;
    const q = qPtr + <usize>i * rowBytes;
    const bu = load<f32>(buPtr + (<usize>u << 2));
    const bi = load<f32>(biPtr + (<usize>i << 2));
    const e: f32 = load<f32>(ratingPtr + at) - (((mu + bu) + bi) + dot(p, q, stride, useSimd));
    sse += <f64>e * <f64>e;
    store<f32>(buPtr + (<usize>u << 2), bu + lrBu * (e - regBu * bu));
    store<f32>(biPtr + (<usize>i << 2), bi + lrBi * (e - regBi * bi));
    if (useSimd) updateRowsSimd(p, q, rowBytes, keepP, lrP * e, keepQ, lrQ * e);
    else updateRowsScalar(p, q, rowBytes, keepP, lrP * e, keepQ, lrQ * e);
  }
  store<f64>(outSsePtr, sse);
  return isFinite(sse) ? STATUS_OK : STATUS_DIVERGED;
}

/** p ← keepP·p + gP·q and q ← keepQ·q + gQ·p_old, four floats at a time. */
// @ts-ignore: decorator
@inline function updateRowsSimd(p: usize, q: usize, rowBytes: usize, keepP: f32, gP: f32, keepQ: f32, gQ: f32): void {
  const kp = f32x4.splat(keepP);
  const gp = f32x4.splat(gP);
  const kq = f32x4.splat(keepQ);
  const gq = f32x4.splat(gQ);
  for (let off: usize = 0; off < rowBytes; off += 16) {
    const pv = v128.load(p + off);
    const qv = v128.load(q + off);
    v128.store(p + off, f32x4.add(f32x4.mul(kp, pv), f32x4.mul(gp, qv)));
    v128.store(q + off, f32x4.add(f32x4.mul(kq, qv), f32x4.mul(gq, pv)));
  }
}

/** The scalar twin of updateRowsSimd: the same multiplies and adds per element. */
// @ts-ignore: decorator
@inline function updateRowsScalar(p: usize, q: usize, rowBytes: usize, keepP: f32, gP: f32, keepQ: f32, gQ: f32): void {
  for (let off: usize = 0; off < rowBytes; off += 4) {
    const pf = load<f32>(p + off);
    const qf = load<f32>(q + off);
    store<f32>(p + off, keepP * pf + gP * qf);
    store<f32>(q + off, keepQ * qf + gQ * pf);
  }
}
