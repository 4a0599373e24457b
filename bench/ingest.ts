/**
 * `npm run bench -- ingest [--ratings N] [--threads T] [--reps R] [--seed S] [--keep]`
 *
 * Netflix Prize text → dataset folder throughput. Generates Netflix-format text of the full
 * Netflix user and movie counts with N ratings (combined_data_1..4.txt, cached in
 * bench/.data/netflix-text-<N>-s<S>/ and reused while its generator.json matches), then times, in
 * each repetition: `ingest` end to end (read, parse, write the folder) on T parse threads
 * (default: the number of cores), and its stages apart — `parse` (loadRatings, in memory, T
 * threads), `parse 1 thread` (the same on the calling thread only, for the parallel speed-up),
 * `hash` (the content hash alone, which parse includes) and `write` (writeDataset of the loaded
 * dataset). Reports seconds (median, min, max), input MB and ratings per second, and the
 * process's peak resident memory. Output folders go to a temporary folder under bench/.data/,
 * removed at the end unless --keep.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { contentHash, writeDataset } from "../src/data/dataset.js";
import { GENERATE_DEFAULTS, type GenerateOptions } from "../src/data/generate.js";
import { ingest, loadRatings } from "../src/data/ingest.js";
import type { Dataset } from "../src/data/types.js";
import { secondsSince, summarize, writeResults, type Run } from "./lib.js";

/** From dist/bench/ingest.js, the (gitignored) cache folder is ../../bench/.data. */
const DATA_DIR = fileURLToPath(new URL("../../bench/.data/", import.meta.url));
const GENERATE_MODULE = new URL("../src/data/generate.js", import.meta.url).href;
const USAGE = "usage: npm run bench -- ingest [--ratings N] [--threads T] [--reps R] [--seed S] [--keep]";
const MB = 1e6;

const LABELS = ["ingest", "parse", "parse 1 thread", "hash", "write"] as const;
type Label = (typeof LABELS)[number];

interface Options {
  ratings: number;
  threads: number;
  reps: number;
  seed: number;
  keep: boolean;
}

export async function main(argv: string[]): Promise<void> {
  const options = parseOptions(argv);
  const { ratings: n, reps, seed, threads } = options;
  const { users, movies } = GENERATE_DEFAULTS;
  const textDir = join(DATA_DIR, `netflix-text-${n}-s${seed}`);
  const genSeconds = ensureText(textDir, { users, movies, ratings: n, seed });
  const textBytes = folderBytes(textDir, (name) => name !== "generator.json");

  const outRoot = mkdtempSync(join(DATA_DIR, "ingest-out-"));
  const outIngest = join(outRoot, "ingest");
  const outWrite = join(outRoot, "write");
  try {
    const seconds = Object.fromEntries(LABELS.map((l) => [l, [] as number[]])) as Record<Label, number[]>;
    const peakRss: Partial<Record<Label, number>> = {};
    /** Times one stage, after a full collection; the peak RSS is read after the stage's first run. */
    const timed = async <T>(label: Label, work: () => Promise<T>): Promise<T> => {
      await collectGarbage();
      const t0 = process.hrtime.bigint();
      const result = await work();
      seconds[label].push(secondsSince(t0));
      peakRss[label] ??= process.resourceUsage().maxRSS / 1024;
      return result;
    };

    const baseRss = process.resourceUsage().maxRSS / 1024;
    const loadStart = loadavg()[0]!;
    let nRatings = 0;
    let datasetBytes = 0;
    for (let rep = 0; rep < reps; rep++) {
      rmSync(outIngest, { recursive: true, force: true });
      nRatings = (await timed("ingest", () => ingest("netflix", [textDir], outIngest, { force: true, threads }))).meta.nRatings;
      datasetBytes = folderBytes(outIngest);

      const hash = (await timed("parse 1 thread", () => loadRatings(textDir, { threads: 1 }))).meta.contentHash;
      let ds: Dataset | null = await timed("parse", () => loadRatings(textDir, { threads }));
      if (ds.meta.contentHash !== hash) throw new Error(`parsing on ${threads} threads gave content hash ${ds.meta.contentHash}, on one thread ${hash}`);
      await timed("hash", async () => contentHash(ds!.ratings, ds!.users, ds!.movies));
      rmSync(outWrite, { recursive: true, force: true });
      await timed("write", () => writeDataset(outWrite, ds!, { force: true }));
      ds = null;
      log(`rep ${rep + 1}/${reps}: ` + LABELS.map((l) => `${l} ${seconds[l][rep]!.toFixed(2)} s`).join(", "));
    }
    const loadEnd = loadavg()[0]!;

    const runs: Run[] = LABELS.map((label) => {
      const s = summarize(seconds[label]);
      return {
        label,
        secondsMedian: s.median,
        secondsMin: s.min,
        secondsMax: s.max,
        mbPerSecond: textBytes / MB / s.median,
        ratingsPerSecond: nRatings / s.median,
        peakRssMiB: Math.round(peakRss[label]!),
      };
    });
    const notes = [
      `Input: Netflix Prize text from \`generate({ text: true })\` (combined_data_1..4.txt + movie_titles.txt), ` +
        `${(textBytes / MB).toFixed(1)} MB; ${genSeconds === null ? "reused from the cache" : `generated in ${genSeconds.toFixed(1)} s (not timed)`}. ` +
        `Output dataset folder ${(datasetBytes / MB).toFixed(1)} MB. MB = 10^6 bytes; mbPerSecond is input text MB per second for every stage.`,
      `Each repetition runs ingest (end to end, ${threads} parse threads), then parse 1 thread and parse (loadRatings on the calling thread ` +
        `only and on ${threads} threads: read, parse, dense ids, checks, content hash; no write; both must give the same content hash), ` +
        `hash (the content hash of the parsed dataset alone), then write (writeDataset of the parsed dataset into a fresh folder). ` +
        `The input (generated or read just before) is served from the OS page cache.`,
      `A full garbage collection runs before each timed stage. peakRssMiB is the process's high-water mark (resourceUsage().maxRSS) ` +
        `read after each stage's first run: it never goes down, so a stage's figure is at least the one before it. ` +
        `${Math.round(baseRss)} MiB before the first run; generation runs in a child process.`,
      `1-minute load average ${loadStart.toFixed(2)} before the first timed run, ${loadEnd.toFixed(2)} at the end ` +
        `(${cpus().length} cores; other processes may share them).`,
    ];
    writeResults("ingest", {
      ratings: nRatings, users, movies, seed, reps, threads,
      textMB: round1(textBytes / MB), datasetMB: round1(datasetBytes / MB),
    }, runs, notes);
  } finally {
    if (options.keep) log(`kept the output folders in ${outRoot}`);
    else rmSync(outRoot, { recursive: true, force: true });
  }
}

function log(message: string): void {
  process.stderr.write(`[ingest] ${message}\n`);
}

/**
 * Full garbage collections, so that one stage's garbage (a whole dataset) is neither collected
 * during the next stage's timing nor counted in its peak memory. The second collection, after a
 * turn of the event loop, is the one that frees the arrays of a dataset the finished async call
 * still held. `gc` is exposed at run time, since the bench runner starts node without --expose-gc.
 */
async function collectGarbage(): Promise<void> {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function parseOptions(argv: string[]): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        ratings: { type: "string", default: "10000000" },
        threads: { type: "string", default: String(availableParallelism()) },
        reps: { type: "string", default: "3" },
        seed: { type: "string", default: "1" },
        keep: { type: "boolean", default: false },
      },
    }));
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${USAGE}`);
  }
  const int = (name: "ratings" | "threads" | "reps" | "seed", min: number): number => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be a whole number ≥ ${min}, got ${values[name]}`);
    return value;
  };
  return {
    ratings: int("ratings", GENERATE_DEFAULTS.users),
    threads: int("threads", 1),
    reps: int("reps", 1),
    seed: int("seed", 0),
    keep: values.keep === true,
  };
}

/** Total size of the files directly in `dir` whose names pass `keep`. */
export function folderBytes(dir: string, keep: (name: string) => boolean = () => true): number {
  return readdirSync(dir)
    .filter(keep)
    .reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

/**
 * Makes sure `dir` holds the Netflix text for `want`: reused when its generator.json records the
 * same shape, seed and generator defaults, else (re)generated. Generation runs in a child process
 * so that its memory does not count in this process's peak RSS. Returns the generation seconds,
 * or null when the cache was reused.
 */
export function ensureText(dir: string, want: Required<Pick<GenerateOptions, "users" | "movies" | "ratings" | "seed">>): number | null {
  const expected = { format: "movierec-generator", version: 1, ...want, rank: GENERATE_DEFAULTS.rank, noise: GENERATE_DEFAULTS.noise };
  const record = join(dir, "generator.json");
  if (existsSync(record)) {
    let found: Record<string, unknown> = {};
    try {
      found = JSON.parse(readFileSync(record, "utf8")) as Record<string, unknown>;
    } catch {
      // An unreadable record is a stale cache: regenerate below.
    }
    if (Object.entries(expected).every(([key, value]) => found[key] === value)) {
      log(`reusing ${dir}`);
      return null;
    }
    log(`${record} does not match ${JSON.stringify(expected)}: regenerating`);
  }
  log(`generating ${want.ratings.toLocaleString("en-US")} ratings (${want.users} users × ${want.movies} movies) as Netflix text in ${dir}`);
  const t0 = process.hrtime.bigint();
  const script = `const { generate } = await import(${JSON.stringify(GENERATE_MODULE)}); await generate(JSON.parse(process.argv[1]));`;
  const args = JSON.stringify({ ...want, out: dir, text: true, force: true });
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script, args], { stdio: "inherit" });
  if (child.error || child.status !== 0) throw new Error(`generating ${dir} failed (${child.error?.message ?? `exit code ${child.status}`})`);
  const seconds = secondsSince(t0);
  log(`generated in ${seconds.toFixed(1)} s`);
  return seconds;
}
