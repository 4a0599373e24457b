// Similarity of rows (movies, or users) from their co-ratings (Surprise's similarities module:
// cosine, pearson, pearson_baseline, msd; Koren 2010 §3 for the shrunk Pearson-baseline correlation).
//
// Two CSRs hold the same ratings: the key CSR (for movie–movie: by movie; its entries are the
// raters o and, in `cross`, where the same rating sits in the other CSR) and the other CSR (by
// user: each user's movies c ascending, with values). For a key row x and every column c, over
// the rows C(x, c) = { o : o rated x and c } that rated both:
//
//   accumulate  acc[c] += f(x_o, y_oc)  for each rater o of x (x_o = otherVal[cross]) and each
//               entry (c, y_oc) of o's row — or, `upper`, only the entries after x_o's own
//               (columns above x, as rows are ascending): half the work for a symmetric result
//   finalize    sim(x, c) from acc[c], 0 when n = |C(x, c)| < minSupport:
//     cosine            Σxy / sqrt(Σx² Σy²)                                   (0 if the root is 0)
//     pearson           (nΣxy − ΣxΣy) / sqrt((nΣx² − (Σx)²)(nΣy² − (Σy)²))     (0 if the root is 0)
//     pearson-baseline  Σxy / sqrt(Σx² Σy²) · (n − 1) / (n − 1 + shrinkage)    (0 if the root is 0)
//     msd               1 / (Σ(x − y)² / n + 1)
//   with x, y the values the host put in the other CSR: ratings for cosine, msd and pearson;
//   residuals r − (μ + b_u + b_i) for pearson-baseline.
//
// Accumulator layouts (f32 lanes per column, column-major: acc + c · 4 · lanes):
//   LAYOUT 0 products     4 lanes  (n, Σxy, Σx², Σy²)                 cosine, pearson-baseline
//   LAYOUT 1 moments      8 lanes  (n, Σx, Σy, Σxy | Σx², Σy², 0, 0)  pearson
//   LAYOUT 2 differences  4 lanes  (n, Σ(x−y), Σ(x−y)², 0)            msd, slopeone
// Counts are exact in f32 up to 2^24 co-ratings. Integer ratings keep every sum of the moments
// layout exact too, and finalize works in f64, so Pearson's differences of large products do not
// cancel badly. Kind codes (`kind`): 0 cosine, 1 pearson, 2 pearson-baseline, 3 msd.
//
// Pointers (byte offsets)
//   keyPtr     : i32[nKeys + 1]   read  row offsets of the key CSR
//   keyOther   : i32[nnz]         read  the other-side row o of each key entry (< nOther)
//   keyCross   : i32[nnz]         read  index of the same rating in the other CSR (inside row o)
//   otherPtr   : i32[nOther + 1]  read  row offsets of the other CSR
//   otherIdx   : i32[nnz]         read  columns (< nCols), ascending within a row
//   otherVal   : f32[nnz]         read  values
//   acc        : f32[nCols × lanes]  read/written: zero on entry, left zero (finalize clears what
//                                 accumulation touched)
//   out        : f32[nCols] (similarityRows: [nRows × nCols] when dense)  written
//   mask       : u8[nCols]        written, optional: 1 where top-k must skip the column
//                                 (similarity ≤ 0, below support, or the row itself), else 0
//   rows       : i32[nRows]       read  key rows to compute (similarityRows)
//   outIdx, outScore : i32 / f32 [nRows × k]  written: each row's k best positive similarities,
//                                 best first, −1 / NaN past the last one found (see topn.ts)
//   tri        : f32[n(n−1)/2]    the packed upper triangle, pair i < j at t(i, j) =
//                                 i·n − i(i+1)/2 + (j − i − 1): written by similarityUpper (rows
//                                 r0..r1−1), read by triangleTopK (with scratch rows f32 and mask
//                                 u8 of TOPK_BLOCK × n)
//
// Accumulation has a v128 path (one vector add per co-rating; the products layout takes a rater's
// entries four at a time, multiplying four values at once) and a scalar twin doing the same f32
// multiplies and adds lane by lane, so both give bit-identical sums. Finalize and top-k have one
// path: they touch each column once per row, against accumulation's Σ over raters of their
// rating counts, and finalize computes in f64.
//
// Concurrency: a call writes only its acc, out, mask, outIdx/outScore slots and its own rows of the
// triangle; the CSRs are read-only. Row ranges run on different workers at once, each with its own
// acc/out/mask; triangleTopK runs after every similarityUpper task has finished.
import { STATUS_BAD_PARAMETER, STATUS_INDEX_OUT_OF_RANGE, STATUS_OK } from "./status";
import { checkCount, checkOptionalPtr, checkPtr } from "./check";
import { topN } from "./topn";

export const LAYOUT_PRODUCTS = 0;
export const LAYOUT_MOMENTS = 1;
export const LAYOUT_DIFFERENCES = 2;

const KIND_COSINE = 0;
const KIND_PEARSON = 1;
const KIND_PEARSON_BASELINE = 2;
const KIND_MSD = 3;

/** Bytes of accumulator per column for a layout (16 or 32). */
// @ts-ignore: decorator
@inline export function layoutBytes(layout: i32): usize {
  return layout == LAYOUT_MOMENTS ? 32 : 16;
}

function layoutOfKind(kind: i32): i32 {
  if (kind == KIND_PEARSON) return LAYOUT_MOMENTS;
  if (kind == KIND_MSD) return LAYOUT_DIFFERENCES;
  return LAYOUT_PRODUCTS;
}

/** Per-rater constants of addPair: lanes that depend on x only. */
// @ts-ignore: decorator
@inline function xLanes(layout: i32, x: f32): v128 {
  // products (1, x, x, ·); moments (1, x, ·, x); differences: unused
  return layout == LAYOUT_PRODUCTS
    ? f32x4.replace_lane(f32x4.splat(x), 0, 1)
    : f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(x), 0, 1), 2, 0);
}

/** Adds one co-rating (x, y) to the accumulator at p, on the chosen path (vx = xLanes(layout, x)). */
// @ts-ignore: decorator
@inline function addPair(layout: i32, p: usize, x: f32, vx: v128, y: f32, simd: bool): void {
  if (layout == LAYOUT_PRODUCTS) {
    if (simd) {
      // (1, x, x, y) · (1, y, x, y) = (1, xy, x², y²)
      const a = f32x4.replace_lane(vx, 3, y);
      const b = v128.shuffle<f32>(a, a, 0, 3, 1, 3);
      v128.store(p, f32x4.add(v128.load(p), f32x4.mul(a, b)));
    } else {
      store<f32>(p, load<f32>(p) + <f32>1);
      store<f32>(p, load<f32>(p, 4) + x * y, 4);
      store<f32>(p, load<f32>(p, 8) + x * x, 8);
      store<f32>(p, load<f32>(p, 12) + y * y, 12);
    }
  } else if (layout == LAYOUT_MOMENTS) {
    if (simd) {
      // (1, x, y, x) · (1, 1, 1, y) = (1, x, y, xy);  (x, y, 0, 0)² = (x², y², 0, 0)
      const a = f32x4.replace_lane(vx, 2, y);
      const b = f32x4.replace_lane(f32x4.splat(1), 3, y);
      v128.store(p, f32x4.add(v128.load(p), f32x4.mul(a, b)));
      const c = f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(0), 0, x), 1, y);
      v128.store(p, f32x4.add(v128.load(p, 16), f32x4.mul(c, c)), 16);
    } else {
      store<f32>(p, load<f32>(p) + <f32>1);
      store<f32>(p, load<f32>(p, 4) + x, 4);
      store<f32>(p, load<f32>(p, 8) + y, 8);
      store<f32>(p, load<f32>(p, 12) + x * y, 12);
      store<f32>(p, load<f32>(p, 16) + x * x, 16);
      store<f32>(p, load<f32>(p, 20) + y * y, 20);
    }
  } else {
    const d = x - y;
    if (simd) {
      // (1, d, d, 0) · (1, 1, d, 0) = (1, d, d², 0)
      const vd = f32x4.splat(d);
      const a = f32x4.replace_lane(f32x4.replace_lane(vd, 0, 1), 3, 0);
      const b = f32x4.replace_lane(f32x4.replace_lane(a, 1, 1), 2, d);
      v128.store(p, f32x4.add(v128.load(p), f32x4.mul(a, b)));
    } else {
      store<f32>(p, load<f32>(p) + <f32>1);
      store<f32>(p, load<f32>(p, 4) + d, 4);
      store<f32>(p, load<f32>(p, 8) + d * d, 8);
    }
  }
}

/**
 * Adds the four co-ratings (x, y_j) at columns c_j (i32x4 at idx, values at val) of the products
 * layout, the same f32 products and sums as addPair: (1, x·y_j, x·x, y_j·y_j) with
 * xs = splat(x), oneX2 = (1, x·x, 1, x·x). False (and nothing added) if a column is ≥ limit.
 */
// @ts-ignore: decorator
@inline function addProducts4(accPtr: usize, idx: usize, val: usize, xs: v128, oneX2: v128, limit: v128): bool {
  const c = v128.load(idx);
  if (v128.any_true(i32x4.ge_u(c, limit))) return false;
  const y = v128.load(val);
  const xy = f32x4.mul(y, xs);
  const yy = f32x4.mul(y, y);
  // (x·y0, y0², x·y1, y1²) and the same for lanes 2, 3; each interleaved with (1, x²).
  const lo = v128.shuffle<f32>(xy, yy, 0, 4, 1, 5);
  const hi = v128.shuffle<f32>(xy, yy, 2, 6, 3, 7);
  const p0 = accPtr + (<usize>i32x4.extract_lane(c, 0) << 4);
  const p1 = accPtr + (<usize>i32x4.extract_lane(c, 1) << 4);
  const p2 = accPtr + (<usize>i32x4.extract_lane(c, 2) << 4);
  const p3 = accPtr + (<usize>i32x4.extract_lane(c, 3) << 4);
  v128.store(p0, f32x4.add(v128.load(p0), v128.shuffle<f32>(oneX2, lo, 0, 4, 1, 5)));
  v128.store(p1, f32x4.add(v128.load(p1), v128.shuffle<f32>(oneX2, lo, 2, 6, 3, 7)));
  v128.store(p2, f32x4.add(v128.load(p2), v128.shuffle<f32>(oneX2, hi, 0, 4, 1, 5)));
  v128.store(p3, f32x4.add(v128.load(p3), v128.shuffle<f32>(oneX2, hi, 2, 6, 3, 7)));
  return true;
}

/**
 * The accumulation of one key row (see the header); `upper` takes, from each rater's row, only
 * the entries after the rating itself.
 */
// @ts-ignore: decorator
@inline export function accumulateRow(
  keyOtherPtr: usize, keyCrossPtr: usize, nKey: i32,
  otherPtrPtr: usize, otherIdxPtr: usize, otherValPtr: usize, nOther: i32, nCols: i32,
  layout: i32, upper: bool, accPtr: usize, simd: bool,
): i32 {
  const shift: usize = layout == LAYOUT_MOMENTS ? 5 : 4;
  for (let k = 0; k < nKey; k++) {
    const at = <usize>k << 2;
    const o = load<i32>(keyOtherPtr + at);
    if (<u32>o >= <u32>nOther) return STATUS_INDEX_OUT_OF_RANGE;
    const rowStart = load<i32>(otherPtrPtr + (<usize>o << 2));
    const rowEnd = load<i32>(otherPtrPtr + (<usize>o << 2), 4);
    const self = load<i32>(keyCrossPtr + at);
    if (self < rowStart || self >= rowEnd) return STATUS_INDEX_OUT_OF_RANGE;
    const x = load<f32>(otherValPtr + (<usize>self << 2));
    const vx = xLanes(layout, x);
    const from = upper ? self + 1 : rowStart;
    let idx = otherIdxPtr + (<usize>from << 2);
    let val = otherValPtr + (<usize>from << 2);
    const idxEnd = otherIdxPtr + (<usize>rowEnd << 2);
    if (layout == LAYOUT_PRODUCTS && simd) {
      const xs = f32x4.splat(x);
      const xx = x * x;
      const oneX2 = f32x4(1, xx, 1, xx);
      const limit = i32x4.splat(nCols);
      const idxEnd4 = idx + ((idxEnd - idx) & ~(<usize>15));
      for (; idx < idxEnd4; idx += 16, val += 16) {
        if (!addProducts4(accPtr, idx, val, xs, oneX2, limit)) return STATUS_INDEX_OUT_OF_RANGE;
      }
    }
    for (; idx < idxEnd; idx += 4, val += 4) {
      const c = load<i32>(idx);
      if (<u32>c >= <u32>nCols) return STATUS_INDEX_OUT_OF_RANGE;
      addPair(layout, accPtr + (<usize>c << shift), x, vx, load<f32>(val), simd);
    }
  }
  return STATUS_OK;
}

/** Dispatches to a specialized copy of accumulateRow per layout and path (constants fold inside). */
function accumulate(
  keyOtherPtr: usize, keyCrossPtr: usize, nKey: i32,
  otherPtrPtr: usize, otherIdxPtr: usize, otherValPtr: usize, nOther: i32, nCols: i32,
  layout: i32, upper: bool, accPtr: usize, simd: bool,
): i32 {
  if (layout == LAYOUT_PRODUCTS) {
    return simd
      ? accumulateRow(keyOtherPtr, keyCrossPtr, nKey, otherPtrPtr, otherIdxPtr, otherValPtr, nOther, nCols, LAYOUT_PRODUCTS, upper, accPtr, true)
      : accumulateRow(keyOtherPtr, keyCrossPtr, nKey, otherPtrPtr, otherIdxPtr, otherValPtr, nOther, nCols, LAYOUT_PRODUCTS, upper, accPtr, false);
  }
  if (layout == LAYOUT_MOMENTS) {
    return simd
      ? accumulateRow(keyOtherPtr, keyCrossPtr, nKey, otherPtrPtr, otherIdxPtr, otherValPtr, nOther, nCols, LAYOUT_MOMENTS, upper, accPtr, true)
      : accumulateRow(keyOtherPtr, keyCrossPtr, nKey, otherPtrPtr, otherIdxPtr, otherValPtr, nOther, nCols, LAYOUT_MOMENTS, upper, accPtr, false);
  }
  return simd
    ? accumulateRow(keyOtherPtr, keyCrossPtr, nKey, otherPtrPtr, otherIdxPtr, otherValPtr, nOther, nCols, LAYOUT_DIFFERENCES, upper, accPtr, true)
    : accumulateRow(keyOtherPtr, keyCrossPtr, nKey, otherPtrPtr, otherIdxPtr, otherValPtr, nOther, nCols, LAYOUT_DIFFERENCES, upper, accPtr, false);
}

function checkAccumulateArgs(
  keyOtherPtr: usize, keyCrossPtr: usize, nKey: i32,
  otherPtrPtr: usize, otherIdxPtr: usize, otherValPtr: usize, nOther: i32, nCols: i32, layout: i32, accPtr: usize,
): i32 {
  let status = checkPtr(keyOtherPtr, 4) | checkPtr(keyCrossPtr, 4) |
    checkPtr(otherPtrPtr, 4) | checkPtr(otherIdxPtr, 4) | checkPtr(otherValPtr, 4) | checkPtr(accPtr, 16);
  if (status != STATUS_OK) return status;
  status = checkCount(nKey) | checkCount(nOther) | checkCount(nCols);
  if (status != STATUS_OK) return status;
  return layout < 0 || layout > LAYOUT_DIFFERENCES ? STATUS_BAD_PARAMETER : STATUS_OK;
}

/** Accumulates the co-ratings of one key row into acc (layout 0, 1 or 2; see the header). */
export function coAccumulate(
  keyOtherPtr: usize, keyCrossPtr: usize, nKey: i32,
  otherPtrPtr: usize, otherIdxPtr: usize, otherValPtr: usize, nOther: i32, nCols: i32,
  layout: i32, upper: i32, accPtr: usize, simd: i32,
): i32 {
  const status = checkAccumulateArgs(keyOtherPtr, keyCrossPtr, nKey, otherPtrPtr, otherIdxPtr, otherValPtr, nOther, nCols, layout, accPtr);
  if (status != STATUS_OK) return status;
  return accumulate(keyOtherPtr, keyCrossPtr, nKey, otherPtrPtr, otherIdxPtr, otherValPtr, nOther, nCols, layout, upper != 0, accPtr, simd != 0);
}

/** sim(x, c) from the accumulated sums at p (see the header), in f64. */
// @ts-ignore: decorator
@inline function similarityAt(kind: i32, p: usize, minSupport: f64, shrinkage: f64): f64 {
  const n = <f64>load<f32>(p);
  if (n < minSupport || n == 0) return 0;
  if (kind == KIND_PEARSON) {
    const sx = <f64>load<f32>(p, 4);
    const sy = <f64>load<f32>(p, 8);
    const num = n * <f64>load<f32>(p, 12) - sx * sy;
    const den = Math.sqrt((n * <f64>load<f32>(p, 16) - sx * sx) * (n * <f64>load<f32>(p, 20) - sy * sy));
    return den > 0 ? num / den : 0;
  }
  if (kind == KIND_MSD) return 1 / (<f64>load<f32>(p, 8) / n + 1);
  const den = Math.sqrt(<f64>load<f32>(p, 8) * <f64>load<f32>(p, 12));
  if (!(den > 0)) return 0;
  const s = <f64>load<f32>(p, 4) / den;
  return kind == KIND_PEARSON_BASELINE ? s * ((n - 1) / (n - 1 + shrinkage)) : s;
}

/** Checks a similarity kind and its parameters. */
function checkKind(kind: i32, minSupport: f64, shrinkage: f64): i32 {
  if (kind < KIND_COSINE || kind > KIND_MSD) return STATUS_BAD_PARAMETER;
  return minSupport >= 0 && shrinkage >= 0 && minSupport < Infinity && shrinkage < Infinity ? STATUS_OK : STATUS_BAD_PARAMETER;
}

/** Writes sim(x, c) for c in c0..c1−1 into out (and mask), clearing those accumulators. */
function finalizeColumns(
  accPtr: usize, c0: i32, c1: i32, kind: i32, minSupport: f64, shrinkage: f64, outPtr: usize, maskPtr: usize,
): void {
  const layout = layoutOfKind(kind);
  const bytes = layoutBytes(layout);
  for (let c = c0; c < c1; c++) {
    const p = accPtr + <usize>c * bytes;
    const s = <f32>similarityAt(kind, p, minSupport, shrinkage);
    store<f32>(outPtr + (<usize>c << 2), s);
    if (maskPtr != 0) store<u8>(maskPtr + <usize>c, s > 0 ? 0 : 1);
    v128.store(p, i32x4.splat(0));
    if (bytes == 32) v128.store(p, i32x4.splat(0), 16);
  }
}

/**
 * Similarities of columns c0..c1−1 from acc (accumulated in the layout of `kind`), into out and
 * (when maskPtr ≠ 0) mask; clears those accumulators for the next row.
 */
export function similarityFinalize(
  accPtr: usize, nCols: i32, c0: i32, c1: i32, kind: i32, minSupport: f64, shrinkage: f64, outPtr: usize, maskPtr: usize,
): i32 {
  let status = checkPtr(accPtr, 16) | checkPtr(outPtr, 4) | checkOptionalPtr(maskPtr, 1);
  if (status != STATUS_OK) return status;
  status = checkCount(nCols);
  if (status != STATUS_OK) return status;
  if (c0 < 0 || c1 < c0 || c1 > nCols) return STATUS_INDEX_OUT_OF_RANGE;
  status = checkKind(kind, minSupport, shrinkage);
  if (status != STATUS_OK) return status;
  finalizeColumns(accPtr, c0, c1, kind, minSupport, shrinkage, outPtr, maskPtr);
  return STATUS_OK;
}

/**
 * Similarity rows for the key rows listed at rowsPtr (queries: a movie, a batch of users): for
 * each, the accumulation over every rater's whole row, the finalize into out (row r at
 * out + 4·r·nCols when `dense` ≠ 0, else the same nCols floats reused), its own column set to 1,
 * and — when k > 0 — its k best positive similarities (itself excluded) at outIdx/outScore + 4·r·k.
 * maskPtr (u8[nCols]) is scratch, needed when k > 0.
 */
export function similarityRows(
  rowsPtr: usize, nRows: i32, keyPtrPtr: usize, keyOtherPtr: usize, keyCrossPtr: usize, nKeys: i32,
  otherPtrPtr: usize, otherIdxPtr: usize, otherValPtr: usize, nOther: i32, nCols: i32,
  kind: i32, minSupport: f64, shrinkage: f64,
  accPtr: usize, outPtr: usize, dense: i32, maskPtr: usize, k: i32, outIdxPtr: usize, outScorePtr: usize, simd: i32,
): i32 {
  let status = checkPtr(rowsPtr, 4) | checkPtr(keyPtrPtr, 4) | checkPtr(outPtr, 4) | checkCount(nRows) | checkCount(nKeys) | checkCount(k);
  if (status != STATUS_OK) return status;
  if (k > 0) status = checkPtr(maskPtr, 1) | checkPtr(outIdxPtr, 4) | checkPtr(outScorePtr, 4);
  if (status != STATUS_OK) return status;
  status = checkKind(kind, minSupport, shrinkage);
  if (status != STATUS_OK) return status;
  const layout = layoutOfKind(kind);
  status = checkAccumulateArgs(keyOtherPtr, keyCrossPtr, 0, otherPtrPtr, otherIdxPtr, otherValPtr, nOther, nCols, layout, accPtr);
  if (status != STATUS_OK) return status;
  for (let r = 0; r < nRows; r++) {
    const x = load<i32>(rowsPtr + (<usize>r << 2));
    if (<u32>x >= <u32>nKeys) return STATUS_INDEX_OUT_OF_RANGE;
    status = accumulateKeyRow(x, keyPtrPtr, keyOtherPtr, keyCrossPtr, otherPtrPtr, otherIdxPtr, otherValPtr, nOther, nCols, layout, false, accPtr, simd != 0);
    if (status != STATUS_OK) return status;
    const row = dense != 0 ? outPtr + (<usize>r * <usize>nCols << 2) : outPtr;
    finalizeColumns(accPtr, 0, nCols, kind, minSupport, shrinkage, row, k > 0 ? maskPtr : 0);
    if (x < nCols) {
      store<f32>(row + (<usize>x << 2), 1);
      if (k > 0) store<u8>(maskPtr + <usize>x, 1);
    }
    if (k > 0) {
      const slot = <usize>r * <usize>k << 2;
      status = topN(row, nCols, maskPtr, k, outIdxPtr + slot, outScorePtr + slot);
      if (status != STATUS_OK) return status;
    }
  }
  return STATUS_OK;
}

/** The accumulation of key row x (its entries keyPtr[x] .. keyPtr[x+1]). */
function accumulateKeyRow(
  x: i32, keyPtrPtr: usize, keyOtherPtr: usize, keyCrossPtr: usize,
  otherPtrPtr: usize, otherIdxPtr: usize, otherValPtr: usize, nOther: i32, nCols: i32,
  layout: i32, upper: bool, accPtr: usize, simd: bool,
): i32 {
  const start = load<i32>(keyPtrPtr + (<usize>x << 2));
  const end = load<i32>(keyPtrPtr + (<usize>x << 2), 4);
  if (start < 0 || end < start) return STATUS_INDEX_OUT_OF_RANGE;
  const at = <usize>start << 2;
  return accumulate(keyOtherPtr + at, keyCrossPtr + at, end - start,
    otherPtrPtr, otherIdxPtr, otherValPtr, nOther, nCols, layout, upper, accPtr, simd);
}

/** Offset of pair (i, j), i < j, in the packed upper triangle of an n × n matrix. */
// @ts-ignore: decorator
@inline export function tri(i: usize, j: usize, n: usize): usize {
  return i * n - ((i * (i + 1)) >> 1) + (j - i - 1);
}

/**
 * The upper triangle of the similarity matrix, rows r0..r1−1 (one task of a row range, for all
 * rows of a symmetric problem: key rows and columns are the same set, n of them): each row
 * accumulates only the columns after it and writes sim(i, j), j > i, at tri + 4·t(i, j).
 */
export function similarityUpper(
  r0: i32, r1: i32, keyPtrPtr: usize, keyOtherPtr: usize, keyCrossPtr: usize,
  otherPtrPtr: usize, otherIdxPtr: usize, otherValPtr: usize, nOther: i32, n: i32,
  kind: i32, minSupport: f64, shrinkage: f64, accPtr: usize, triPtr: usize, simd: i32,
): i32 {
  let status = checkPtr(keyPtrPtr, 4) | checkPtr(triPtr, 4) | checkKind(kind, minSupport, shrinkage);
  if (status != STATUS_OK) return status;
  const layout = layoutOfKind(kind);
  status = checkAccumulateArgs(keyOtherPtr, keyCrossPtr, 0, otherPtrPtr, otherIdxPtr, otherValPtr, nOther, n, layout, accPtr);
  if (status != STATUS_OK) return status;
  if (r0 < 0 || r1 < r0 || r1 > n) return STATUS_INDEX_OUT_OF_RANGE;
  for (let i = r0; i < r1; i++) {
    status = accumulateKeyRow(i, keyPtrPtr, keyOtherPtr, keyCrossPtr, otherPtrPtr, otherIdxPtr, otherValPtr, nOther, n, layout, true, accPtr, simd != 0);
    if (status != STATUS_OK) return status;
    // Column c of this row lands at t(i, c) = rowBase + c.
    const rowBase = triPtr + ((tri(<usize>i, <usize>i + 1, <usize>n) - <usize>i - 1) << 2);
    finalizeColumns(accPtr, i + 1, n, kind, minSupport, shrinkage, rowBase, 0);
  }
  return STATUS_OK;
}

/** Columns at the end of a row whose k-th best bounds the row's k-th best from below (topNAbove). */
const PROBE_COLUMNS = 512;

/**
 * topN of a row whose mask may be changed: the k-th best of the last PROBE_COLUMNS columns is no
 * better than the row's k-th best, so columns below it are masked first; the heap then sees only
 * the few columns that can make the list. Same result as topN. When the columns run in ascending
 * order of rating count (as the similarity layout numbers movies), the best neighbours tend to come
 * last, where a plain scan would replace the heap's root at almost every column.
 */
function topNAbove(rowPtr: usize, n: i32, maskPtr: usize, k: i32, outIdxPtr: usize, outScorePtr: usize): i32 {
  if (n > 2 * PROBE_COLUMNS && k <= PROBE_COLUMNS / 4) {
    const from = n - PROBE_COLUMNS;
    const st = topN(rowPtr + (<usize>from << 2), PROBE_COLUMNS, maskPtr + <usize>from, k, outIdxPtr, outScorePtr);
    if (st != STATUS_OK) return st;
    if (load<i32>(outIdxPtr + (<usize>(k - 1) << 2)) >= 0) {
      const floor = load<f32>(outScorePtr + (<usize>(k - 1) << 2));
      for (let j = 0; j < n; j++) {
        if (load<f32>(rowPtr + (<usize>j << 2)) < floor) store<u8>(maskPtr + <usize>j, 1);
      }
    }
  }
  return topN(rowPtr, n, maskPtr, k, outIdxPtr, outScorePtr);
}

/** Rows triangleTopK assembles at once: column reads of the triangle come a cache line at a time. */
export const TOPK_BLOCK = 16;

/**
 * Each row's k best positive similarities from the packed upper triangle (rows r0..r1−1 of n).
 * Rows are assembled TOPK_BLOCK at a time into rows (f32[TOPK_BLOCK × n] scratch), row i from
 * column i above the diagonal (t(j, i), j < i; for the block's rows these are TOPK_BLOCK adjacent
 * floats per j) and from row i after it (t(i, j), j > i); mask (u8[TOPK_BLOCK × n]) is scratch.
 * Results at outIdx/outScore + 4·(i − r0)·k, best first, −1 / NaN past the last one found.
 */
export function triangleTopK(
  r0: i32, r1: i32, n: i32, triPtr: usize, rowsPtr: usize, maskPtr: usize, k: i32, outIdxPtr: usize, outScorePtr: usize,
): i32 {
  const status = checkPtr(triPtr, 4) | checkPtr(rowsPtr, 4) | checkPtr(maskPtr, 1) | checkPtr(outIdxPtr, 4) |
    checkPtr(outScorePtr, 4) | checkCount(n) | checkCount(k);
  if (status != STATUS_OK) return status;
  if (r0 < 0 || r1 < r0 || r1 > n) return STATUS_INDEX_OUT_OF_RANGE;
  const nn = <usize>n;
  for (let b0 = r0; b0 < r1; b0 += TOPK_BLOCK) {
    const rows = <usize>min(TOPK_BLOCK, r1 - b0);
    const first = <usize>b0;
    // Columns j < b0: t(j, b0 + b) = t(j, b0) + b; t(0, b0) = b0 − 1, and from j to j + 1 the
    // offset grows by n − j − 2.
    let t: usize = first >= 1 ? first - 1 : 0;
    for (let j: usize = 0; j < first; j++) {
      const src = triPtr + (t << 2);
      for (let b: usize = 0; b < rows; b++) {
        const s = load<f32>(src + (b << 2));
        store<f32>(rowsPtr + ((b * nn + j) << 2), s);
        store<u8>(maskPtr + b * nn + j, s > 0 ? 0 : 1);
      }
      t += nn - j - 2;
    }
    for (let b: usize = 0; b < rows; b++) {
      const i = first + b;
      const row = rowsPtr + ((b * nn) << 2);
      const mask = maskPtr + b * nn;
      // Columns inside the block before i, the diagonal, then row i of the triangle.
      for (let j = first; j < i; j++) {
        const s = load<f32>(triPtr + (tri(j, i, nn) << 2));
        store<f32>(row + (j << 2), s);
        store<u8>(mask + j, s > 0 ? 0 : 1);
      }
      store<f32>(row + (i << 2), 0);
      store<u8>(mask + i, 1);
      const rowBase = triPtr + ((tri(i, i + 1, nn) - i - 1) << 2);
      for (let j = i + 1; j < nn; j++) {
        const s = load<f32>(rowBase + (j << 2));
        store<f32>(row + (j << 2), s);
        store<u8>(mask + j, s > 0 ? 0 : 1);
      }
      const slot = (i - <usize>r0) * <usize>k << 2;
      const st = topNAbove(row, n, mask, k, outIdxPtr + slot, outScorePtr + slot);
      if (st != STATUS_OK) return st;
    }
  }
  return STATUS_OK;
}
