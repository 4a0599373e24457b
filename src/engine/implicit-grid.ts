/**
 * The implicit-feedback passes of SVD++ and timeSVD++ on the block grid, run on the engine pool
 * (see assembly/implicit.ts for the equations). Each pass takes a set of user bins (a wave, see
 * implicitWaves in src/models/svdpp.ts) and is cut so that tasks write disjoint rows: the sums and
 * the deltas by user bin (a bin's users are contiguous rows, and its ratings the contiguous blocks
 * of its grid row), the y_j scatter by movie bin (the wave's blocks of a grid column, top to
 * bottom). Only the rating updates in between need LIBMF's scheduler. Every pass but those
 * updates gives the same bits on any number of threads.
 */
import type { Arena, Region } from "../abi/arena.js";
import type { ImplicitState } from "../abi/kernels.js";
import { deltaTask, scatterTask, sumsTask, type ImplicitLayout } from "./implicit-tasks.js";
import type { Rng } from "../data/rng.js";
import type { Task } from "./handlers.js";
import type { EnginePool } from "./pool.js";
import { runEpoch } from "./scheduler.js";
import type { GridLayout } from "./trainer.js";

/** Bytes of engine memory ImplicitGrid.allocate takes. */
export function implicitBytes(nUsers: number, stride: number): number {
  return 4 * nUsers * (2 * stride + 2);
}

export class ImplicitGrid {
  private constructor(
    private readonly pool: EnginePool,
    private readonly grid: GridLayout,
    readonly layout: ImplicitLayout,
  ) {}

  /**
   * The state for the grid's ratings: m_u counted from them, Z, Z0 and keep allocated; Y and P
   * (for the user vectors) are the model's regions.
   */
  static allocate(pool: EnginePool, arena: Arena, grid: GridLayout, nMovies: number, stride: number, Y: Region<"f32">, P: Region<"f32">): ImplicitGrid {
    const nUsers = grid.userRow.length;
    const count = arena.zeros("i32", nUsers);
    const counts = arena.view(count);
    for (const u of arena.view(grid.coo.user)) counts[u]!++;
    const state: ImplicitState = {
      nUsers, nMovies, stride, count, Y, P,
      keep: arena.zeros("f32", nUsers),
      Z: arena.zeros("f32", nUsers * stride),
      Z0: arena.zeros("f32", nUsers * stride),
    };
    return new ImplicitGrid(pool, grid, { data: { user: grid.coo.user, movie: grid.coo.movie }, state });
  }

  get Z(): Region<"f32"> {
    return this.layout.state.Z;
  }

  /**
   * One epoch over the waves, in a seeded random order: for each wave, the users' sums, its blocks
   * under LIBMF's scheduler (`runBlock`), then its y-steps with lrY and regY. Returns the blocks' sse.
   */
  async epoch(
    waves: readonly number[][], rng: Rng, runBlock: (start: number, end: number) => Promise<number>, stop: () => boolean,
    lrY: number, regY: number,
  ): Promise<number> {
    let sse = 0;
    for (const w of rng.permutation(waves.length)) {
      const rows = waves[w]!;
      await this.sums(rows);
      sse += await runEpoch(this.grid.grid, this.pool.threads, rng, runBlock, stop, rows);
      await this.delta(rows, lrY, regY);
      await this.scatter(rows);
    }
    return sse;
  }

  /**
   * z_u = |N(u)|^−½ Σ y_j and its copy z0_u for the users of the given user bins (default all);
   * with `out`, also out_u = p_u + z_u.
   */
  sums(rows: readonly number[] | null = null, out?: Region<"f32">): Promise<void> {
    const { blockStart, bins } = this.grid.grid;
    return this.byUserBin(rows, (b, u0, u1) => sumsTask(this.layout, u0, u1, blockStart[b * bins]!, blockStart[(b + 1) * bins]!, out?.ptr ?? 0));
  }

  /** The y-step of the users of the given user bins after their rating updates with lrY and regY. */
  delta(rows: readonly number[], lrY: number, regY: number): Promise<void> {
    // keepY = 1 − lrY·regY in f32, as the block kernels compute it.
    const keepY = Math.fround(1 - Math.fround(Math.fround(lrY) * Math.fround(regY)));
    return this.byUserBin(rows, (_b, u0, u1) => deltaTask(this.layout, u0, u1, keepY));
  }

  /** y_j ← keep_u·y_j + D_u for every rating of the given user bins, each movie bin's blocks in that order. */
  async scatter(rows: readonly number[]): Promise<void> {
    const { blockStart, bins } = this.grid.grid;
    const tasks = [];
    for (let c = 0; c < bins; c++) {
      const ranges: [number, number][] = [];
      for (const r of rows) {
        const b = r * bins + c;
        if (blockStart[b + 1]! > blockStart[b]!) ranges.push([blockStart[b]!, blockStart[b + 1]!]);
      }
      if (ranges.length) tasks.push(this.pool.run(scatterTask(this.layout, ranges)));
    }
    await Promise.all(tasks);
  }

  private async byUserBin(rows: readonly number[] | null, task: (bin: number, u0: number, u1: number) => Task): Promise<void> {
    const { userStart } = this.grid;
    const runs = [];
    for (const b of rows ?? Array.from({ length: userStart.length - 1 }, (_, r) => r)) {
      if (userStart[b + 1]! > userStart[b]!) runs.push(this.pool.run(task(b, userStart[b]!, userStart[b + 1]!)));
    }
    await Promise.all(runs);
  }
}
