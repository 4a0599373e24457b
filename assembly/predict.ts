// Predictions of the biased factor model, for batches of (user, movie) pairs, for every movie of
// one user (recommend), and the sum of squared errors over a rating set (RMSE).
//
//   est(u, i) = ((mu + b_u) + b_i) + p_u·q_i          (both known; the same order as sgd.ts)
//   est(u, −1) = mu + b_u,  est(−1, i) = mu + b_i,  est(−1, −1) = mu
//   clip(x) = min(max(x, lo), hi)
//
//   predictPairs: out[j] = clip(est(user[j], movie[j]))
//   scoreUser:    out[i] = est(u, i) for every movie i (not clipped: a ranking score)
//   sse:          *out   = Σ_j (rating[j] − clip(est(user[j], movie[j])))²   (f64 sum)
//
// Pointers (byte offsets)
//   user   : i32[n]                read   −1 (unknown) or 0 ≤ u < nUsers
//   movie  : i32[n]                read   −1 (unknown) or 0 ≤ i < nMovies
//   rating : f32[n]                read
//   P      : f32[nUsers × stride]  read   row-major
//   Q      : f32[nMovies × stride] read   row-major
//   bu, bi : f32[nUsers], f32[nMovies] read
//   out    : f32[n] / f32[nMovies] / f64[1]  written
//
// simd ≠ 0 selects the SIMD dot product (bit-identical to the scalar one, see vec.ts).
// Concurrency: read-only on the model; any number of calls may run at once while no SGD call
// writes the same model, each writing its own out region.
import { STATUS_DIVERGED, STATUS_INDEX_OUT_OF_RANGE, STATUS_OK } from "./status";
import { checkCount, checkPtr, checkStride } from "./check";
import { dot } from "./vec";

/** est(u, i) with −1 meaning unknown; u and i already range-checked. */
// @ts-ignore: decorator
@inline function estimate(
  u: i32, i: i32, pPtr: usize, qPtr: usize, buPtr: usize, biPtr: usize, stride: i32, mu: f32, simd: bool,
): f32 {
  let est = mu;
  if (u >= 0) est += load<f32>(buPtr + (<usize>u << 2));
  if (i >= 0) est += load<f32>(biPtr + (<usize>i << 2));
  if (u >= 0 && i >= 0 && stride != 0) {
    const rowBytes = <usize>stride << 2;
    est += dot(pPtr + <usize>u * rowBytes, qPtr + <usize>i * rowBytes, stride, simd);
  }
  return est;
}

// @ts-ignore: decorator
@inline function clip(x: f32, lo: f32, hi: f32): f32 {
  return min(max(x, lo), hi);
}

// @ts-ignore: decorator
@inline function badIndex(x: i32, n: i32): bool {
  return x < -1 || x >= n;
}

// @ts-ignore: decorator
@inline function checkModel(pPtr: usize, qPtr: usize, buPtr: usize, biPtr: usize, stride: i32): i32 {
  return checkPtr(pPtr, 4) | checkPtr(qPtr, 4) | checkPtr(buPtr, 4) | checkPtr(biPtr, 4) | checkStride(stride);
}

export function predictPairs(
  userPtr: usize, moviePtr: usize, n: i32, nUsers: i32, nMovies: i32,
  pPtr: usize, qPtr: usize, buPtr: usize, biPtr: usize, stride: i32,
  mu: f32, lo: f32, hi: f32, outPtr: usize, simd: i32,
): i32 {
  const status = checkPtr(userPtr, 4) | checkPtr(moviePtr, 4) | checkPtr(outPtr, 4) |
    checkModel(pPtr, qPtr, buPtr, biPtr, stride) | checkCount(n) | checkCount(nUsers) | checkCount(nMovies);
  if (status != STATUS_OK) return status;
  for (let j = 0; j < n; j++) {
    const at = <usize>j << 2;
    const u = load<i32>(userPtr + at);
    const i = load<i32>(moviePtr + at);
    if (badIndex(u, nUsers) || badIndex(i, nMovies)) return STATUS_INDEX_OUT_OF_RANGE;
    store<f32>(outPtr + at, clip(estimate(u, i, pPtr, qPtr, buPtr, biPtr, stride, mu, simd != 0), lo, hi));
  }
  return STATUS_OK;
}

export function scoreUser(
  u: i32, nUsers: i32, pPtr: usize, qPtr: usize, buPtr: usize, biPtr: usize, nMovies: i32, stride: i32,
  mu: f32, outPtr: usize, simd: i32,
): i32 {
  const status = checkPtr(outPtr, 4) | checkModel(pPtr, qPtr, buPtr, biPtr, stride) |
    checkCount(nUsers) | checkCount(nMovies);
  if (status != STATUS_OK) return status;
  if (badIndex(u, nUsers)) return STATUS_INDEX_OUT_OF_RANGE;
  for (let i = 0; i < nMovies; i++) {
    store<f32>(outPtr + (<usize>i << 2), estimate(u, i, pPtr, qPtr, buPtr, biPtr, stride, mu, simd != 0));
  }
  return STATUS_OK;
}

export function sse(
  userPtr: usize, moviePtr: usize, ratingPtr: usize, n: i32, nUsers: i32, nMovies: i32,
  pPtr: usize, qPtr: usize, buPtr: usize, biPtr: usize, stride: i32,
  mu: f32, lo: f32, hi: f32, simd: i32, outSsePtr: usize,
): i32 {
  const status = checkPtr(userPtr, 4) | checkPtr(moviePtr, 4) | checkPtr(ratingPtr, 4) |
    checkPtr(outSsePtr, 8) | checkModel(pPtr, qPtr, buPtr, biPtr, stride) |
    checkCount(n) | checkCount(nUsers) | checkCount(nMovies);
  if (status != STATUS_OK) return status;
  let sum: f64 = 0;
  for (let j = 0; j < n; j++) {
    const at = <usize>j << 2;
    const u = load<i32>(userPtr + at);
    const i = load<i32>(moviePtr + at);
    if (badIndex(u, nUsers) || badIndex(i, nMovies)) {
      store<f64>(outSsePtr, sum);
      return STATUS_INDEX_OUT_OF_RANGE;
    }
    const e = <f64>(load<f32>(ratingPtr + at) - clip(estimate(u, i, pPtr, qPtr, buPtr, biPtr, stride, mu, simd != 0), lo, hi));
    sum += e * e;
  }
  store<f64>(outSsePtr, sum);
  return isFinite(sum) ? STATUS_OK : STATUS_DIVERGED;
}
