/** Pieces every command shares: hyperparameter flags, number parsing, tables, the exit-code contract. */
import { Command, Option } from "commander";
import { DataError } from "../data/types.js";
import { algorithmNames, algorithmSpecs } from "../models/registry.js";
import type { Params, ParamSpec } from "../models/params.js";

/** Exit codes: 0 ok; 1 ran, but a requested check (e.g. --max-rmse) failed; 2 usage or data error. */
export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_USAGE = 2;

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());

/** Every algorithm's parameters, once each (the first declaration's help wins). */
function allParamSpecs(): Map<string, { spec: ParamSpec; algos: string[] }> {
  const all = new Map<string, { spec: ParamSpec; algos: string[] }>();
  for (const a of algorithmSpecs()) {
    for (const p of a.params) {
      const e = all.get(p.name);
      if (e) e.algos.push(a.algo);
      else all.set(p.name, { spec: p, algos: [a.algo] });
    }
  }
  return all;
}

/** Adds --algo and one flag per hyperparameter of any algorithm (e.g. --factors, --lr-bu). */
export function addModelOptions(cmd: Command, algoRequired = true): Command {
  const algo = new Option("--algo <name>", `algorithm: ${algorithmNames().join(", ")}`);
  if (algoRequired) algo.makeOptionMandatory();
  cmd.addOption(algo);
  for (const [name, { spec, algos }] of allParamSpecs()) {
    const range = spec.choices ? ` (${spec.choices.join("|")})` : "";
    const inherits = spec.inherits ? `, defaults to --${kebab(spec.inherits)}` : "";
    cmd.addOption(new Option(`--${kebab(name)} <value>`, `${spec.help}${range} [${algos.join(", ")}${inherits}]`));
  }
  return cmd;
}

/** The hyperparameters given on the command line, by parameter name (values still strings). */
export function modelParams(opts: Record<string, unknown>): Params {
  const out: Params = {};
  for (const name of allParamSpecs().keys()) {
    const v = opts[name];
    if (v !== undefined) out[name] = v as string;
  }
  return out;
}

export function parseIntOption(name: string, min = 0) {
  return (v: string): number => {
    const n = Number(v.replace(/_/g, ""));
    if (!Number.isInteger(n) || n < min) throw new DataError(`--${name} needs a whole number ≥ ${min} (got "${v}")`);
    return n;
  };
}

export function parseFloatOption(name: string, min = -Infinity, max = Infinity) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) {
      throw new DataError(`--${name} needs a number${min > -Infinity ? ` ≥ ${min}` : ""}${max < Infinity ? ` and ≤ ${max}` : ""} (got "${v}")`);
    }
    return n;
  };
}

/** A plain text table with right-aligned numbers. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === "number" ? fmt(c) : c)));
  const width = headers.map((h, k) => Math.max(h.length, ...cells.map((r) => r[k]!.length)));
  const line = (r: string[]) =>
    r.map((c, k) => (typeof rows[0]?.[k] === "number" ? c.padStart(width[k]!) : c.padEnd(width[k]!))).join("  ").trimEnd();
  return [line(headers), width.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)].join("\n") + "\n";
}

function fmt(x: number): string {
  if (Number.isInteger(x)) return String(x);
  return Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(4);
}

/** Checks --max-rmse: returns the exit code and says why on stderr when the check failed. */
export function checkMaxRmse(rmse: number, max: number | undefined, err: (s: string) => void): number {
  if (max === undefined || rmse <= max) return EXIT_OK;
  err(`movierec: check failed: RMSE ${rmse.toFixed(4)} is above --max-rmse ${max}\n`);
  return EXIT_CHECK_FAILED;
}

export function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Flags that control how a model is trained (not what it is): threads, determinism, early stopping. */
export function addTrainingOptions(cmd: Command): Command {
  return cmd
    .option("--threads <n>", "worker threads for SGD training (default: the number of cores; one for small problems)", parseIntOption("threads", 1))
    .option("--deterministic", "one thread, fixed block order: bit-identical results for a seed")
    .option("--early-stop <n>", "stop after n epochs without a better validation RMSE and keep the best epoch", parseIntOption("early-stop", 1))
    .option("--valid-fraction <f>", "with --early-stop: share of training ratings held out for validation", parseFloatOption("valid-fraction", 0.0001, 0.5), 0.02);
}

export function trainingOptions(o: Record<string, unknown>): { threads?: number; deterministic?: boolean; earlyStop?: number; validFraction?: number } {
  return {
    ...(o.threads !== undefined ? { threads: o.threads as number } : {}),
    ...(o.deterministic ? { deterministic: true } : {}),
    ...(o.earlyStop !== undefined ? { earlyStop: o.earlyStop as number, validFraction: o.validFraction as number } : {}),
  };
}
