/**
 * Model results for the report's comparison chart, read liberally from what the CLI prints:
 *
 *   movierec evaluate --json / eval --json   {"algo","params","rmse","mae","mape","n",...}
 *   movierec cv --json                       {"algo","params","folds":[...],"mean":{"rmse","mae","mape"}}
 *   a comparison table                       {"rows":[{"algo","rmse","mae","mape",...}]}
 *
 * one object, an array of them, or one per line (NDJSON). Any object with a string `algo` (or
 * `label`) and a numeric `rmse` (or `mean.rmse`) is a row; arrays and `rows` / `runs` / `results`
 * lists are searched for such objects.
 */
import { promises as fsp } from "node:fs";
import { DataError, ParseError } from "../data/types.js";

export interface ComparisonRow {
  /** What the chart shows: the algorithm, with the parameters that tell same-algorithm rows apart. */
  label: string;
  algo: string;
  rmse: number;
  mae: number | null;
  mape: number | null;
  /** Test ratings scored, when given. */
  n: number | null;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const LISTS = ["rows", "runs", "results"] as const;

/** Reads a result file (JSON or NDJSON) into comparison rows; a DataError when it holds none. */
export async function readComparison(path: string): Promise<ComparisonRow[]> {
  let text: string;
  try {
    text = await fsp.readFile(path, "utf8");
  } catch (err) {
    throw new DataError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, "give the file written by `movierec cv --json > result.json`");
  }
  return parseComparison(text, path);
}

/** Parses result JSON / NDJSON text; `file` names it in errors. */
export function parseComparison(text: string, file: string): ComparisonRow[] {
  let values: Json[];
  try {
    values = [JSON.parse(text) as Json];
  } catch {
    values = [];
    text.split("\n").forEach((line, k) => {
      if (line.trim() === "") return;
      try {
        values.push(JSON.parse(line) as Json);
      } catch (err) {
        throw new ParseError(file, k + 1, `not JSON (${(err as Error).message})`, "give JSON or one JSON object per line, as `movierec cv --json` prints");
      }
    });
  }
  const found: { obj: Obj; row: Omit<ComparisonRow, "label"> }[] = [];
  const visit = (v: Json) => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (v === null || typeof v !== "object") return;
    const row = asRow(v);
    if (row) return void found.push({ obj: v, row });
    for (const key of LISTS) if (Array.isArray(v[key])) visit(v[key]);
  };
  values.forEach(visit);
  if (found.length === 0) {
    throw new DataError(
      `${file} holds no model results (objects with "algo" and a numeric "rmse" or "mean.rmse")`,
      'give the output of `movierec cv --json` or `movierec evaluate --json`, or {"rows":[{"algo","rmse"}]}',
    );
  }
  const labels = distinctLabels(found.map((f) => ({ algo: typeof f.obj.label === "string" ? f.obj.label : f.row.algo, params: f.obj.params })));
  return found.map((f, k) => ({ label: labels[k]!, ...f.row }));
}

function asRow(o: Obj): Omit<ComparisonRow, "label"> | null {
  const algo = typeof o.algo === "string" ? o.algo : typeof o.label === "string" ? o.label : null;
  const mean = o.mean !== null && typeof o.mean === "object" && !Array.isArray(o.mean) ? o.mean : null;
  const metric = (k: string): number | null => {
    const v = typeof o[k] === "number" ? o[k] : mean && typeof mean[k] === "number" ? mean[k] : null;
    return typeof v === "number" && Number.isFinite(v) ? v : null;
  };
  const rmse = metric("rmse");
  if (algo === null || rmse === null) return null;
  return { algo, rmse, mae: metric("mae"), mape: metric("mape"), n: typeof o.n === "number" ? o.n : null };
}

/**
 * The algorithm names, made distinct: rows of the same algorithm get the parameters that differ
 * between them ("mf (factors 50)", "mf (factors 100)"), or a running number when none differ.
 */
function distinctLabels(rows: { algo: string; params: Json | undefined }[]): string[] {
  return rows.map((r, k) => {
    const same = rows.filter((o) => o.algo === r.algo);
    if (same.length === 1) return r.algo;
    const params = (x: Json | undefined): Obj => (x !== null && typeof x === "object" && !Array.isArray(x) ? x : {});
    const keys = [...new Set(same.flatMap((o) => Object.keys(params(o.params))))].filter(
      (key) => new Set(same.map((o) => JSON.stringify(params(o.params)[key]))).size > 1,
    );
    const mine = params(r.params);
    const differing = keys.filter((key) => key in mine).map((key) => `${key} ${JSON.stringify(mine[key])}`);
    if (differing.length > 0 && new Set(same.map((o) => keys.map((key) => JSON.stringify(params(o.params)[key])).join())).size === same.length) {
      return `${r.algo} (${differing.join(", ")})`;
    }
    return `${r.algo} #${rows.slice(0, k + 1).filter((o) => o.algo === r.algo).length}`;
  });
}
