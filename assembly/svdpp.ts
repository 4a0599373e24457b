// SVD++ (Koren, KDD 2008, "Factorization meets the neighborhood", eq. 15) by SGD on the block
// grid: the rating updates of one block, and the effective user vectors SVD++ predicts with.
//
//   r̂(u,i) = μ + b_u + b_i + q_i·(p_u + z_u),   z_u = |N(u)|^−½ Σ_{j∈N(u)} y_j
//
// N(u) is the implicit feedback of user u (the movies u rated). The paper's SGD (and Surprise's
// SVDpp) updates every y_j, j ∈ N(u), after every rating:
//   y_j ← y_j + lrY·(e·s·q_i − regY·y_j),  s = |N(u)|^−½        — O(|N(u)|·k) per rating.
// Those updates move z_u by exactly z ← (1 − lrY·regY)·z + (lrY·e)·q_i (since s²·|N(u)| = 1), and
// after the user's m ratings every y_j has become (1 − lrY·regY)^m·y_j + s·(z_end − (1 − lrY·regY)^m·z_start).
// So svdppBlock keeps z_u (a row of Z) current rating by rating at O(k), and implicit.ts computes
// z_u before the epoch and writes every y_j once after it (N(u) is a set: a movie listed twice
// would count twice in z, and there the two differ). Per rating (u, i, r) of the block, in order:
//     t    = p_u + z_u                                (the effective user vector)
//     e    = r − (((μ + b_u) + b_i) + q_i·t)
//     b_u ← b_u + lrBu·(e − regBu·b_u)
//     b_i ← b_i + lrBi·(e − regBi·b_i)
//     p_u ← (1 − lrP·regP)·p_u + (lrP·e)·q_i
//     q_i ← (1 − lrQ·regQ)·q_i + (lrQ·e)·t
//     z_u ← (1 − lrY·regY)·z_u + (lrY·e)·q_i_old
//     sse += e²                                       (f64)
// Arithmetic is f32 (the sse f64); SIMD and scalar paths do the same operations per element and
// the same summation order as vec.ts, so their results are bit-identical.
//
// svdppUserVectors writes the vector SVD++ predicts with, out_u = p_u + z_u, for every user
// (z_u from Y and N(u) as CSR, summed in list order), so prediction is the biased-MF prediction
// of predict.ts over it.
//
// Pointers (byte offsets)
//   user, movie : i32[n], rating : f32[n]   read   the block's ratings (0 ≤ u < nUsers, 0 ≤ i < nMovies)
//   P, Z, out   : f32[nUsers × stride]      P, Z read/written (block) or read (user vectors); out written
//   Q, Y        : f32[nMovies × stride]     Q read/written (block), Y read (user vectors); row-major
//   bu, bi      : f32[nUsers], f32[nMovies] read/written
//   impPtr      : i32[nUsers + 1], impIdx : i32[nImplicit]   read   N(u) as CSR (user vectors)
//   outSse      : f64[1]                    written (also on an index error: the sum so far)
//   stride      : floats per factor row, a multiple of 4 (padding lanes stay 0)
//
// Concurrency: a block call writes the P/Z/bu rows of its users and the Q/bi rows of its movies;
// two blocks that share neither run at once (LIBMF's scheduler). svdppUserVectors only reads the
// model: calls writing disjoint out rows may run at once while no block call runs.
//
// Returns STATUS_OK; STATUS_INDEX_OUT_OF_RANGE at the first bad user, offset or movie index
// (updates before it stay applied); STATUS_DIVERGED when the sse is not finite;
// STATUS_BAD_POINTER / STATUS_BAD_SIZE.
import { STATUS_DIVERGED, STATUS_INDEX_OUT_OF_RANGE, STATUS_OK } from "./status";
import { checkCount, checkPtr, checkStride } from "./check";
import { axpy } from "./vec";
import { invSqrt, scaleRow } from "./implicit";

export function svdppBlock(
  userPtr: usize, moviePtr: usize, ratingPtr: usize, n: i32, nUsers: i32, nMovies: i32,
  pPtr: usize, qPtr: usize, zPtr: usize, buPtr: usize, biPtr: usize, stride: i32,
  mu: f32, lrBu: f32, lrBi: f32, lrP: f32, lrQ: f32, lrY: f32,
  regBu: f32, regBi: f32, regP: f32, regQ: f32, regY: f32,
  simd: i32, outSsePtr: usize,
): i32 {
  let status = checkPtr(userPtr, 4) | checkPtr(moviePtr, 4) | checkPtr(ratingPtr, 4) | checkPtr(pPtr, 4) |
    checkPtr(qPtr, 4) | checkPtr(zPtr, 4) | checkPtr(buPtr, 4) | checkPtr(biPtr, 4) | checkPtr(outSsePtr, 8);
  if (status != STATUS_OK) return status;
  status = checkCount(n) | checkCount(nUsers) | checkCount(nMovies) | checkStride(stride);
  if (status != STATUS_OK) return status;
  const useSimd = simd != 0;
  const rowBytes = <usize>stride << 2;
  const keepP: f32 = 1 - lrP * regP;
  const keepQ: f32 = 1 - lrQ * regQ;
  const keepY: f32 = 1 - lrY * regY;
  let sse: f64 = 0;
  for (let r = 0; r < n; r++) {
    const at = <usize>r << 2;
    const u = load<i32>(userPtr + at);
    const i = load<i32>(moviePtr + at);
    if (<u32>u >= <u32>nUsers || <u32>i >= <u32>nMovies) return fail(outSsePtr, sse);
    const p = pPtr + <usize>u * rowBytes;
    const z = zPtr + <usize>u * rowBytes;
    const q = qPtr + <usize>i * rowBytes;
    const buAt = buPtr + (<usize>u << 2);
    const biAt = biPtr + (<usize>i << 2);
    const bu = load<f32>(buAt);
    const bi = load<f32>(biAt);
    const e: f32 = load<f32>(ratingPtr + at) - (((mu + bu) + bi) + dotPlus(q, p, z, stride, useSimd));
    sse += <f64>e * <f64>e;
    store<f32>(buAt, bu + lrBu * (e - regBu * bu));
    store<f32>(biAt, bi + lrBi * (e - regBi * bi));
    if (useSimd) updateSimd(p, q, z, rowBytes, keepP, lrP * e, keepQ, lrQ * e, keepY, lrY * e);
    else updateScalar(p, q, z, rowBytes, keepP, lrP * e, keepQ, lrQ * e, keepY, lrY * e);
  }
  store<f64>(outSsePtr, sse);
  return isFinite(sse) ? STATUS_OK : STATUS_DIVERGED;
}

export function svdppUserVectors(
  impPtrPtr: usize, impIdxPtr: usize, nImplicit: i32, nUsers: i32, nMovies: i32,
  pPtr: usize, yPtr: usize, stride: i32, outPtr: usize, simd: i32,
): i32 {
  let status = checkPtr(impPtrPtr, 4) | checkPtr(impIdxPtr, 4) | checkPtr(pPtr, 4) | checkPtr(yPtr, 4) | checkPtr(outPtr, 4);
  if (status != STATUS_OK) return status;
  status = checkCount(nImplicit) | checkCount(nUsers) | checkCount(nMovies) | checkStride(stride);
  if (status != STATUS_OK) return status;
  const useSimd = simd != 0;
  const rowBytes = <usize>stride << 2;
  for (let u = 0; u < nUsers; u++) {
    const n0 = load<i32>(impPtrPtr + (<usize>u << 2));
    const n1 = load<i32>(impPtrPtr + (<usize>u << 2), 4);
    if (!validRange(n0, n1, nImplicit)) return STATUS_INDEX_OUT_OF_RANGE;
    const out = outPtr + <usize>u * rowBytes;
    if (implicitSum(impIdxPtr, n0, n1, nMovies, yPtr, stride, out, useSimd) < 0) return STATUS_INDEX_OUT_OF_RANGE;
    axpy(1, pPtr + <usize>u * rowBytes, out, stride, useSimd);
  }
  return STATUS_OK;
}

// @ts-ignore: decorator
@inline function fail(outSsePtr: usize, sse: f64): i32 {
  store<f64>(outSsePtr, sse);
  return STATUS_INDEX_OUT_OF_RANGE;
}

/** 0 ≤ from ≤ to ≤ n: a CSR row inside its array. */
// @ts-ignore: decorator
@inline function validRange(from: i32, to: i32, n: i32): bool {
  return from >= 0 && from <= to && to <= n;
}

/**
 * z = s·Σ y_j over the movies idx[n0..n1) (summed in list order, then scaled), with
 * s = (n1 − n0)^−½ (0 for an empty list). Returns s, or −1 at an index outside 0..nMovies−1.
 */
// @ts-ignore: decorator
@inline function implicitSum(
  idxPtr: usize, n0: i32, n1: i32, nMovies: i32, yPtr: usize, stride: i32, z: usize, simd: bool,
): f32 {
  const rowBytes = <usize>stride << 2;
  memory.fill(z, 0, rowBytes);
  for (let k = n0; k < n1; k++) {
    const j = load<i32>(idxPtr + (<usize>k << 2));
    if (<u32>j >= <u32>nMovies) return -1;
    axpy(1, yPtr + <usize>j * rowBytes, z, stride, simd);
  }
  const s = invSqrt(n1 - n0);
  scaleRow(z, s, rowBytes, simd);
  return s;
}

/** q·(p + z) on the chosen path, with vec.ts's summation order. */
// @ts-ignore: decorator
@inline function dotPlus(q: usize, p: usize, z: usize, n: i32, simd: bool): f32 {
  return simd ? dotPlusSimd(q, p, z, n) : dotPlusScalar(q, p, z, n);
}

// @ts-ignore: decorator
@inline function dotPlusSimd(q: usize, p: usize, z: usize, n: i32): f32 {
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  const end = <usize>n << 2;
  let off: usize = 0;
  for (; off + 32 <= end; off += 32) {
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(q + off), f32x4.add(v128.load(p + off), v128.load(z + off))));
    acc1 = f32x4.add(acc1, f32x4.mul(v128.load(q + off, 16), f32x4.add(v128.load(p + off, 16), v128.load(z + off, 16))));
  }
  if (off < end) acc0 = f32x4.add(acc0, f32x4.mul(v128.load(q + off), f32x4.add(v128.load(p + off), v128.load(z + off))));
  const acc = f32x4.add(acc0, acc1);
  return (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) +
    (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
}

// @ts-ignore: decorator
@inline function dotPlusScalar(q: usize, p: usize, z: usize, n: i32): f32 {
  let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
  let t0: f32 = 0, t1: f32 = 0, t2: f32 = 0, t3: f32 = 0;
  const end = <usize>n << 2;
  let off: usize = 0;
  for (; off + 32 <= end; off += 32) {
    s0 += load<f32>(q + off, 0) * (load<f32>(p + off, 0) + load<f32>(z + off, 0));
    s1 += load<f32>(q + off, 4) * (load<f32>(p + off, 4) + load<f32>(z + off, 4));
    s2 += load<f32>(q + off, 8) * (load<f32>(p + off, 8) + load<f32>(z + off, 8));
    s3 += load<f32>(q + off, 12) * (load<f32>(p + off, 12) + load<f32>(z + off, 12));
    t0 += load<f32>(q + off, 16) * (load<f32>(p + off, 16) + load<f32>(z + off, 16));
    t1 += load<f32>(q + off, 20) * (load<f32>(p + off, 20) + load<f32>(z + off, 20));
    t2 += load<f32>(q + off, 24) * (load<f32>(p + off, 24) + load<f32>(z + off, 24));
    t3 += load<f32>(q + off, 28) * (load<f32>(p + off, 28) + load<f32>(z + off, 28));
  }
  if (off < end) {
    s0 += load<f32>(q + off, 0) * (load<f32>(p + off, 0) + load<f32>(z + off, 0));
    s1 += load<f32>(q + off, 4) * (load<f32>(p + off, 4) + load<f32>(z + off, 4));
    s2 += load<f32>(q + off, 8) * (load<f32>(p + off, 8) + load<f32>(z + off, 8));
    s3 += load<f32>(q + off, 12) * (load<f32>(p + off, 12) + load<f32>(z + off, 12));
  }
  return ((s0 + t0) + (s1 + t1)) + ((s2 + t2) + (s3 + t3));
}

/** One rating's row updates (see the header), four floats at a time; all from the old values. */
// @ts-ignore: decorator
@inline function updateSimd(
  p: usize, q: usize, z: usize, rowBytes: usize, keepP: f32, gP: f32, keepQ: f32, gQ: f32, keepY: f32, gY: f32,
): void {
  const kp = f32x4.splat(keepP);
  const gp = f32x4.splat(gP);
  const kq = f32x4.splat(keepQ);
  const gq = f32x4.splat(gQ);
  const ky = f32x4.splat(keepY);
  const gy = f32x4.splat(gY);
  for (let off: usize = 0; off < rowBytes; off += 16) {
    const pv = v128.load(p + off);
    const qv = v128.load(q + off);
    const zv = v128.load(z + off);
    v128.store(p + off, f32x4.add(f32x4.mul(kp, pv), f32x4.mul(gp, qv)));
    v128.store(q + off, f32x4.add(f32x4.mul(kq, qv), f32x4.mul(gq, f32x4.add(pv, zv))));
    v128.store(z + off, f32x4.add(f32x4.mul(ky, zv), f32x4.mul(gy, qv)));
  }
}

/** The scalar twin of updateSimd: the same multiplies and adds per element. */
// @ts-ignore: decorator
@inline function updateScalar(
  p: usize, q: usize, z: usize, rowBytes: usize, keepP: f32, gP: f32, keepQ: f32, gQ: f32, keepY: f32, gY: f32,
): void {
  for (let off: usize = 0; off < rowBytes; off += 4) {
    const pf = load<f32>(p + off);
    const qf = load<f32>(q + off);
    const zf = load<f32>(z + off);
    store<f32>(p + off, keepP * pf + gP * qf);
    store<f32>(q + off, keepQ * qf + gQ * (pf + zf));
    store<f32>(z + off, keepY * zf + gY * qf);
  }
}
