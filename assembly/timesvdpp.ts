// timeSVD++ (Koren, KDD 2009, "Collaborative filtering with temporal dynamics", eq. 11 with the
// biases of eq. 10 and the user factor drift of section 4.2) by SGD on the block grid: the rating
// updates of one grid block, and the model's predictions.
//
//   r̂(u,i,t) = μ + b_u + α_u·dev_u(t) + b_{u,t} + (b_i + b_{i,Bin(t)})·(c_u + c_{u,t})
//              + q_i·(p_u + z_u + dev_u(t)·α_pu),     z_u = |N(u)|^−½ Σ_{j∈N(u)} y_j
//
// Time enters through a user-day index d: every (user, day) pair of the training data has one
// entry, holding b_{u,t} (but[d]), c_{u,t} (cut[d]), the day's item-bias bin (dayBin[d]) and
// dev_u(t) = sign(t − t_u)·|t − t_u|^β (dayDev[d], computed by the host). Each rating carries d.
//
// As svdppBlock (svdpp.ts), the kernel keeps z_u, a row of Z, current rating by rating, and
// implicit.ts computes Z before the blocks run and moves every y_j once after them (the paper's
// per-rating y_j updates, deferred; see its header). Per rating (u, i, r, d) of the block, in
// order, with dev = dayDev[d], b = dayBin[d]:
//   t    = (p_u + z_u) + dev·α_pu                    (the effective user vector, lane by lane)
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
//   α_pu ← (1 − lrAlphaP·regAlphaP)·α_pu + ((lrAlphaP·e)·dev)·q_i
//   q_i  ← (1 − lrQ·regQ)·q_i + (lrQ·e)·t
//   z_u  ← (1 − lrY·regY)·z_u + (lrY·e)·q_i_old
//   sse += e²                                       (f64)
// Every right-hand side uses the values before the rating's updates. t is never stored: the dot
// product and the q_i update each form it lane by lane from p_u, z_u and α_pu. All arithmetic is
// f32 (the sse f64); the dot product follows vec.ts's summation order, and the SIMD and scalar
// paths do the same operations per element, so their results are bit-identical. With the time
// terms zero and frozen (α_u = b_{u,t} = b_{i,b} = c_{u,t} = α_pu = 0, c_u = 1, their learning
// rates 0) this is svdppBlock bit for bit.
//
// timeSvdppPredict: for each pair (u, i, d, b, dev), with U = the user vectors p_u + z_u
// (svdppUserVectors, or implicitSums with out) and −1 marking what is unknown:
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
//   user, movie : i32[n], rating : f32[n], day : i32[n]   read   the block's ratings
//                 (0 ≤ u < nUsers, 0 ≤ i < nMovies, 0 ≤ d < nDays; d must be a day of user u)
//   dayBin   : i32[nDays]               read   0 ≤ b < nBins;  dayDev : f32[nDays] read
//   P, AP, Z : f32[nUsers × stride]     read/written (P: p_u, AP: α_pu, Z: z_u), row-major
//   Q        : f32[nMovies × stride]    read/written
//   bu, alpha, cu : f32[nUsers]         read/written
//   bi       : f32[nMovies]             read/written;  biBin : f32[nMovies × nBins] read/written
//   but, cut : f32[nDays]               read/written (the entries of the block's users' days)
//   hyper    : f32[22]                  read
//   outSse   : f64[1]                   written (also on an index error: the sum so far)
//   predict: user, movie, day, bin : i32[n], dev : f32[n] read; U : f32[nUsers × stride] read;
//            work : f32[stride] written; out : f32[n] written; the model arrays read only.
//   stride: floats per factor row, a multiple of 4 (padding lanes stay 0)
//
// Concurrency: a block call writes the per-user terms of its users (P, AP, Z rows, bu, alpha, cu,
// and but, cut of their days) and the per-movie terms of its movies (Q rows, bi, the biBin rows);
// it only reads dayBin, dayDev and hyper. Two blocks that share no user and no movie run at once
// (LIBMF's scheduler; a user-day belongs to one user). Predict calls only read the model and may
// run at once, each with its own work and out regions.
//
// Returns STATUS_OK; STATUS_INDEX_OUT_OF_RANGE at the first bad user, movie, day or bin (updates
// before it stay applied); STATUS_DIVERGED when the sse is not finite; STATUS_BAD_POINTER /
// STATUS_BAD_SIZE.
import { STATUS_DIVERGED, STATUS_INDEX_OUT_OF_RANGE, STATUS_OK } from "./status";
import { checkCount, checkPtr, checkStride } from "./check";
import { dot } from "./vec";

/** Number of f32 hyperparameters at hyperPtr: 11 learning rates, then 11 regularizations. */
const TERMS = 11;

export function timeSvdppBlock(
  userPtr: usize, moviePtr: usize, ratingPtr: usize, dayPtr: usize, n: i32,
  nUsers: i32, nMovies: i32, nDays: i32, nBins: i32, dayBinPtr: usize, dayDevPtr: usize,
  pPtr: usize, apPtr: usize, qPtr: usize, zPtr: usize, stride: i32,
  buPtr: usize, alphaPtr: usize, cuPtr: usize, biPtr: usize, biBinPtr: usize, butPtr: usize, cutPtr: usize,
  mu: f32, hyperPtr: usize, simd: i32, outSsePtr: usize,
): i32 {
  let status = checkPtr(userPtr, 4) | checkPtr(moviePtr, 4) | checkPtr(ratingPtr, 4) | checkPtr(dayPtr, 4) |
    checkPtr(dayBinPtr, 4) | checkPtr(dayDevPtr, 4) | checkPtr(pPtr, 4) | checkPtr(apPtr, 4) | checkPtr(qPtr, 4) |
    checkPtr(zPtr, 4) | checkPtr(buPtr, 4) | checkPtr(alphaPtr, 4) | checkPtr(cuPtr, 4) | checkPtr(biPtr, 4) |
    checkPtr(biBinPtr, 4) | checkPtr(butPtr, 4) | checkPtr(cutPtr, 4) | checkPtr(hyperPtr, 4) | checkPtr(outSsePtr, 8);
  if (status != STATUS_OK) return status;
  status = checkCount(n) | checkCount(nUsers) | checkCount(nMovies) | checkCount(nDays) | checkCount(nBins) |
    checkStride(stride);
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
  let sse: f64 = 0;
  for (let r = 0; r < n; r++) {
    const at = <usize>r << 2;
    const u = load<i32>(userPtr + at);
    const i = load<i32>(moviePtr + at);
    const d = load<i32>(dayPtr + at);
    if (<u32>u >= <u32>nUsers || <u32>i >= <u32>nMovies || <u32>d >= <u32>nDays) return fail(outSsePtr, sse);
    const b = load<i32>(dayBinPtr + (<usize>d << 2));
    if (<u32>b >= <u32>nBins) return fail(outSsePtr, sse);
    const dev = load<f32>(dayDevPtr + (<usize>d << 2));
    const p = pPtr + <usize>u * rowBytes;
    const ap = apPtr + <usize>u * rowBytes;
    const z = zPtr + <usize>u * rowBytes;
    const q = qPtr + <usize>i * rowBytes;
    const uAt = <usize>u << 2;
    const buAt = buPtr + uAt;
    const alphaAt = alphaPtr + uAt;
    const cuAt = cuPtr + uAt;
    const biAt = biPtr + (<usize>i << 2);
    const bibAt = biBinPtr + ((<usize>i * <usize>nBins + <usize>b) << 2);
    const butAt = butPtr + (<usize>d << 2);
    const cutAt = cutPtr + (<usize>d << 2);
    const bu = load<f32>(buAt);
    const alpha = load<f32>(alphaAt);
    const cu = load<f32>(cuAt);
    const bi = load<f32>(biAt);
    const bib = load<f32>(bibAt);
    const but = load<f32>(butAt);
    const cut = load<f32>(cutAt);
    const bit: f32 = bi + bib;
    const sc: f32 = cu + cut;
    const e: f32 = load<f32>(ratingPtr + at) -
      (((((mu + bu) + alpha * dev) + but) + bit * sc) + dotEffective(q, p, z, ap, dev, stride, useSimd));
    sse += <f64>e * <f64>e;
    store<f32>(buAt, bu + lrBu * (e - regBu * bu));
    store<f32>(alphaAt, alpha + lrAlpha * (e * dev - regAlpha * alpha));
    store<f32>(butAt, but + lrBut * (e - regBut * but));
    store<f32>(biAt, bi + lrBi * (e * sc - regBi * bi));
    store<f32>(bibAt, bib + lrBiBin * (e * sc - regBiBin * bib));
    store<f32>(cuAt, cu + lrCu * (e * bit - regCu * (cu - 1)));
    store<f32>(cutAt, cut + lrCut * (e * bit - regCut * cut));
    if (useSimd) updateSimd(p, ap, q, z, dev, rowBytes, keepP, lrP * e, keepAP, lrAP * e * dev, keepQ, lrQ * e, keepY, lrY * e);
    else updateScalar(p, ap, q, z, dev, rowBytes, keepP, lrP * e, keepAP, lrAP * e * dev, keepQ, lrQ * e, keepY, lrY * e);
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

/** q·((p + z) + dev·a) on the chosen path, with vec.ts's summation order. */
// @ts-ignore: decorator
@inline function dotEffective(q: usize, p: usize, z: usize, a: usize, dev: f32, n: i32, simd: bool): f32 {
  return simd ? dotEffectiveSimd(q, p, z, a, dev, n) : dotEffectiveScalar(q, p, z, a, dev, n);
}

/** (p + z) + dev·a for the four lanes at off. */
// @ts-ignore: decorator
@inline function effectiveAt(p: usize, z: usize, a: usize, dv: v128, off: usize): v128 {
  return f32x4.add(f32x4.add(v128.load(p + off), v128.load(z + off)), f32x4.mul(dv, v128.load(a + off)));
}

// @ts-ignore: decorator
@inline function dotEffectiveSimd(q: usize, p: usize, z: usize, a: usize, dev: f32, n: i32): f32 {
  const dv = f32x4.splat(dev);
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  const end = <usize>n << 2;
  let off: usize = 0;
  for (; off + 32 <= end; off += 32) {
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(q + off), effectiveAt(p, z, a, dv, off)));
    acc1 = f32x4.add(acc1, f32x4.mul(v128.load(q + off, 16), effectiveAt(p, z, a, dv, off + 16)));
  }
  if (off < end) acc0 = f32x4.add(acc0, f32x4.mul(v128.load(q + off), effectiveAt(p, z, a, dv, off)));
  const acc = f32x4.add(acc0, acc1);
  return (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) +
    (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
}

/** q[f]·((p[f] + z[f]) + dev·a[f]) for the float at byte offset off. */
// @ts-ignore: decorator
@inline function termAt(q: usize, p: usize, z: usize, a: usize, dev: f32, off: usize): f32 {
  return load<f32>(q + off) * ((load<f32>(p + off) + load<f32>(z + off)) + dev * load<f32>(a + off));
}

// @ts-ignore: decorator
@inline function dotEffectiveScalar(q: usize, p: usize, z: usize, a: usize, dev: f32, n: i32): f32 {
  let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
  let t0: f32 = 0, t1: f32 = 0, t2: f32 = 0, t3: f32 = 0;
  const end = <usize>n << 2;
  let off: usize = 0;
  for (; off + 32 <= end; off += 32) {
    s0 += termAt(q, p, z, a, dev, off);
    s1 += termAt(q, p, z, a, dev, off + 4);
    s2 += termAt(q, p, z, a, dev, off + 8);
    s3 += termAt(q, p, z, a, dev, off + 12);
    t0 += termAt(q, p, z, a, dev, off + 16);
    t1 += termAt(q, p, z, a, dev, off + 20);
    t2 += termAt(q, p, z, a, dev, off + 24);
    t3 += termAt(q, p, z, a, dev, off + 28);
  }
  if (off < end) {
    s0 += termAt(q, p, z, a, dev, off);
    s1 += termAt(q, p, z, a, dev, off + 4);
    s2 += termAt(q, p, z, a, dev, off + 8);
    s3 += termAt(q, p, z, a, dev, off + 12);
  }
  return ((s0 + t0) + (s1 + t1)) + ((s2 + t2) + (s3 + t3));
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
  p: usize, ap: usize, q: usize, z: usize, dev: f32, rowBytes: usize,
  keepP: f32, gP: f32, keepAP: f32, gAP: f32, keepQ: f32, gQ: f32, keepY: f32, gY: f32,
): void {
  const dv = f32x4.splat(dev);
  const kp = f32x4.splat(keepP);
  const gp = f32x4.splat(gP);
  const ka = f32x4.splat(keepAP);
  const ga = f32x4.splat(gAP);
  const kq = f32x4.splat(keepQ);
  const gq = f32x4.splat(gQ);
  const ky = f32x4.splat(keepY);
  const gy = f32x4.splat(gY);
  for (let off: usize = 0; off < rowBytes; off += 16) {
    const pv = v128.load(p + off);
    const av = v128.load(ap + off);
    const qv = v128.load(q + off);
    const zv = v128.load(z + off);
    const tv = f32x4.add(f32x4.add(pv, zv), f32x4.mul(dv, av));
    v128.store(p + off, f32x4.add(f32x4.mul(kp, pv), f32x4.mul(gp, qv)));
    v128.store(ap + off, f32x4.add(f32x4.mul(ka, av), f32x4.mul(ga, qv)));
    v128.store(q + off, f32x4.add(f32x4.mul(kq, qv), f32x4.mul(gq, tv)));
    v128.store(z + off, f32x4.add(f32x4.mul(ky, zv), f32x4.mul(gy, qv)));
  }
}

/** The scalar twin of updateSimd: the same multiplies and adds per element. */
// @ts-ignore: decorator
@inline function updateScalar(
  p: usize, ap: usize, q: usize, z: usize, dev: f32, rowBytes: usize,
  keepP: f32, gP: f32, keepAP: f32, gAP: f32, keepQ: f32, gQ: f32, keepY: f32, gY: f32,
): void {
  for (let off: usize = 0; off < rowBytes; off += 4) {
    const pf = load<f32>(p + off);
    const af = load<f32>(ap + off);
    const qf = load<f32>(q + off);
    const zf = load<f32>(z + off);
    const tf: f32 = (pf + zf) + dev * af;
    store<f32>(p + off, keepP * pf + gP * qf);
    store<f32>(ap + off, keepAP * af + gAP * qf);
    store<f32>(q + off, keepQ * qf + gQ * tf);
    store<f32>(z + off, keepY * zf + gY * qf);
  }
}
