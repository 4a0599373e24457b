// One epoch of timeSVD++ (Koren, KDD 2009, "Collaborative filtering with temporal dynamics",
// eq. 11 with the biases of eq. 10 and the user factor drift of section 4.2) by SGD, user by
// user, and its predictions.
//
//   r̂(u,i,t) = μ + b_u + α_u·dev_u(t) + b_{u,t} + (b_i + b_{i,Bin(t)})·(c_u + c_{u,t})
//              + q_i·(p_u + z_u + dev_u(t)·α_pu),     z_u = |N(u)|^−½ Σ_{j∈N(u)} y_j
//
// Time enters through a user-day index d: every (user, day) pair of the training data has one
// entry, holding b_{u,t} (but[d]), c_{u,t} (cut[d]), the day's item-bias bin (dayBin[d]) and
// dev_u(t) = sign(t − t_u)·|t − t_u|^β (dayDev[d], computed by the host). Each rating carries d.
//
// Per user u (the users in `order`), as in svdpp.ts: s = |N(u)|^−½, z = s·Σ y_j, z0 = z; then for
// each rating (i, r, d) of u, in CSR order, with dev = dayDev[d], b = dayBin[d]:
//   t    = (p_u + z) + dev·α_pu
//   bit  = b_i + b_{i,b};  sc = c_u + c_{u,d}
//   e    = r − (((((μ + b_u) + α_u·dev) + b_{u,d}) + bit·sc) + q_i·t)
//   b_u     ← b_u     + lrBu·(e − regBu·b_u)
//   α_u     ← α_u     + lrAlpha·(e·dev − regAlpha·α_u)
//   b_{u,d} ← b_{u,d} + lrBut·(e − regBut·b_{u,d})
//   b_i     ← b_i     + lrBi·(e·sc − regBi·b_i)
//   b_{i,b} ← b_{i,b} + lrBiBin·(e·sc − regBiBin·b_{i,b})
//   c_u     ← c_u     + lrCu·(e·bit − regCu·(c_u − 1))       (c_u is pulled towards 1)
//   c_{u,d} ← c_{u,d} + lrCut·(e·bit − regCut·c_{u,d})
//   p_u  ← (1 − lrP·regP)·p_u + (lrP·e)·q_i
//   α_pu ← (1 − lrAlphaP·regAlphaP)·α_pu + (lrAlphaP·e·dev)·q_i
//   q_i  ← (1 − lrQ·regQ)·q_i + (lrQ·e)·t
//   z    ← (1 − lrY·regY)·z + (lrY·e)·q_i_old     (lrY·e taken as 0 when N(u) is empty)
//   sse += e²                                       (f64)
// then, with K = (1 − lrY·regY)^m (m = u's rating count): d = z − K·z0; y_j ← K·y_j + s·d for
// j ∈ N(u) — exactly the paper's per-rating y_j updates, written once per user (see svdpp.ts).
// All arithmetic is f32 (the sse f64); the SIMD and scalar paths are bit-identical.
//
// timeSvdppPredict: for each pair (u, i, d, b, dev), with U = the user vectors p_u + z_u
// (svdppUserVectors) and −1 marking what is unknown:
//   est = μ;  if u ≥ 0: est = ((est + b_u) + α_u·dev) + (d ≥ 0 ? b_{u,d} : 0)
//   if i ≥ 0: bit = b_i + (b ≥ 0 ? b_{i,b} : 0)
//             est = u ≥ 0 ? (est + bit·(c_u + (d ≥ 0 ? c_{u,d} : 0))) + q_i·(U_u + dev·α_pu) : est + bit
//   out = min(max(est, lo), hi)
// For a known (u, i, d) this is the training estimate with the current parameters, bit for bit.
//
// Hyperparameters (f32[22] at hyperPtr): the learning rates of the 11 terms, then their
// regularizations, in this order: bu, alpha, but, bi, biBin, cu, cut, P, Q, Y, alphaP.
//
// Pointers (byte offsets)
//   order    : i32[nOrder]              read   users to process (0 ≤ u < nUsers)
//   ratPtr   : i32[nUsers + 1]          read   CSR offsets of each user's ratings
//   movie    : i32[nRatings]            read   0 ≤ i < nMovies
//   rating   : f32[nRatings]            read
//   day      : i32[nRatings]            read   user-day index d of each rating, 0 ≤ d < nDays
//   impPtr   : i32[nUsers + 1], impIdx : i32[nImplicit]   read   N(u) as CSR (may be ratPtr/movie)
//   dayBin   : i32[nDays]               read   0 ≤ b < nBins;  dayDev : f32[nDays] read
//   P, AP    : f32[nUsers × stride]     read/written (P: p_u, AP: α_pu), row-major
//   Q, Y     : f32[nMovies × stride]    read/written
//   bu, alpha, cu : f32[nUsers]         read/written
//   bi       : f32[nMovies]             read/written;  biBin : f32[nMovies × nBins] read/written
//   but, cut : f32[nDays]               read/written
//   hyper    : f32[22]                  read
//   work     : f32[3 × stride]          written (z, z0, t: per-thread scratch)
//   outSse   : f64[1]                   written (also on an index error: the sum so far)
//   predict: user, movie, day, bin : i32[n], dev : f32[n] read; U : f32[nUsers × stride] read;
//            work : f32[stride] written; out : f32[n] written; the model arrays read only.
//
// Concurrency: as svdpp.ts — an epoch call writes the rows of its users (P, AP, bu, alpha, cu
// and their days' but, cut) and of every movie they rated or hold in N(u) (Q, Y, bi, biBin);
// the model runs it on one thread. Predict calls only read the model and may run at once, each
// with its own work and out regions.
//
// Returns STATUS_OK; STATUS_INDEX_OUT_OF_RANGE at the first bad user, offset, movie, day or bin
// (updates before it stay applied); STATUS_DIVERGED when the sse is not finite;
// STATUS_BAD_POINTER / STATUS_BAD_SIZE.
import { STATUS_DIVERGED, STATUS_INDEX_OUT_OF_RANGE, STATUS_OK } from "./status";
import { checkCount, checkPtr, checkStride } from "./check";
import { dot } from "./vec";
import { implicitStep, implicitSum, validRange } from "./svdpp";

/** Number of f32 hyperparameters at hyperPtr: 11 learning rates, then 11 regularizations. */
const TERMS = 11;

export function timeSvdppEpoch(
  orderPtr: usize, nOrder: i32, ratPtrPtr: usize, moviePtr: usize, ratingPtr: usize, dayPtr: usize, nRatings: i32,
  impPtrPtr: usize, impIdxPtr: usize, nImplicit: i32, nUsers: i32, nMovies: i32, nDays: i32, nBins: i32,
  dayBinPtr: usize, dayDevPtr: usize,
  pPtr: usize, apPtr: usize, qPtr: usize, yPtr: usize, stride: i32,
  buPtr: usize, alphaPtr: usize, cuPtr: usize, biPtr: usize, biBinPtr: usize, butPtr: usize, cutPtr: usize,
  mu: f32, hyperPtr: usize, workPtr: usize, simd: i32, outSsePtr: usize,
): i32 {
  let status = checkPtr(orderPtr, 4) | checkPtr(ratPtrPtr, 4) | checkPtr(moviePtr, 4) | checkPtr(ratingPtr, 4) |
    checkPtr(dayPtr, 4) | checkPtr(impPtrPtr, 4) | checkPtr(impIdxPtr, 4) | checkPtr(dayBinPtr, 4) |
    checkPtr(dayDevPtr, 4) | checkPtr(pPtr, 4) | checkPtr(apPtr, 4) | checkPtr(qPtr, 4) | checkPtr(yPtr, 4) |
    checkPtr(buPtr, 4) | checkPtr(alphaPtr, 4) | checkPtr(cuPtr, 4) | checkPtr(biPtr, 4) | checkPtr(biBinPtr, 4) |
    checkPtr(butPtr, 4) | checkPtr(cutPtr, 4) | checkPtr(hyperPtr, 4) | checkPtr(workPtr, 4) | checkPtr(outSsePtr, 8);
  if (status != STATUS_OK) return status;
  status = checkCount(nOrder) | checkCount(nRatings) | checkCount(nImplicit) | checkCount(nUsers) |
    checkCount(nMovies) | checkCount(nDays) | checkCount(nBins) | checkStride(stride);
  if (status != STATUS_OK) return status;
  const lrBu = hyper(hyperPtr, 0), lrAlpha = hyper(hyperPtr, 1), lrBut = hyper(hyperPtr, 2);
  const lrBi = hyper(hyperPtr, 3), lrBiBin = hyper(hyperPtr, 4), lrCu = hyper(hyperPtr, 5), lrCut = hyper(hyperPtr, 6);
  const lrP = hyper(hyperPtr, 7), lrQ = hyper(hyperPtr, 8), lrY = hyper(hyperPtr, 9), lrAP = hyper(hyperPtr, 10);
  const regBu = hyper(hyperPtr, TERMS), regAlpha = hyper(hyperPtr, TERMS + 1), regBut = hyper(hyperPtr, TERMS + 2);
  const regBi = hyper(hyperPtr, TERMS + 3), regBiBin = hyper(hyperPtr, TERMS + 4), regCu = hyper(hyperPtr, TERMS + 5);
  const regCut = hyper(hyperPtr, TERMS + 6);
  const keepP: f32 = 1 - lrP * hyper(hyperPtr, TERMS + 7);
  const keepQ: f32 = 1 - lrQ * hyper(hyperPtr, TERMS + 8);
  const keepY: f32 = 1 - lrY * hyper(hyperPtr, TERMS + 9);
  const keepAP: f32 = 1 - lrAP * hyper(hyperPtr, TERMS + 10);
  const useSimd = simd != 0;
  const rowBytes = <usize>stride << 2;
  const z = workPtr;
  const z0 = workPtr + rowBytes;
  const t = z0 + rowBytes;
  let sse: f64 = 0;
  for (let k = 0; k < nOrder; k++) {
    const u = load<i32>(orderPtr + (<usize>k << 2));
    if (<u32>u >= <u32>nUsers) return fail(outSsePtr, sse);
    const at = <usize>u << 2;
    const r0 = load<i32>(ratPtrPtr + at);
    const r1 = load<i32>(ratPtrPtr + at, 4);
    if (!validRange(r0, r1, nRatings)) return fail(outSsePtr, sse);
    if (r0 == r1) continue;
    const n0 = load<i32>(impPtrPtr + at);
    const n1 = load<i32>(impPtrPtr + at, 4);
    if (!validRange(n0, n1, nImplicit)) return fail(outSsePtr, sse);
    const s = implicitSum(impIdxPtr, n0, n1, nMovies, yPtr, stride, z, useSimd);
    if (s < 0) return fail(outSsePtr, sse);
    memory.copy(z0, z, rowBytes);
    const track: f32 = n1 > n0 ? lrY : 0;
    const p = pPtr + <usize>u * rowBytes;
    const ap = apPtr + <usize>u * rowBytes;
    let bu = load<f32>(buPtr + at);
    let alpha = load<f32>(alphaPtr + at);
    let cu = load<f32>(cuPtr + at);
    for (let j = r0; j < r1; j++) {
      const jat = <usize>j << 2;
      const i = load<i32>(moviePtr + jat);
      const d = load<i32>(dayPtr + jat);
      const b = <u32>d < <u32>nDays ? load<i32>(dayBinPtr + (<usize>d << 2)) : -1;
      if (<u32>i >= <u32>nMovies || <u32>b >= <u32>nBins) {
        store<f32>(buPtr + at, bu);
        store<f32>(alphaPtr + at, alpha);
        store<f32>(cuPtr + at, cu);
        return fail(outSsePtr, sse);
      }
      const dev = load<f32>(dayDevPtr + (<usize>d << 2));
      const q = qPtr + <usize>i * rowBytes;
      const biAt = biPtr + (<usize>i << 2);
      const bibAt = biBinPtr + ((<usize>i * <usize>nBins + <usize>b) << 2);
      const butAt = butPtr + (<usize>d << 2);
      const cutAt = cutPtr + (<usize>d << 2);
      const bi = load<f32>(biAt);
      const bib = load<f32>(bibAt);
      const but = load<f32>(butAt);
      const cut = load<f32>(cutAt);
      const bit: f32 = bi + bib;
      const sc: f32 = cu + cut;
      effective(p, z, ap, dev, t, rowBytes, useSimd);
      const e: f32 = load<f32>(ratingPtr + jat) -
        (((((mu + bu) + alpha * dev) + but) + bit * sc) + dot(q, t, stride, useSimd));
      sse += <f64>e * <f64>e;
      bu = bu + lrBu * (e - regBu * bu);
      alpha = alpha + lrAlpha * (e * dev - regAlpha * alpha);
      store<f32>(butAt, but + lrBut * (e - regBut * but));
      store<f32>(biAt, bi + lrBi * (e * sc - regBi * bi));
      store<f32>(bibAt, bib + lrBiBin * (e * sc - regBiBin * bib));
      cu = cu + lrCu * (e * bit - regCu * (cu - 1));
      store<f32>(cutAt, cut + lrCut * (e * bit - regCut * cut));
      if (useSimd) updateSimd(p, ap, q, z, t, rowBytes, keepP, lrP * e, keepAP, lrAP * e * dev, keepQ, lrQ * e, keepY, track * e);
      else updateScalar(p, ap, q, z, t, rowBytes, keepP, lrP * e, keepAP, lrAP * e * dev, keepQ, lrQ * e, keepY, track * e);
    }
    store<f32>(buPtr + at, bu);
    store<f32>(alphaPtr + at, alpha);
    store<f32>(cuPtr + at, cu);
    implicitStep(impIdxPtr, n0, n1, yPtr, stride, z, z0, Mathf.pow(keepY, <f32>(r1 - r0)), s, useSimd);
  }
  store<f64>(outSsePtr, sse);
  return isFinite(sse) ? STATUS_OK : STATUS_DIVERGED;
}

export function timeSvdppPredict(
  userPtr: usize, moviePtr: usize, dayPtr: usize, binPtr: usize, devPtr: usize, n: i32,
  nUsers: i32, nMovies: i32, nDays: i32, nBins: i32,
  uPtr: usize, apPtr: usize, qPtr: usize, stride: i32,
  buPtr: usize, alphaPtr: usize, cuPtr: usize, biPtr: usize, biBinPtr: usize, butPtr: usize, cutPtr: usize,
  mu: f32, lo: f32, hi: f32, workPtr: usize, outPtr: usize, simd: i32,
): i32 {
  let status = checkPtr(userPtr, 4) | checkPtr(moviePtr, 4) | checkPtr(dayPtr, 4) | checkPtr(binPtr, 4) |
    checkPtr(devPtr, 4) | checkPtr(uPtr, 4) | checkPtr(apPtr, 4) | checkPtr(qPtr, 4) | checkPtr(buPtr, 4) |
    checkPtr(alphaPtr, 4) | checkPtr(cuPtr, 4) | checkPtr(biPtr, 4) | checkPtr(biBinPtr, 4) | checkPtr(butPtr, 4) |
    checkPtr(cutPtr, 4) | checkPtr(workPtr, 4) | checkPtr(outPtr, 4);
  if (status != STATUS_OK) return status;
  status = checkCount(n) | checkCount(nUsers) | checkCount(nMovies) | checkCount(nDays) | checkCount(nBins) |
    checkStride(stride);
  if (status != STATUS_OK) return status;
  const useSimd = simd != 0;
  const rowBytes = <usize>stride << 2;
  for (let j = 0; j < n; j++) {
    const at = <usize>j << 2;
    const u = load<i32>(userPtr + at);
    const i = load<i32>(moviePtr + at);
    const d = load<i32>(dayPtr + at);
    const b = load<i32>(binPtr + at);
    if (u < -1 || u >= nUsers || i < -1 || i >= nMovies || d < -1 || d >= nDays || b < -1 || b >= nBins) {
      return STATUS_INDEX_OUT_OF_RANGE;
    }
    const dev = load<f32>(devPtr + at);
    let est = mu;
    if (u >= 0) {
      est = ((est + load<f32>(buPtr + (<usize>u << 2))) + load<f32>(alphaPtr + (<usize>u << 2)) * dev) +
        (d >= 0 ? load<f32>(butPtr + (<usize>d << 2)) : 0);
    }
    if (i >= 0) {
      const bit: f32 = load<f32>(biPtr + (<usize>i << 2)) +
        (b >= 0 ? load<f32>(biBinPtr + ((<usize>i * <usize>nBins + <usize>b) << 2)) : 0);
      if (u >= 0) {
        const sc: f32 = load<f32>(cuPtr + (<usize>u << 2)) + (d >= 0 ? load<f32>(cutPtr + (<usize>d << 2)) : 0);
        const row = <usize>u * rowBytes;
        plusScaled(uPtr + row, apPtr + row, dev, workPtr, rowBytes, useSimd);
        est = (est + bit * sc) + dot(qPtr + <usize>i * rowBytes, workPtr, stride, useSimd);
      } else {
        est = est + bit;
      }
    }
    store<f32>(outPtr + at, min(max(est, lo), hi));
  }
  return STATUS_OK;
}

// @ts-ignore: decorator
@inline function hyper(hyperPtr: usize, k: i32): f32 {
  return load<f32>(hyperPtr + (<usize>k << 2));
}

// @ts-ignore: decorator
@inline function fail(outSsePtr: usize, sse: f64): i32 {
  store<f64>(outSsePtr, sse);
  return STATUS_INDEX_OUT_OF_RANGE;
}

/** t = (p + z) + dev·a: the effective user vector, written so prediction reproduces it (U = p + z). */
// @ts-ignore: decorator
@inline function effective(p: usize, z: usize, a: usize, dev: f32, t: usize, rowBytes: usize, simd: bool): void {
  if (simd) {
    const dv = f32x4.splat(dev);
    for (let off: usize = 0; off < rowBytes; off += 16) {
      v128.store(t + off, f32x4.add(f32x4.add(v128.load(p + off), v128.load(z + off)), f32x4.mul(dv, v128.load(a + off))));
    }
  } else {
    for (let off: usize = 0; off < rowBytes; off += 4) {
      store<f32>(t + off, (load<f32>(p + off) + load<f32>(z + off)) + dev * load<f32>(a + off));
    }
  }
}

/** t = x + dev·a. */
// @ts-ignore: decorator
@inline function plusScaled(x: usize, a: usize, dev: f32, t: usize, rowBytes: usize, simd: bool): void {
  if (simd) {
    const dv = f32x4.splat(dev);
    for (let off: usize = 0; off < rowBytes; off += 16) {
      v128.store(t + off, f32x4.add(v128.load(x + off), f32x4.mul(dv, v128.load(a + off))));
    }
  } else {
    for (let off: usize = 0; off < rowBytes; off += 4) store<f32>(t + off, load<f32>(x + off) + dev * load<f32>(a + off));
  }
}

/** One rating's row updates (see the header), four floats at a time; all from the old values. */
// @ts-ignore: decorator
@inline function updateSimd(
  p: usize, ap: usize, q: usize, z: usize, t: usize, rowBytes: usize,
  keepP: f32, gP: f32, keepAP: f32, gAP: f32, keepQ: f32, gQ: f32, keepY: f32, gY: f32,
): void {
  const kp = f32x4.splat(keepP);
  const gp = f32x4.splat(gP);
  const ka = f32x4.splat(keepAP);
  const ga = f32x4.splat(gAP);
  const kq = f32x4.splat(keepQ);
  const gq = f32x4.splat(gQ);
  const ky = f32x4.splat(keepY);
  const gy = f32x4.splat(gY);
  for (let off: usize = 0; off < rowBytes; off += 16) {
    const qv = v128.load(q + off);
    v128.store(p + off, f32x4.add(f32x4.mul(kp, v128.load(p + off)), f32x4.mul(gp, qv)));
    v128.store(ap + off, f32x4.add(f32x4.mul(ka, v128.load(ap + off)), f32x4.mul(ga, qv)));
    v128.store(q + off, f32x4.add(f32x4.mul(kq, qv), f32x4.mul(gq, v128.load(t + off))));
    v128.store(z + off, f32x4.add(f32x4.mul(ky, v128.load(z + off)), f32x4.mul(gy, qv)));
  }
}

/** The scalar twin of updateSimd: the same multiplies and adds per element. */
// @ts-ignore: decorator
@inline function updateScalar(
  p: usize, ap: usize, q: usize, z: usize, t: usize, rowBytes: usize,
  keepP: f32, gP: f32, keepAP: f32, gAP: f32, keepQ: f32, gQ: f32, keepY: f32, gY: f32,
): void {
  for (let off: usize = 0; off < rowBytes; off += 4) {
    const qf = load<f32>(q + off);
    store<f32>(p + off, keepP * load<f32>(p + off) + gP * qf);
    store<f32>(ap + off, keepAP * load<f32>(ap + off) + gAP * qf);
    store<f32>(q + off, keepQ * qf + gQ * load<f32>(t + off));
    store<f32>(z + off, keepY * load<f32>(z + off) + gY * qf);
  }
}
