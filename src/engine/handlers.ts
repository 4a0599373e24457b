/**
 * Named task handlers, run by the engine's worker threads (worker.ts) and — for the one-thread,
 * deterministic mode — by the main thread itself, so both modes execute the same code.
 *
 * A handler gets the thread's Engine and the task's numbers, rebuilds the regions it needs from
 * byte offsets and lengths, calls a kernel wrapper (which validates and checks status codes) and
 * returns one number.
 */
import type { Coo, Engine, FactorModel } from "../abi/kernels.js";
import { IMPLICIT_HANDLERS } from "./implicit-tasks.js";
import { SIMILARITY_HANDLERS } from "./similarity-tasks.js";
import { TIME_SVDPP_HANDLERS } from "./timesvdpp-tasks.js";

export interface Task {
  op: string;
  args: number[];
}

export type Handler = (engine: Engine, args: number[]) => number;

/** The layout of an SGD problem in the shared memory, as numbers (see sgdArgs). */
export interface SgdLayout {
  userPtr: number;
  moviePtr: number;
  ratingPtr: number;
  n: number;
  nUsers: number;
  nMovies: number;
  stride: number;
  pPtr: number;
  qPtr: number;
  buPtr: number;
  biPtr: number;
}

const LAYOUT_FIELDS = ["userPtr", "moviePtr", "ratingPtr", "n", "nUsers", "nMovies", "stride", "pPtr", "qPtr", "buPtr", "biPtr"] as const;

export function layoutArgs(l: SgdLayout): number[] {
  return LAYOUT_FIELDS.map((f) => l[f]);
}

function regions(a: number[]): { coo: Coo; model: FactorModel } {
  const [userPtr, moviePtr, ratingPtr, n, nUsers, nMovies, stride, pPtr, qPtr, buPtr, biPtr] = a as [
    number, number, number, number, number, number, number, number, number, number, number,
  ];
  return {
    coo: {
      user: { ptr: userPtr, length: n, dtype: "i32" },
      movie: { ptr: moviePtr, length: n, dtype: "i32" },
      rating: { ptr: ratingPtr, length: n, dtype: "f32" },
    },
    model: {
      nUsers, nMovies, stride,
      P: { ptr: pPtr, length: nUsers * stride, dtype: "f32" },
      Q: { ptr: qPtr, length: nMovies * stride, dtype: "f32" },
      bu: { ptr: buPtr, length: nUsers, dtype: "f32" },
      bi: { ptr: biPtr, length: nMovies, dtype: "f32" },
    },
  };
}

export const HANDLERS: Record<string, Handler> = {
  ...SIMILARITY_HANDLERS,
  ...IMPLICIT_HANDLERS,
  ...TIME_SVDPP_HANDLERS,
  /** args: layout (11), mu, lrBu, lrBi, lrP, lrQ, regBu, regBi, regP, regQ, start, end → sse of the pass. */
  sgd(engine, a) {
    const { coo, model } = regions(a);
    const [mu, lrBu, lrBi, lrP, lrQ, regBu, regBi, regP, regQ, start, end] = a.slice(LAYOUT_FIELDS.length) as number[];
    return engine.sgdEpoch(coo, model, { mu: mu!, lrBu: lrBu!, lrBi: lrBi!, lrP: lrP!, lrQ: lrQ!, regBu: regBu!, regBi: regBi!, regP: regP!, regQ: regQ! }, { start, end });
  },
  /** args: layout (11), zPtr, mu, lrBu, lrBi, lrP, lrQ, lrY, regBu, regBi, regP, regQ, regY, start, end → sse of the pass. */
  svdppBlock(engine, a) {
    const { coo, model } = regions(a);
    const [zPtr, mu, lrBu, lrBi, lrP, lrQ, lrY, regBu, regBi, regP, regQ, regY, start, end] = a.slice(LAYOUT_FIELDS.length) as number[];
    const Z = { ptr: zPtr!, length: model.nUsers * model.stride, dtype: "f32" as const };
    return engine.svdppBlock(coo, model, Z, {
      mu: mu!, lrBu: lrBu!, lrBi: lrBi!, lrP: lrP!, lrQ: lrQ!, lrY: lrY!, regBu: regBu!, regBi: regBi!, regP: regP!, regQ: regQ!, regY: regY!,
    }, { start, end });
  },
  /** args: layout (11), mu, lo, hi, start, end → Σ (r − clip(r̂))² over ratings start..end. */
  sse(engine, a) {
    const { coo, model } = regions(a);
    const [mu, lo, hi, start, end] = a.slice(LAYOUT_FIELDS.length) as number[];
    return engine.sse(coo, model, { mu: mu!, lo: lo!, hi: hi! }, { start, end });
  },
  /** Raises env.abort inside the module: lets tests prove a failing worker surfaces as an error. */
  abortProbe(engine) {
    engine.exports.abortProbe();
    return 0;
  },
};
