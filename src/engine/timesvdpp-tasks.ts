/**
 * timeSVD++'s rating updates of one grid block as an engine-pool task (see handlers.ts and
 * assembly/timesvdpp.ts). The message is numbers only: the layout of the ratings and the model
 * (byte offsets and counts), μ, and the block's rating range. The learning rates and
 * regularizations are not in it: they sit in the `hyper` region, which the training loop writes
 * between epochs, while no task runs, and every task of the epoch reads.
 */
import type { Region } from "../abi/arena.js";
import type { Engine, TimeCoo, TimeSvdppModel } from "../abi/kernels.js";
import type { Handler, Task } from "./handlers.js";

/** What a block task needs besides its range: the grid ratings, the model, Z, μ and the hyperparameter region. */
export interface TimeSvdppLayout {
  data: TimeCoo;
  model: Omit<TimeSvdppModel, "Y">;
  Z: Region<"f32">;
  mu: number;
  hyper: Region<"f32">;
}

const i32 = (ptr: number, length: number): Region<"i32"> => ({ ptr, length, dtype: "i32" });
const f32 = (ptr: number, length: number): Region<"f32"> => ({ ptr, length, dtype: "f32" });

/** The layout as numbers, in the order layoutOf reads them. */
function layoutArgs(l: TimeSvdppLayout): number[] {
  const { data, model: m } = l;
  return [
    data.user.ptr, data.movie.ptr, data.rating.ptr, data.day.ptr, data.user.length,
    m.nUsers, m.nMovies, m.nDays, m.nBins, m.stride,
    m.P.ptr, m.AP.ptr, m.Q.ptr, m.bu.ptr, m.alpha.ptr, m.cu.ptr, m.bi.ptr, m.biBin.ptr, m.but.ptr, m.cut.ptr,
    m.dayBin.ptr, m.dayDev.ptr, l.Z.ptr, l.hyper.ptr, l.hyper.length, l.mu,
  ];
}

const LAYOUT_ARGS = 26;

function layoutOf(a: number[]): TimeSvdppLayout {
  const [
    userPtr, moviePtr, ratingPtr, dayPtr, n, nUsers, nMovies, nDays, nBins, stride,
    pPtr, apPtr, qPtr, buPtr, alphaPtr, cuPtr, biPtr, biBinPtr, butPtr, cutPtr, dayBinPtr, dayDevPtr, zPtr, hyperPtr, nHyper, mu,
  ] = a as number[] as [
    number, number, number, number, number, number, number, number, number, number, number, number, number,
    number, number, number, number, number, number, number, number, number, number, number, number, number,
  ];
  const users = nUsers * stride;
  return {
    data: { user: i32(userPtr, n), movie: i32(moviePtr, n), rating: f32(ratingPtr, n), day: i32(dayPtr, n) },
    model: {
      nUsers, nMovies, nDays, nBins, stride,
      P: f32(pPtr, users), AP: f32(apPtr, users), Q: f32(qPtr, nMovies * stride),
      bu: f32(buPtr, nUsers), alpha: f32(alphaPtr, nUsers), cu: f32(cuPtr, nUsers),
      bi: f32(biPtr, nMovies), biBin: f32(biBinPtr, nMovies * nBins), but: f32(butPtr, nDays), cut: f32(cutPtr, nDays),
      dayBin: i32(dayBinPtr, nDays), dayDev: f32(dayDevPtr, nDays),
    },
    Z: f32(zPtr, users),
    hyper: f32(hyperPtr, nHyper),
    mu,
  };
}

/** The rating updates of ratings start..end (one grid block). */
export function timeSvdppBlockTask(l: TimeSvdppLayout, start: number, end: number): Task {
  return { op: "timeSvdppBlock", args: [...layoutArgs(l), start, end] };
}

export const TIME_SVDPP_HANDLERS: Record<string, Handler> = {
  /** args: layout (26), start, end → sse of the pass. */
  timeSvdppBlock(engine: Engine, a: number[]) {
    const { data, model, Z, mu, hyper } = layoutOf(a);
    const [start, end] = a.slice(LAYOUT_ARGS) as [number, number];
    return engine.timeSvdppBlock(data, model, Z, { mu, hyper }, { start, end });
  },
};
