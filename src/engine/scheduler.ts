/**
 * LIBMF's block scheduler (FPSGD; Zhuang et al. 2013). The ratings are cut into bins × bins blocks
 * (grid.ts); a block is free when no running task holds its row bin (users) or its column bin
 * (movies). Two free blocks touch disjoint rows of P and Q, so workers update the factors in the
 * one shared memory without locks.
 *
 * An epoch runs every non-empty block exactly once: whenever a worker is idle it gets a seeded
 * random block among the free ones not yet run this epoch. With one thread this is a seeded
 * random permutation of the blocks: bit-identical runs for a seed.
 */
import type { Rng } from "../data/rng.js";

export interface BlockGrid {
  bins: number;
  /** bins² + 1 offsets: block b holds ratings blockStart[b] .. blockStart[b+1]. */
  blockStart: Uint32Array;
}

/**
 * Runs `runBlock` once on every non-empty block (of the given row bins, or all), at most `threads`
 * at a time and never two that share a row or column bin. Resolves with the sum of the blocks'
 * results; the first failure rejects at once (blocks still running are left to finish on their own).
 */
export function runEpoch(
  grid: BlockGrid,
  threads: number,
  rng: Rng,
  runBlock: (start: number, end: number) => Promise<number>,
  shouldStop: () => boolean = () => false,
  rows: readonly number[] | null = null,
): Promise<number> {
  const { bins, blockStart } = grid;
  const pending: number[] = [];
  for (const row of rows ?? Array.from({ length: bins }, (_, r) => r)) {
    for (let b = row * bins; b < (row + 1) * bins; b++) if (blockStart[b + 1]! > blockStart[b]!) pending.push(b);
  }
  const rowBusy = new Uint8Array(bins);
  const colBusy = new Uint8Array(bins);
  let running = 0;
  let total = 0;
  let settled = false;

  return new Promise<number>((resolve, reject) => {
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      reject(err);
    };
    const pump = () => {
      if (settled) return;
      if (shouldStop()) return fail(new StopRequested());
      while (running < threads && pending.length > 0) {
        const free: number[] = [];
        for (let k = 0; k < pending.length; k++) {
          const b = pending[k]!;
          if (!rowBusy[Math.floor(b / bins)] && !colBusy[b % bins]) free.push(k);
        }
        if (free.length === 0) break;
        const k = free[rng.int(free.length)]!;
        const b = pending[k]!;
        pending[k] = pending[pending.length - 1]!;
        pending.pop();
        const row = Math.floor(b / bins);
        const col = b % bins;
        rowBusy[row] = 1;
        colBusy[col] = 1;
        running++;
        let result: Promise<number>;
        try {
          result = runBlock(blockStart[b]!, blockStart[b + 1]!);
        } catch (err) {
          return fail(err);
        }
        result.then((sse) => {
          total += sse;
          rowBusy[row] = 0;
          colBusy[col] = 0;
          running--;
          pump();
        }, fail);
      }
      if (pending.length === 0 && running === 0 && !settled) {
        settled = true;
        resolve(total);
      }
    };
    pump();
  });
}

/** Raised inside an epoch when the caller asked to stop (Ctrl-C). */
export class StopRequested extends Error {
  constructor() {
    super("training was interrupted");
    this.name = "StopRequested";
  }
}
