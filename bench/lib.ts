/**
 * Shared benchmark helpers: machine description, summary statistics, and the results writer
 * (bench/results/<name>.json and .md, in the shape DESIGN.md "Benchmarks" fixes).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";

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
