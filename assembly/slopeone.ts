// SlopeOne (Lemire & Maclachlan 2005, "Slope One predictors for online rating-based collaborative
// filtering"; Surprise's SlopeOne):
//
//   c(i, j)   = |U_ij|, the users who rated both i and j
//   dev(i, j) = Σ_{u∈U_ij} (r_ui − r_uj) / c(i, j)          (dev(j, i) = −dev(i, j))
//
// stored for i < j in a packed upper triangle: pair (i, j) at t(i, j) = i·n − i(i+1)/2 + (j − i − 1),
// n = nMovies. For a pair (u, i) to predict, over the movies j ≠ i that u rated with c(i, j) ≥ minSupport:
//
//   weighted (Lemire & Maclachlan):  num = Σ (dev(i, j) + r_uj) · c(i, j),  den = Σ c(i, j)
//                                    r̂ = num / den
//   plain (Surprise):                num = Σ dev(i, j),  den = |{j}|
//                                    r̂ = μ_u + num / den
//
// slopeOneRows accumulates the deviations of movie rows [r0, r1) over the upper triangle with the
// co-rating kernel of similarity.ts (layout 2: n, Σ(x − y), Σ(x − y)², the CSRs holding ratings) and
// writes dev and c for every j > i.
//
// Pointers (byte offsets)
//   keyPtr, keyOther, keyCross : the by-movie CSR with cross indices (see similarity.ts)
//   otherPtr, otherIdx, otherVal : the by-user CSR (ratings), movies ascending within a user
//   acc      : f32[nMovies × 4]        scratch, zero on entry, left zero
//   dev      : f32[n(n−1)/2]           written (rows r0..r1−1) by slopeOneRows, read by slopeOnePredict
//   count    : i32[n(n−1)/2]           likewise
//   us, is   : i32[nPairs]             read   dense user and movie of each pair (in range)
//   outNum, outDen : f64[nPairs]       written
//
// One path each: slopeOneRows' accumulation has its SIMD and scalar paths in similarity.ts; the
// prediction is gathers from the triangle. Concurrency: row ranges write disjoint triangle rows;
// prediction only reads the triangle.
import { STATUS_BAD_PARAMETER, STATUS_INDEX_OUT_OF_RANGE, STATUS_OK } from "./status";
import { checkCount, checkPtr } from "./check";
import { LAYOUT_DIFFERENCES, coAccumulate, tri } from "./similarity";

export function slopeOneRows(
  r0: i32, r1: i32, keyPtrPtr: usize, keyOtherPtr: usize, keyCrossPtr: usize,
  otherPtrPtr: usize, otherIdxPtr: usize, otherValPtr: usize, nUsers: i32, nMovies: i32,
  accPtr: usize, devPtr: usize, countPtr: usize, simd: i32,
): i32 {
  let status = checkPtr(keyPtrPtr, 4) | checkPtr(devPtr, 4) | checkPtr(countPtr, 4) | checkCount(nMovies);
  if (status != STATUS_OK) return status;
  if (r0 < 0 || r1 < r0 || r1 > nMovies) return STATUS_INDEX_OUT_OF_RANGE;
  const n = <usize>nMovies;
  for (let i = r0; i < r1; i++) {
    const start = load<i32>(keyPtrPtr + (<usize>i << 2));
    const end = load<i32>(keyPtrPtr + (<usize>i << 2), 4);
    if (start < 0 || end < start) return STATUS_INDEX_OUT_OF_RANGE;
    const at = <usize>start << 2;
    status = coAccumulate(keyOtherPtr + at, keyCrossPtr + at, end - start,
      otherPtrPtr, otherIdxPtr, otherValPtr, nUsers, nMovies, LAYOUT_DIFFERENCES, 1, accPtr, simd);
    if (status != STATUS_OK) return status;
    for (let j = i + 1; j < nMovies; j++) {
      const p = accPtr + (<usize>j << 4);
      const c = load<f32>(p);
      const t = tri(<usize>i, <usize>j, n) << 2;
      store<f32>(devPtr + t, c > 0 ? <f32>(<f64>load<f32>(p, 4) / <f64>c) : 0);
      store<i32>(countPtr + t, <i32>c);
      v128.store(p, i32x4.splat(0));
    }
  }
  return STATUS_OK;
}

export function slopeOnePredict(
  usPtr: usize, isPtr: usize, nPairs: i32, userPtrPtr: usize, userIdxPtr: usize, userValPtr: usize,
  nUsers: i32, nMovies: i32, devPtr: usize, countPtr: usize, minSupport: i32, weighted: i32,
  outNumPtr: usize, outDenPtr: usize,
): i32 {
  let status = checkPtr(usPtr, 4) | checkPtr(isPtr, 4) | checkPtr(userPtrPtr, 4) | checkPtr(userIdxPtr, 4) |
    checkPtr(userValPtr, 4) | checkPtr(devPtr, 4) | checkPtr(countPtr, 4) | checkPtr(outNumPtr, 8) | checkPtr(outDenPtr, 8);
  if (status != STATUS_OK) return status;
  status = checkCount(nPairs) | checkCount(nUsers) | checkCount(nMovies);
  if (status != STATUS_OK) return status;
  if (minSupport < 1) return STATUS_BAD_PARAMETER;
  const n = <usize>nMovies;
  for (let t = 0; t < nPairs; t++) {
    const u = load<i32>(usPtr + (<usize>t << 2));
    const i = load<i32>(isPtr + (<usize>t << 2));
    if (<u32>u >= <u32>nUsers || <u32>i >= <u32>nMovies) return STATUS_INDEX_OUT_OF_RANGE;
    const start = load<i32>(userPtrPtr + (<usize>u << 2));
    const end = load<i32>(userPtrPtr + (<usize>u << 2), 4);
    let num: f64 = 0;
    let den: f64 = 0;
    for (let e = start; e < end; e++) {
      const j = load<i32>(userIdxPtr + (<usize>e << 2));
      if (<u32>j >= <u32>nMovies) return STATUS_INDEX_OUT_OF_RANGE;
      if (j == i) continue;
      const at = (i < j ? tri(<usize>i, <usize>j, n) : tri(<usize>j, <usize>i, n)) << 2;
      const c = load<i32>(countPtr + at);
      if (c < minSupport) continue;
      const d = i < j ? <f64>load<f32>(devPtr + at) : -<f64>load<f32>(devPtr + at);
      if (weighted != 0) {
        num += (d + <f64>load<f32>(userValPtr + (<usize>e << 2))) * <f64>c;
        den += <f64>c;
      } else {
        num += d;
        den += 1;
      }
    }
    store<f64>(outNumPtr + (<usize>t << 3), num);
    store<f64>(outDenPtr + (<usize>t << 3), den);
  }
  return STATUS_OK;
}
