/**
 * SVD++'s and timeSVD++'s grid passes as engine-pool tasks (see handlers.ts and
 * assembly/implicit.ts): the implicit sums and the y-step deltas of a user range, the y_j
 * scatter of a block column (a list of rating ranges), and SVD++'s rating updates of one block.
 * A task's message is numbers only, from which the handler rebuilds the regions.
 */
import type { Region } from "../abi/arena.js";
import type { Coo, Engine, ImplicitState } from "../abi/kernels.js";
import type { Handler, Task } from "./handlers.js";

/** The grid ratings' user and movie columns and the implicit state, as byte offsets and counts. */
export interface ImplicitLayout {
  data: Pick<Coo, "user" | "movie">;
  state: ImplicitState;
}

const i32 = (ptr: number, length: number): Region<"i32"> => ({ ptr, length, dtype: "i32" });
const f32 = (ptr: number, length: number): Region<"f32"> => ({ ptr, length, dtype: "f32" });

const LAYOUT_ARGS = 12;

export function implicitArgs(l: ImplicitLayout): number[] {
  const { data, state: s } = l;
  return [
    data.user.ptr, data.movie.ptr, data.user.length, s.nUsers, s.nMovies, s.stride,
    s.count.ptr, s.keep.ptr, s.Y.ptr, s.Z.ptr, s.Z0.ptr, s.P?.ptr ?? 0,
  ];
}

function layoutOf(a: number[]): ImplicitLayout {
  const [userPtr, moviePtr, n, nUsers, nMovies, stride, countPtr, keepPtr, yPtr, zPtr, z0Ptr, pPtr] = a as [
    number, number, number, number, number, number, number, number, number, number, number, number,
  ];
  const rows = nUsers * stride;
  return {
    data: { user: i32(userPtr, n), movie: i32(moviePtr, n) },
    state: {
      nUsers, nMovies, stride,
      count: i32(countPtr, nUsers), keep: f32(keepPtr, nUsers), Y: f32(yPtr, nMovies * stride),
      Z: f32(zPtr, rows), Z0: f32(z0Ptr, rows), P: pPtr ? f32(pPtr, rows) : undefined,
    },
  };
}

/** z_u (and z0_u) for users u0..u1−1 from ratings start..end; with outPtr ≠ 0, out_u = p_u + z_u too. */
export function sumsTask(l: ImplicitLayout, u0: number, u1: number, start: number, end: number, outPtr = 0): Task {
  return { op: "implicitSums", args: [...implicitArgs(l), u0, u1, start, end, outPtr] };
}

export function deltaTask(l: ImplicitLayout, u0: number, u1: number, keepY: number): Task {
  return { op: "implicitDelta", args: [...implicitArgs(l), u0, u1, keepY] };
}

/** The y_j scatter over rating ranges [start, end) given as pairs, in order. */
export function scatterTask(l: ImplicitLayout, ranges: [number, number][]): Task {
  return { op: "implicitScatter", args: [...implicitArgs(l), ...ranges.flat()] };
}

export const IMPLICIT_HANDLERS: Record<string, Handler> = {
  /** args: layout (12), u0, u1, start, end, outPtr → 0. */
  implicitSums(engine: Engine, a: number[]) {
    const { data, state } = layoutOf(a);
    const [u0, u1, start, end, outPtr] = a.slice(LAYOUT_ARGS) as [number, number, number, number, number];
    engine.implicitSums(data, state, [u0, u1], { start, end, out: outPtr ? f32(outPtr, state.nUsers * state.stride) : undefined });
    return 0;
  },
  /** args: layout (12), u0, u1, keepY → 0. */
  implicitDelta(engine: Engine, a: number[]) {
    const { state } = layoutOf(a);
    const [u0, u1, keepY] = a.slice(LAYOUT_ARGS) as [number, number, number];
    engine.implicitDelta(state, [u0, u1], keepY);
    return 0;
  },
  /** args: layout (12), then start, end pairs → 0. */
  implicitScatter(engine: Engine, a: number[]) {
    const { data, state } = layoutOf(a);
    const ranges = a.slice(LAYOUT_ARGS);
    for (let k = 0; k + 1 < ranges.length; k += 2) engine.implicitScatter(data, state, { start: ranges[k]!, end: ranges[k + 1]! });
    return 0;
  },
};
