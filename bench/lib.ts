/**
 * Shared benchmark helpers: machine description, summary statistics, and the results writer
 * (bench/results/<name>.json and .md, in the shape DESIGN.md "Benchmarks" fixes).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readDataset } from "../src/data/dataset.js";
import { generate, GENERATE_DEFAULTS } from "../src/data/generate.js";
import type { Dataset } from "../src/data/types.js";

export interface Machine {
  cpus: number;
  cpuModel: string;
  memGiB: number;
  node: string;
}

/** A run's figures: a label, then numbers with the unit in the key (epochSeconds, updatesPerSecond, ...). */
export type Run = { label: string } & Record<string, number | string | boolean>;

export interface Results {
  name: string;
  date: string;
  machine: Machine;
  params: Record<string, unknown>;
  runs: Run[];
  notes: string[];
}

/** From dist/bench/lib.js, the committed results folder is ../../bench/results. */
export const RESULTS_DIR = fileURLToPath(new URL("../../bench/results/", import.meta.url));

export function machineInfo(): Machine {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? "unknown",
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
  };
}

export interface Summary {
  median: number;
  min: number;
  max: number;
}

/** Median (mean of the middle two for an even count), min and max; NaN for no values. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { median: NaN, min: NaN, max: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

/** Seconds since `start` (a process.hrtime.bigint() reading). */
export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Writes bench/results/<name>.json and .md, prints the markdown, and returns the results object. */
export function writeResults(name: string, params: Record<string, unknown>, runs: Run[], notes: string[]): Results {
  const results: Results = { name, date: new Date().toISOString(), machine: machineInfo(), params, runs, notes };
  const markdown = toMarkdown(results);
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(`${RESULTS_DIR}${name}.json`, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(`${RESULTS_DIR}${name}.md`, markdown);
  process.stdout.write(markdown);
  return results;
}

/** The results as a markdown page: machine and parameters, one table row per run, then the notes. */
export function toMarkdown(results: Results): string {
  const { machine } = results;
  const keys: string[] = [];
  for (const run of results.runs) for (const key of Object.keys(run)) if (!keys.includes(key)) keys.push(key);
  const lines = [
    `# Benchmark: ${results.name}`,
    "",
    `${results.date} · ${machine.cpuModel} × ${machine.cpus} · ${machine.memGiB} GiB · Node ${machine.node}`,
    "",
    `Parameters: ${Object.entries(results.params).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")}`,
    "",
    `| ${keys.join(" | ")} |`,
    `|${keys.map((k) => (k === "label" ? " --- " : " ---: ")).join("|")}|`,
    ...results.runs.map((run) => `| ${keys.map((k) => formatCell(run[k])).join(" | ")} |`),
  ];
  if (results.notes.length > 0) lines.push("", ...results.notes.map((note) => `- ${note}`));
  return `${lines.join("\n")}\n`;
}

function formatCell(value: unknown): string {
  if (value === undefined) return "";
  if (typeof value !== "number") return String(value);
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  if (Number.isInteger(value)) return String(value);
  return value.toPrecision(4);
}

/**
 * The Netflix-shaped dataset of `ratings` ratings by `users` users over 17,770 movies, generated
 * with the generator's defaults: read from bench/.data/netflix-u<users>-<ratings>-s<seed>/ when a
 * folder generated with the same settings is there, else generated and written there (benches
 * share these folders, so one 100M set serves them all).
 */
export async function cachedDataset(ratings: number, users: number, seed: number, log: (m: string) => void): Promise<{ ds: Dataset; genSeconds: number | null }> {
  const movies = GENERATE_DEFAULTS.movies;
  const dir = join(BENCH_DATA_DIR, `netflix-u${users}-${ratings}-s${seed}`);
  if (existsSync(join(dir, "meta.json"))) {
    const g = (JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as { generator?: Record<string, unknown> }).generator ?? {};
    if (g.users === users && g.movies === movies && g.ratings === ratings && g.seed === seed && g.rank === GENERATE_DEFAULTS.rank && g.noise === GENERATE_DEFAULTS.noise) {
      log(`reusing ${dir}`);
      return { ds: await readDataset(dir), genSeconds: null };
    }
    log(`${dir} was generated with other settings: regenerating`);
  }
  mkdirSync(BENCH_DATA_DIR, { recursive: true });
  log(`generating ${ratings.toLocaleString("en-US")} ratings (${users} users × ${movies} movies) in ${dir}`);
  const t0 = process.hrtime.bigint();
  const ds = await generate({ users, movies, ratings, seed, out: dir, force: true });
  return { ds, genSeconds: secondsSince(t0) };
}

/** The (gitignored) folder benches keep generated data in: bench/.data/ of the repository. */
export const BENCH_DATA_DIR = fileURLToPath(new URL("../../bench/.data/", import.meta.url));
