// Baseline biases by alternating least squares, as Surprise's BaselineOnly (method "als",
// Koren 2010, "Factor in the neighbors", eq. 2–3). A half-step recomputes one side's biases
// with the other side's held fixed:
//
//   movie half-step:  b_i = Σ_{(u,i,r)} (r − mu − b_u) / (regI + n_i)     for every movie i
//   user half-step:   b_u = Σ_{(u,i,r)} (r − mu − b_i) / (regU + n_u)     for every user u
//
// Surprise runs the movie half-step, then the user half-step, once per epoch, from zero biases.
// A half-step is two kernels, so the host can feed the ratings in chunks:
//   biasResidualSums: sums[k] += Σ (r − mu − otherBias[o]), counts[k] += 1 over ratings (k, o, r)
//   biasSolve:        keyBias[k] = sums[k] / (reg + counts[k])   (0 when counts[k] = 0)
// with key = movie, other = user for the movie half-step and the reverse for the user one.
// Sums are f64, biases f32.
//
// Pointers (byte offsets)
//   key, other : i32[n]       read   0 ≤ key < nKey, 0 ≤ other < nOther
//   rating     : f32[n]       read
//   otherBias  : f32[nOther]  read
//   sums       : f64[nKey]    read/written (the host zeroes it before the first chunk)
//   counts     : i32[nKey]    read/written (likewise)
//   keyBias    : f32[nKey]    written by biasSolve
//
// Concurrency: a call owns sums, counts and keyBias; nothing may write otherBias meanwhile.
import { STATUS_INDEX_OUT_OF_RANGE, STATUS_OK } from "./status";
import { checkCount, checkPtr } from "./check";

export function biasResidualSums(
  keyPtr: usize, otherPtr: usize, ratingPtr: usize, n: i32, nKey: i32, nOther: i32,
  otherBiasPtr: usize, mu: f64, sumsPtr: usize, countsPtr: usize,
): i32 {
  let status = checkPtr(keyPtr, 4) | checkPtr(otherPtr, 4) | checkPtr(ratingPtr, 4) |
    checkPtr(otherBiasPtr, 4) | checkPtr(sumsPtr, 8) | checkPtr(countsPtr, 4);
  if (status != STATUS_OK) return status;
  status = checkCount(n) | checkCount(nKey) | checkCount(nOther);
  if (status != STATUS_OK) return status;
  // A run of ratings with the same key (every movie's ratings, in movie-sorted data) is summed in
  // registers and stored once: the same additions in the same order, without a store-to-load chain.
  let run = -1;
  let sum: f64 = 0;
  let count: i32 = 0;
  for (let j = 0; j < n; j++) {
    const at = <usize>j << 2;
    const k = load<i32>(keyPtr + at);
    const o = load<i32>(otherPtr + at);
    if (<u32>k >= <u32>nKey || <u32>o >= <u32>nOther) {
      if (run >= 0) storeRun(sumsPtr, countsPtr, run, sum, count);
      return STATUS_INDEX_OUT_OF_RANGE;
    }
    if (k != run) {
      if (run >= 0) storeRun(sumsPtr, countsPtr, run, sum, count);
      run = k;
      sum = load<f64>(sumsPtr + (<usize>k << 3));
      count = load<i32>(countsPtr + (<usize>k << 2));
    }
    sum += <f64>load<f32>(ratingPtr + at) - mu - <f64>load<f32>(otherBiasPtr + (<usize>o << 2));
    count++;
  }
  if (run >= 0) storeRun(sumsPtr, countsPtr, run, sum, count);
  return STATUS_OK;
}

// @ts-ignore: decorator
@inline function storeRun(sumsPtr: usize, countsPtr: usize, k: i32, sum: f64, count: i32): void {
  store<f64>(sumsPtr + (<usize>k << 3), sum);
  store<i32>(countsPtr + (<usize>k << 2), count);
}

export function biasSolve(nKey: i32, reg: f64, sumsPtr: usize, countsPtr: usize, keyBiasPtr: usize): i32 {
  let status = checkPtr(sumsPtr, 8) | checkPtr(countsPtr, 4) | checkPtr(keyBiasPtr, 4);
  if (status != STATUS_OK) return status;
  status = checkCount(nKey);
  if (status != STATUS_OK) return status;
  for (let k = 0; k < nKey; k++) {
    const count = load<i32>(countsPtr + (<usize>k << 2));
    const sum = load<f64>(sumsPtr + (<usize>k << 3));
    store<f32>(keyBiasPtr + (<usize>k << 2), count > 0 ? <f32>(sum / (reg + <f64>count)) : 0);
  }
  return STATUS_OK;
}
