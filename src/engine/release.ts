/**
 * Returning a finished training run's memory before building anything else.
 *
 * A training run holds its ratings and factors in one shared WebAssembly memory (12 bytes per
 * rating: 1.1 GB for the Netflix set). When training ends that memory is unreachable, but V8 frees
 * a shared buffer only at its next full garbage collection, which may come after the next large
 * allocation (the seen-movie lists, another model's training) — and the two then add up in the
 * process's memory. One explicit collection at that point keeps the peak at the training's own.
 */
import v8 from "node:v8";
import vm from "node:vm";

let collect: (() => void) | null = null;

export function releaseUnusedMemory(): void {
  if (!collect) {
    // `gc` exists only with --expose-gc; the flag can be set at run time for new contexts.
    v8.setFlagsFromString("--expose-gc");
    collect = vm.runInNewContext("gc") as () => void;
  }
  collect();
}
