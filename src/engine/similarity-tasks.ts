/**
 * The similarity kernels as engine-pool tasks (see handlers.ts): a row range of the upper triangle
 * (`similarityUpper`), a row range of top-k lists read back from it (`triangleTopK`), a row
 * range of SlopeOne's deviation and count triangles (`slopeOneRows`), and the ALS baseline whose
 * residuals pearson-baseline correlates (`alsBiases`, fitted while the layout is built). A task's
 * message is numbers only — byte offsets, lengths, counts and parameters — from which the handler
 * rebuilds the regions and calls the Engine wrapper, which checks them again.
 */
import type { Region } from "../abi/arena.js";
import {
  SIMILARITY_KINDS, TOPK_BLOCK, type Coo, type CsrRegions, type Engine, type KeyCsrRegions, type SimilarityKind, type SimilarityParams,
} from "../abi/kernels.js";
import type { Handler, Task } from "./handlers.js";

/** A symmetric co-rating problem in the shared memory: key rows = columns = the n items. */
export interface TriangleLayout {
  key: KeyCsrRegions;
  other: CsrRegions;
  /** The packed upper triangle, n(n − 1)/2 floats. */
  tri: Region<"f32">;
}

const i32 = (ptr: number, length: number): Region<"i32"> => ({ ptr, length, dtype: "i32" });
const f32 = (ptr: number, length: number): Region<"f32"> => ({ ptr, length, dtype: "f32" });
const u8 = (ptr: number, length: number): Region<"u8"> => ({ ptr, length, dtype: "u8" });

function layoutArgs(l: TriangleLayout): number[] {
  const { key, other, tri } = l;
  return [
    key.nRows, key.nCols, key.ptr.ptr, key.idx.ptr, key.cross.ptr, key.idx.length,
    other.nRows, other.ptr.ptr, other.idx.ptr, other.val.ptr, tri.ptr,
  ];
}

const LAYOUT_ARGS = 11;

function layoutOf(a: number[]): TriangleLayout {
  const [n, nKeyCols, keyPtr, keyIdx, keyCross, nnz, otherRows, otherPtr, otherIdx, otherVal, triPtr] = a as number[] as [
    number, number, number, number, number, number, number, number, number, number, number,
  ];
  return {
    key: { nRows: n, nCols: nKeyCols, ptr: i32(keyPtr, n + 1), idx: i32(keyIdx, nnz), cross: i32(keyCross, nnz) },
    other: { nRows: otherRows, nCols: n, ptr: i32(otherPtr, otherRows + 1), idx: i32(otherIdx, nnz), val: f32(otherVal, nnz) },
    tri: f32(triPtr, (n * (n - 1)) / 2),
  };
}

/** Rows r0..r1−1 of the upper triangle; `accPtr` is the task's own zeroed accumulator scratch. */
export function upperTask(l: TriangleLayout, params: SimilarityParams, r0: number, r1: number, acc: Region<"f32">, simd = true): Task {
  return {
    op: "similarityUpper",
    args: [...layoutArgs(l), SIMILARITY_KINDS.indexOf(params.kind), params.minSupport, params.shrinkage, r0, r1, acc.ptr, acc.length, simd ? 1 : 0],
  };
}

/** Top-k lists of rows r0..r1−1, written at slot (i − r0)·k of the given regions. */
export function topKTask(
  l: TriangleLayout, r0: number, r1: number, k: number, rows: Region<"f32">, mask: Region<"u8">, idx: Region<"i32">, score: Region<"f32">,
): Task {
  return { op: "triangleTopK", args: [...layoutArgs(l), r0, r1, k, rows.ptr, mask.ptr, idx.ptr, score.ptr] };
}

/** SlopeOne rows r0..r1−1: deviations into l.tri, co-rating counts into `count` (both packed triangles). */
export function slopeOneTask(l: TriangleLayout, count: Region<"i32">, r0: number, r1: number, acc: Region<"f32">, simd = true): Task {
  return { op: "slopeOneRows", args: [...layoutArgs(l), count.ptr, r0, r1, acc.ptr, acc.length, simd ? 1 : 0] };
}

/** An ALS baseline problem in the shared memory, with each half-step's scratch (sums, counts). */
export interface AlsLayout {
  data: Coo;
  model: { nUsers: number; nMovies: number; bu: Region<"f32">; bi: Region<"f32"> };
  movieScratch: { sums: Region<"f64">; counts: Region<"i32"> };
  userScratch: { sums: Region<"f64">; counts: Region<"i32"> };
}

/** ALS settings with the mean rating they are fitted around. */
export interface AlsSettings {
  mu: number;
  epochs: number;
  regU: number;
  regI: number;
}

/**
 * `epochs` ALS epochs from the model's biases, each the movie half-step then the user half-step;
 * `onEpoch` is called after each epoch.
 */
export function alsEpochs(engine: Engine, l: AlsLayout, s: AlsSettings, onEpoch?: (epoch: number) => void): void {
  for (let epoch = 1; epoch <= s.epochs; epoch++) {
    engine.biasHalfStep("movie", l.data, l.model, { mu: s.mu, reg: s.regI }, l.movieScratch);
    engine.biasHalfStep("user", l.data, l.model, { mu: s.mu, reg: s.regU }, l.userScratch);
    onEpoch?.(epoch);
  }
}

/** The whole ALS fit as one task (epochs 0: a no-op that tells when the thread is ready). */
export function alsTask(l: AlsLayout, s: AlsSettings): Task {
  const { data, model, movieScratch: ms, userScratch: us } = l;
  return {
    op: "alsBiases",
    args: [
      data.user.ptr, data.movie.ptr, data.rating.ptr, data.user.length, model.nUsers, model.nMovies, model.bu.ptr, model.bi.ptr,
      ms.sums.ptr, ms.counts.ptr, us.sums.ptr, us.counts.ptr, s.mu, s.epochs, s.regU, s.regI,
    ],
  };
}

export const SIMILARITY_HANDLERS: Record<string, Handler> = {
  /** args: layout (11), kind, minSupport, shrinkage, r0, r1, accPtr, accLength, simd → 0. */
  similarityUpper(engine: Engine, a: number[]) {
    const l = layoutOf(a);
    const [kind, minSupport, shrinkage, r0, r1, accPtr, accLength, simd] = a.slice(LAYOUT_ARGS) as number[] as [
      number, number, number, number, number, number, number, number,
    ];
    const params = { kind: SIMILARITY_KINDS[kind] as SimilarityKind, minSupport, shrinkage };
    engine.similarityUpper(r0, r1, l.key, l.other, params, f32(accPtr, accLength), l.tri, { simd: simd !== 0 });
    return 0;
  },
  /** args: layout (11), r0, r1, k, rowsPtr, maskPtr, idxPtr, scorePtr → 0. */
  triangleTopK(engine: Engine, a: number[]) {
    const l = layoutOf(a);
    const [r0, r1, k, rowsPtr, maskPtr, idxPtr, scorePtr] = a.slice(LAYOUT_ARGS) as number[] as [
      number, number, number, number, number, number, number,
    ];
    const n = l.key.nRows;
    engine.triangleTopK(r0, r1, n, l.tri, { rows: f32(rowsPtr, TOPK_BLOCK * n), mask: u8(maskPtr, TOPK_BLOCK * n) }, {
      k, idx: i32(idxPtr, (r1 - r0) * k), score: f32(scorePtr, (r1 - r0) * k),
    });
    return 0;
  },
  /** args: layout (11), countPtr, r0, r1, accPtr, accLength, simd → 0. */
  slopeOneRows(engine: Engine, a: number[]) {
    const l = layoutOf(a);
    const [countPtr, r0, r1, accPtr, accLength, simd] = a.slice(LAYOUT_ARGS) as number[] as [number, number, number, number, number, number];
    const count = i32(countPtr, l.tri.length);
    engine.slopeOneRows(r0, r1, l.key, l.other, f32(accPtr, accLength), { dev: l.tri, count }, { simd: simd !== 0 });
    return 0;
  },
  /** args: user, movie, rating, n, nUsers, nMovies, bu, bi, movie sums, counts, user sums, counts, mu, epochs, regU, regI → 0. */
  alsBiases(engine: Engine, a: number[]) {
    const [user, movie, rating, n, nUsers, nMovies, bu, bi, mSums, mCounts, uSums, uCounts, mu, epochs, regU, regI] = a as number[] as [
      number, number, number, number, number, number, number, number, number, number, number, number, number, number, number, number,
    ];
    const l: AlsLayout = {
      data: { user: i32(user, n), movie: i32(movie, n), rating: f32(rating, n) },
      model: { nUsers, nMovies, bu: f32(bu, nUsers), bi: f32(bi, nMovies) },
      movieScratch: { sums: { ptr: mSums, length: nMovies, dtype: "f64" }, counts: i32(mCounts, nMovies) },
      userScratch: { sums: { ptr: uSums, length: nUsers, dtype: "f64" }, counts: i32(uCounts, nUsers) },
    };
    alsEpochs(engine, l, { mu, epochs, regU, regI });
    return 0;
  },
};
