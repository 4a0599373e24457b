// The ABI: the single export list of the engine. Every kernel takes byte offsets into the shared
// memory (`...Ptr`), counts (`n...`) and scalars, and returns an i32 status from ./status.
// Each kernel file's header gives its equations, pointer shapes and concurrency precondition.
import { ABI_VERSION } from "./status";

export { vecDot, vecAxpy } from "./vec";
export { sgdEpoch } from "./sgd";
export { biasResidualSums, biasSolve } from "./baseline";
export { predictPairs, scoreUser, sse } from "./predict";
export { topN } from "./topn";
export { coAccumulate, similarityFinalize, similarityRows, similarityUpper, triangleTopK } from "./similarity";
export { knnAggregate } from "./knn";
export { slopeOneRows, slopeOnePredict } from "./slopeone";
export { svdppBlock, svdppUserVectors } from "./svdpp";
export { implicitDelta, implicitScatter, implicitSums } from "./implicit";
export { timeSvdppBlock, timeSvdppPredict } from "./timesvdpp";

export function abiVersion(): i32 {
  return ABI_VERSION;
}

/** First byte above the module's static data: the TypeScript arena starts here (16-byte aligned). */
export function heapBase(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}

/**
 * Calls env.abort with a message, file and line, as a failed assertion in a debug build would:
 * lets the host prove that an abort surfaces as an error and is never swallowed. (A plain
 * `abort(message)` carries no location and `throw` would allocate, so the location is spelled out.)
 */
export function abortProbe(): void {
  abort("abort probe", "assembly/index.ts", 27, 3);
}
