/**
 * The out folder of a resumable run: what it was made from, and which stages are finished.
 *
 *   state.json      the run's inputs (a folder fingerprint) and model settings, written at the start
 *   <stage>.done    a stage's marker, written (atomically) after all of the stage's files are in place
 *
 * Every file a stage writes is written to a temporary name and renamed, so after a crash or
 * Ctrl-C the folder holds finished files only; a stage without its marker is run again from the
 * start, and so is every stage after it. A folder made with other inputs or settings is refused
 * rather than mixed into.
 */
import { existsSync, promises as fsp, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { DataError } from "../data/types.js";

export interface StageMarker {
  stage: string;
  finishedAt: string;
  seconds: number;
}

/** What a run folder records about how it was made; two runs may share a folder only when these agree. */
export interface RunState<I, S> {
  format: string;
  version: 1;
  inputs: I;
  settings: S;
  createdAt: string;
}

/** Writes `data` to `path` through a temporary sibling and a rename. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempName(path);
  try {
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, path);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

/** A temporary sibling name for `path` (hidden, with `.tmp-` in it, as the dataset and model writers use). */
export function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
}

export function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch (err) {
    throw new DataError(`${path}: not valid JSON (${(err as Error).message})`, "remove the out folder, or pass --force to start over");
  }
}

export class RunFolder<I, S> {
  private constructor(
    readonly dir: string,
    readonly stages: readonly string[],
  ) {}

  /**
   * Opens `dir` for a run with `state`: creates it, or checks that the state.json already there
   * describes the same run. A folder whose every stage is unfinished is simply taken over; one
   * holding other files is refused. `force` clears a folder made by an earlier run first.
   * `describeChanges` says in words how a recorded state differs from `state` (empty: the same run).
   */
  static async open<I, S>(
    dir: string,
    stages: readonly string[],
    state: RunState<I, S>,
    opts: { force: boolean; command: string; describeChanges: (was: RunState<I, S>, now: RunState<I, S>) => string[] },
  ): Promise<RunFolder<I, S>> {
    const run = new RunFolder<I, S>(dir, stages);
    const statePath = join(dir, "state.json");
    if (existsSync(dir)) {
      if (!statSync(dir).isDirectory()) throw new DataError(`${dir} exists and is not a folder`, "choose another --out");
      const entries = readdirSync(dir);
      const ours = existsSync(statePath);
      if (entries.length > 0 && !ours) {
        throw new DataError(`${dir} is not empty and was not made by ${opts.command}`, "choose another --out (an empty or new folder)");
      }
      if (ours && opts.force) {
        for (const e of entries) await fsp.rm(join(dir, e), { recursive: true, force: true });
      } else if (ours && run.finished().length > 0) {
        const was = readJson<RunState<I, S>>(statePath);
        const changes = was.format === state.format && was.version === state.version ? opts.describeChanges(was, state) : ["the format of state.json"];
        if (changes.length > 0) {
          throw new DataError(
            `${dir} holds a run made with different inputs or settings (${changes.join("; ")})`,
            `use another --out, or pass --force to start over in ${dir}`,
          );
        }
        await run.removeTemporaries();
        return run;
      }
    }
    await fsp.mkdir(dir, { recursive: true });
    await run.removeTemporaries();
    await writeFileAtomic(statePath, JSON.stringify(state, null, 2) + "\n");
    return run;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** The stages finished in order from the first (a stage after an unfinished one does not count). */
  finished(): string[] {
    const out: string[] = [];
    for (const s of this.stages) {
      if (!existsSync(this.markerPath(s))) break;
      out.push(s);
    }
    return out;
  }

  marker(stage: string): StageMarker | null {
    return this.finished().includes(stage) ? readJson<StageMarker>(this.markerPath(stage)) : null;
  }

  /** Removes the markers of `stage` and every later stage: they will run again. */
  async reopenFrom(stage: string): Promise<void> {
    for (const s of this.stages.slice(this.stages.indexOf(stage))) await fsp.rm(this.markerPath(s), { force: true });
  }

  async markDone(stage: string, seconds: number): Promise<StageMarker> {
    const m: StageMarker = { stage, finishedAt: new Date().toISOString(), seconds: Math.round(seconds * 1000) / 1000 };
    await writeFileAtomic(this.markerPath(stage), JSON.stringify(m, null, 2) + "\n");
    return m;
  }

  private markerPath(stage: string): string {
    return join(this.dir, `${stage}.done`);
  }

  /** Temporary files and folders a killed process left behind (hidden names holding `.tmp-`). */
  private async removeTemporaries(): Promise<void> {
    for (const e of readdirSync(this.dir)) {
      if (e.startsWith(".") && e.includes(".tmp-")) await fsp.rm(join(this.dir, e), { recursive: true, force: true });
    }
  }
}
