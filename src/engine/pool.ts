/**
 * The engine pool: Piscina worker threads that each attach to one shared engine (the compiled
 * module and the shared memory travel in workerData — never in a transferList) and run named
 * tasks (handlers.ts) whose messages carry numbers only.
 *
 * `threads: 1` with `inline: true` runs the same handlers on the main thread's engine, in order:
 * the deterministic mode, with no second implementation of anything.
 *
 * A task that throws, or a worker that dies, rejects its promise; the pool then refuses new work
 * and `destroy()` ends the remaining threads, so a failed training ends with a clear error in well
 * under a second instead of hanging.
 */
import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import type { Engine } from "../abi/kernels.js";
import { HANDLERS, type Task } from "./handlers.js";

export interface PoolOptions {
  /** Worker threads (default: the number of cores). */
  threads?: number;
  /** Run tasks on the calling thread, one at a time (the deterministic mode). */
  inline?: boolean;
}

export class EnginePool {
  private failure: Error | null = null;

  private constructor(
    readonly engine: Engine,
    readonly threads: number,
    private readonly piscina: Piscina | null,
  ) {}

  static create(engine: Engine, opts: PoolOptions = {}): EnginePool {
    const threads = opts.inline ? 1 : opts.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
      throw new Error(`threads must be a whole number from 1 to 256 (got ${threads})`);
    }
    if (opts.inline) return new EnginePool(engine, 1, null);
    const piscina = new Piscina({
      filename: new URL("./worker.js", import.meta.url).href,
      workerData: engine.share(),
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      // One task per thread at a time: the scheduler decides what runs where.
      concurrentTasksPerWorker: 1,
    });
    return new EnginePool(engine, threads, piscina);
  }

  get inline(): boolean {
    return this.piscina === null;
  }

  /** Runs one task; rejects with the task's error (and marks the pool failed). */
  async run(task: Task): Promise<number> {
    if (this.failure) throw this.failure;
    if (this.piscina === null) return HANDLERS[task.op]!(this.engine, task.args);
    try {
      return (await this.piscina.run(task)) as number;
    } catch (err) {
      this.failure ??= err instanceof Error ? err : new Error(String(err));
      throw this.failure;
    }
  }

  /** The worker threads (for tests that kill one). */
  get workers(): { terminate(): Promise<number> }[] {
    return (this.piscina?.threads ?? []) as unknown as { terminate(): Promise<number> }[];
  }

  async destroy(): Promise<void> {
    await this.piscina?.destroy();
  }
}
