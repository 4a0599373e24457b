/**
 * What `movierec prize` trains: one registered model, chosen by `--algo` (default mf) with its
 * hyperparameter flags, or `--blend a,b,c`: the registry's `blend` model (ridge regression over
 * the listed models' predictions on a held-out part built like the probe set, then the models
 * refitted on all data; see src/models/blend.ts) over those models.
 *
 * With --blend, each hyperparameter flag goes to every listed model that declares it (so
 * `--blend baseline,mf --factors 50` gives mf 50 factors); a flag that only the blend itself
 * declares (--holdout, --last, --folds) sets the blend.
 */
import { DataError } from "../data/types.js";
import type { Params } from "../models/params.js";
import { createModel } from "../models/registry.js";

/** A model by name with every parameter resolved (defaults filled in). */
export interface ModelSpec {
  algo: string;
  params: Params;
}

export const DEFAULT_ALGO = "mf";
const BLEND = "blend";

/** Resolves --algo / --blend and the hyperparameter flags into a checked model spec. */
export function prizeModelSpec(opts: { algo?: string; blend?: string[]; params?: Params }): ModelSpec {
  const given = Object.fromEntries(Object.entries(opts.params ?? {}).filter(([, v]) => v !== undefined)) as Params;
  if (opts.algo !== undefined && opts.blend !== undefined) throw new DataError("give --algo or --blend, not both");
  if (opts.blend === undefined) return resolved(opts.algo ?? DEFAULT_ALGO, given);
  if (given.bases !== undefined) throw new DataError("give --blend or --bases, not both", "--blend a,b,c is short for --algo blend --bases a,b,c");
  const names = opts.blend.map((s) => s.trim()).filter((s) => s !== "");
  if (names.length < 2) throw new DataError(`--blend needs at least two models (got ${JSON.stringify(opts.blend.join(","))})`, "e.g. --blend baseline,mf");
  const twice = names.find((a, k) => names.indexOf(a) !== k);
  if (twice) throw new DataError(`--blend lists ${twice} twice`, "each model once: the same model twice predicts the same ratings");
  const used = new Set<string>();
  const bases = names.map((algo) => {
    const declared = new Set(createModel(algo).spec().params.map((p) => p.name));
    const own = Object.keys(given).filter((k) => declared.has(k));
    for (const k of own) used.add(k);
    return [algo, ...own.map((k) => `${k}=${given[k]}`)].join(":");
  });
  const blendDeclares = new Set(createModel(BLEND).spec().params.map((p) => p.name));
  const blendParams: Params = { bases: bases.join(",") };
  for (const k of Object.keys(given)) {
    if (used.has(k)) continue;
    if (!blendDeclares.has(k)) throw new DataError(`--${kebab(k)} applies to none of the blended models (${names.join(", ")})`, "see `movierec algorithms` for each model's parameters");
    blendParams[k] = given[k]!;
  }
  return resolved(BLEND, blendParams);
}

function resolved(algo: string, params: Params): ModelSpec {
  const model = createModel(algo, params);
  return { algo: model.algo, params: model.params };
}

/** "mf", or "blend of baseline, mf". */
export function describeSpec(spec: ModelSpec): string {
  if (spec.algo !== BLEND) return spec.algo;
  return `blend of ${String(spec.params.bases)
    .split(",")
    .map((b) => b.split(":")[0])
    .join(", ")}`;
}

/** How two specs differ, in words: the model, or each changed hyperparameter. */
export function specChanges(was: ModelSpec, now: ModelSpec): string[] {
  if (was.algo !== now.algo) return [`the model: was ${describeSpec(was)}, now ${describeSpec(now)}`];
  const out: string[] = [];
  for (const name of new Set([...Object.keys(was.params), ...Object.keys(now.params)])) {
    if (was.params[name] !== now.params[name]) out.push(`${was.algo} ${name} was ${was.params[name]}, now ${now.params[name]}`);
  }
  return out;
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}
