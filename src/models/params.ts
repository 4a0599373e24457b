/**
 * Hyperparameters: every algorithm declares its parameters once (name, default, range, help), and
 * everything else — validation, CLI flags, --help text, the contract test that every parameter
 * changes the result, model-file headers — is derived from that one declaration (LIBMF keeps its
 * defaults in one function for the same reason).
 */
import { DataError } from "../data/types.js";

export type ParamValue = number | string;
export type Params = Record<string, ParamValue>;

export interface ParamSpec {
  name: string;
  help: string;
  /**
   * "int" and "float" are numbers; "choice" is one of `choices`; "text" is free text the model
   * checks itself (e.g. a list of base models) and must declare a `probe`.
   */
  kind: "int" | "float" | "choice" | "text";
  default: ParamValue;
  min?: number;
  max?: number;
  /** The lower bound itself is not allowed (e.g. a learning rate must be > 0). */
  minExclusive?: boolean;
  choices?: string[];
  /**
   * A parameter that falls back to another one when not given (per-term learning rates fall back
   * to `lr`). Its default is then the other parameter's value.
   */
  inherits?: string;
  /** Only used when another parameter has one of these values (e.g. `lr` only with method=sgd). */
  when?: { param: string; values: string[] };
  /** A value that changes the result, for the contract test (defaults to a nearby valid value). */
  probe?: ParamValue;
}

/** Validates `given` against `specs` and fills defaults. Throws DataError naming the parameter and what is allowed. */
export function resolveParams(algo: string, specs: ParamSpec[], given: Params = {}): Params {
  const known = new Map(specs.map((s) => [s.name, s]));
  for (const name of Object.keys(given)) {
    if (given[name] === undefined) continue;
    if (!known.has(name)) {
      throw new DataError(
        `${algo} has no parameter "${name}"`,
        `its parameters are: ${specs.map((s) => s.name).join(", ") || "(none)"}`,
      );
    }
  }
  const out: Params = {};
  for (const s of specs) {
    if (s.inherits) continue;
    out[s.name] = check(algo, s, given[s.name] ?? s.default);
  }
  for (const s of specs) {
    if (!s.inherits) continue;
    const v = given[s.name];
    out[s.name] = v === undefined ? out[s.inherits]! : check(algo, s, v);
  }
  return out;
}

function check(algo: string, s: ParamSpec, raw: ParamValue): ParamValue {
  if (s.kind === "text") return String(raw);
  if (s.kind === "choice") {
    const v = String(raw);
    if (!s.choices!.includes(v)) {
      throw new DataError(`${algo}: ${s.name} must be one of ${s.choices!.join(", ")} (got "${v}")`);
    }
    return v;
  }
  const v = typeof raw === "number" ? raw : Number(raw);
  if (typeof raw === "string" && raw.trim() === "") throw new DataError(`${algo}: ${s.name} needs a number (got an empty value)`);
  if (!Number.isFinite(v)) throw new DataError(`${algo}: ${s.name} must be a number (got "${raw}")`);
  if (s.kind === "int" && !Number.isInteger(v)) throw new DataError(`${algo}: ${s.name} must be a whole number (got ${raw})`);
  const lo = s.min ?? -Infinity;
  const hi = s.max ?? Infinity;
  if (v < lo || v > hi || (s.minExclusive && v === lo)) {
    const low = s.min === undefined ? "" : `${s.minExclusive ? ">" : "≥"} ${s.min}`;
    const high = s.max === undefined ? "" : `≤ ${s.max}`;
    throw new DataError(`${algo}: ${s.name} must be ${[low, high].filter(Boolean).join(" and ")} (got ${raw})`);
  }
  return v;
}

/** The parameters that affect the result for these resolved values (drops `when`-gated ones that don't apply). */
export function activeParams(specs: ParamSpec[], params: Params): ParamSpec[] {
  return specs.filter((s) => !s.when || s.when.values.includes(String(params[s.when.param])));
}

/** A valid value different from `current`, used to show that every parameter changes the result. */
export function probeValue(s: ParamSpec, current: ParamValue): ParamValue {
  if (s.probe !== undefined && s.probe !== current) return s.probe;
  if (s.kind === "choice") return s.choices!.find((c) => c !== current)!;
  const v = current as number;
  let next = s.kind === "int" ? v + Math.max(1, Math.round(v * 0.5)) : v === 0 ? 0.01 : v * 2;
  if (s.max !== undefined && next > s.max) next = s.kind === "int" ? Math.max(s.min ?? 0, v - 1) : v / 2;
  return next;
}

/** Number of float32 lanes a factor row is padded to (SIMD width). */
export const ROW_ALIGN = 4;

export function paddedStride(factors: number): number {
  return Math.ceil(factors / ROW_ALIGN) * ROW_ALIGN;
}
