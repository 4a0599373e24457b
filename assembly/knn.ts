// Neighbourhood aggregation for k-NN prediction (Surprise's KNNBasic / KNNWithMeans / KNNBaseline
// estimate; Koren 2010 §3, eq. 3):
//
//   for a query x (a movie for item-based, a user for user-based) with similarities sim(x, ·), and
//   each listed row y (the user, resp. the movie, of a pair to predict) whose candidates are the
//   entries (z, v_z) of row y of a CSR (the movies the user rated, resp. the users who rated the
//   movie, with values v the host prepared: ratings, or ratings minus means / baselines):
//
//     N = the k candidates with the highest sim(x, z) among those with sim(x, z) > 0
//     num = Σ_{z∈N} sim(x, z) · v_z,   den = Σ_{z∈N} sim(x, z),   count = |N|
//
//   and the host forms  r̂ = base + num / den  (or its fallback when count < minK).
//   A later candidate replaces a kept one only with a strictly higher similarity; among equal
//   similarities at the cut-off, which ones stay is unspecified.
//
// Pointers (byte offsets)
//   sim      : f32[nSim]       read   similarity of the query to every candidate id
//   candPtr  : i32[nY + 1]     read   row offsets of the candidate CSR
//   candIdx  : i32[nnz]        read   candidate ids (< nSim)
//   candVal  : f32[nnz]        read   candidate values
//   ys       : i32[n]          read   the row of each pair (< nY)
//   heapSim, heapVal : f32[k]  scratch
//   outNum, outDen   : f64[n]  written
//   outCount         : i32[n]  written
//
// One path: a bounded min-heap per pair is a chain of dependent compares, not vectorizable.
// Concurrency: writes only the scratch and its out slots; everything else is read-only.
import { STATUS_INDEX_OUT_OF_RANGE, STATUS_OK } from "./status";
import { checkCount, checkPtr } from "./check";

/** Restores the min-heap (smallest similarity at the root) below slot 0 of a heap of `size`. */
function siftDown(simPtr: usize, valPtr: usize, size: i32): void {
  const s = load<f32>(simPtr);
  const v = load<f32>(valPtr);
  let hole = 0;
  while (true) {
    let child = 2 * hole + 1;
    if (child >= size) break;
    let cs = load<f32>(simPtr + (<usize>child << 2));
    const right = child + 1;
    if (right < size) {
      const rs = load<f32>(simPtr + (<usize>right << 2));
      if (rs < cs) {
        child = right;
        cs = rs;
      }
    }
    if (s <= cs) break;
    store<f32>(simPtr + (<usize>hole << 2), cs);
    store<f32>(valPtr + (<usize>hole << 2), load<f32>(valPtr + (<usize>child << 2)));
    hole = child;
  }
  store<f32>(simPtr + (<usize>hole << 2), s);
  store<f32>(valPtr + (<usize>hole << 2), v);
}

export function knnAggregate(
  simPtr: usize, nSim: i32, candPtrPtr: usize, candIdxPtr: usize, candValPtr: usize, nY: i32,
  ysPtr: usize, n: i32, k: i32, heapSimPtr: usize, heapValPtr: usize,
  outNumPtr: usize, outDenPtr: usize, outCountPtr: usize,
): i32 {
  let status = checkPtr(simPtr, 4) | checkPtr(candPtrPtr, 4) | checkPtr(candIdxPtr, 4) | checkPtr(candValPtr, 4) |
    checkPtr(ysPtr, 4) | checkPtr(heapSimPtr, 4) | checkPtr(heapValPtr, 4) |
    checkPtr(outNumPtr, 8) | checkPtr(outDenPtr, 8) | checkPtr(outCountPtr, 4);
  if (status != STATUS_OK) return status;
  status = checkCount(nSim) | checkCount(nY) | checkCount(n) | checkCount(k);
  if (status != STATUS_OK) return status;
  for (let t = 0; t < n; t++) {
    const y = load<i32>(ysPtr + (<usize>t << 2));
    if (<u32>y >= <u32>nY) return STATUS_INDEX_OUT_OF_RANGE;
    const start = load<i32>(candPtrPtr + (<usize>y << 2));
    const end = load<i32>(candPtrPtr + (<usize>y << 2), 4);
    let size = 0;
    for (let e = start; e < end; e++) {
      const z = load<i32>(candIdxPtr + (<usize>e << 2));
      if (<u32>z >= <u32>nSim) return STATUS_INDEX_OUT_OF_RANGE;
      const s = load<f32>(simPtr + (<usize>z << 2));
      if (!(s > 0)) continue;
      const v = load<f32>(candValPtr + (<usize>e << 2));
      if (size < k) {
        // Sift up from the new leaf while the parent is larger.
        let hole = size++;
        while (hole > 0) {
          const parent = (hole - 1) >> 1;
          const ps = load<f32>(heapSimPtr + (<usize>parent << 2));
          if (ps <= s) break;
          store<f32>(heapSimPtr + (<usize>hole << 2), ps);
          store<f32>(heapValPtr + (<usize>hole << 2), load<f32>(heapValPtr + (<usize>parent << 2)));
          hole = parent;
        }
        store<f32>(heapSimPtr + (<usize>hole << 2), s);
        store<f32>(heapValPtr + (<usize>hole << 2), v);
      } else if (k > 0 && s > load<f32>(heapSimPtr)) {
        store<f32>(heapSimPtr, s);
        store<f32>(heapValPtr, v);
        siftDown(heapSimPtr, heapValPtr, k);
      }
    }
    let num: f64 = 0;
    let den: f64 = 0;
    for (let h = 0; h < size; h++) {
      const s = <f64>load<f32>(heapSimPtr + (<usize>h << 2));
      num += s * <f64>load<f32>(heapValPtr + (<usize>h << 2));
      den += s;
    }
    store<f64>(outNumPtr + (<usize>t << 3), num);
    store<f64>(outDenPtr + (<usize>t << 3), den);
    store<i32>(outCountPtr + (<usize>t << 2), size);
  }
  return STATUS_OK;
}
