// Top-k selection over a score vector (recommend): the k best-scoring entries not excluded, best
// first; equal scores rank the lower index first; NaN ranks below every number.
//
// A bounded min-heap of the k best so far lives in the output arrays themselves (its root is
// the worst kept entry), so the pass is O(n log k) with no scratch memory; a heap sort then
// orders the kept entries best first.
//
// Pointers (byte offsets)
//   scores  : f32[n]      read
//   exclude : u8[n]       read, optional (0 = none): a non-zero byte excludes that index
//   outIdx  : i32[k]      written: indices best first; −1 in slots beyond the number found
//   outScore: f32[k]      written: their scores; NaN in slots beyond the number found
//
// Concurrency: read-only on scores/exclude; the out regions belong to this call.
import { STATUS_OK } from "./status";
import { checkCount, checkOptionalPtr, checkPtr } from "./check";

/** Whether entry (sa, ia) ranks above entry (sb, ib). */
// @ts-ignore: decorator
@inline function better(sa: f32, ia: i32, sb: f32, ib: i32): bool {
  if (sa > sb) return true;
  if (sa < sb) return false;
  const aNaN = sa != sa;
  const bNaN = sb != sb;
  if (aNaN != bNaN) return bNaN;
  return ia < ib;
}

/** Restores the heap property (worst at the root) below slot `at` of a heap of `size` entries. */
function siftDown(idxPtr: usize, scorePtr: usize, at: i32, size: i32): void {
  const s = load<f32>(scorePtr + (<usize>at << 2));
  const ix = load<i32>(idxPtr + (<usize>at << 2));
  let hole = at;
  while (true) {
    let child = 2 * hole + 1;
    if (child >= size) break;
    let cs = load<f32>(scorePtr + (<usize>child << 2));
    let ci = load<i32>(idxPtr + (<usize>child << 2));
    const right = child + 1;
    if (right < size) {
      const rs = load<f32>(scorePtr + (<usize>right << 2));
      const ri = load<i32>(idxPtr + (<usize>right << 2));
      if (better(cs, ci, rs, ri)) {
        child = right;
        cs = rs;
        ci = ri;
      }
    }
    if (!better(s, ix, cs, ci)) break;
    store<f32>(scorePtr + (<usize>hole << 2), cs);
    store<i32>(idxPtr + (<usize>hole << 2), ci);
    hole = child;
  }
  store<f32>(scorePtr + (<usize>hole << 2), s);
  store<i32>(idxPtr + (<usize>hole << 2), ix);
}

export function topN(scoresPtr: usize, n: i32, excludePtr: usize, k: i32, outIdxPtr: usize, outScorePtr: usize): i32 {
  let status = checkPtr(scoresPtr, 4) | checkOptionalPtr(excludePtr, 1) | checkPtr(outIdxPtr, 4) | checkPtr(outScorePtr, 4);
  if (status != STATUS_OK) return status;
  status = checkCount(n) | checkCount(k);
  if (status != STATUS_OK) return status;
  let size = 0;
  for (let i = 0; i < n; i++) {
    if (excludePtr != 0 && load<u8>(excludePtr + <usize>i) != 0) continue;
    const s = load<f32>(scoresPtr + (<usize>i << 2));
    if (size < k) {
      // Append, then sift up towards the root while the parent ranks above the new entry.
      let hole = size++;
      while (hole > 0) {
        const parent = (hole - 1) >> 1;
        const ps = load<f32>(outScorePtr + (<usize>parent << 2));
        const pi = load<i32>(outIdxPtr + (<usize>parent << 2));
        if (!better(ps, pi, s, i)) break;
        store<f32>(outScorePtr + (<usize>hole << 2), ps);
        store<i32>(outIdxPtr + (<usize>hole << 2), pi);
        hole = parent;
      }
      store<f32>(outScorePtr + (<usize>hole << 2), s);
      store<i32>(outIdxPtr + (<usize>hole << 2), i);
    } else if (k > 0 && better(s, i, load<f32>(outScorePtr), load<i32>(outIdxPtr))) {
      store<f32>(outScorePtr, s);
      store<i32>(outIdxPtr, i);
      siftDown(outIdxPtr, outScorePtr, 0, k);
    }
  }
  // Heap sort: move the worst to the end repeatedly, leaving the kept entries best first.
  for (let end = size - 1; end > 0; end--) {
    const rootS = load<f32>(outScorePtr);
    const rootI = load<i32>(outIdxPtr);
    store<f32>(outScorePtr, load<f32>(outScorePtr + (<usize>end << 2)));
    store<i32>(outIdxPtr, load<i32>(outIdxPtr + (<usize>end << 2)));
    store<f32>(outScorePtr + (<usize>end << 2), rootS);
    store<i32>(outIdxPtr + (<usize>end << 2), rootI);
    siftDown(outIdxPtr, outScorePtr, 0, end);
  }
  for (let j = size; j < k; j++) {
    store<f32>(outScorePtr + (<usize>j << 2), NaN);
    store<i32>(outIdxPtr + (<usize>j << 2), -1);
  }
  return STATUS_OK;
}
