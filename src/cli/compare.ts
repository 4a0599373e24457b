/** `movierec compare`: the model comparison table, printed, as JSON and as an HTML table; and the ranking table `eval --ranking` prints. */
import { Command, Option } from "commander";
import { existsSync, promises as fsp } from "node:fs";
import { join } from "node:path";
import { loadRatings } from "../data/ingest.js";
import { loadMovieLensFolds } from "../data/readers/movielens.js";
import { compareModels, defaultAlgos, LARGE_TRAIN, parseAlgos, SLOW_ON_LARGE, splitParts, type CompareRow, type CompareSplit } from "../eval/compare.js";
import { rankingMetrics, RANKING_DEFAULTS, type RankingOptions, type RankingScores } from "../eval/ranking.js";
import type { Dataset } from "../data/types.js";
import type { Model } from "../models/model.js";
import { EXIT_OK, parseIntOption, table } from "./common.js";
import type { CliIO } from "./io.js";
import { progressBar } from "./progress.js";

type Run = (code: Promise<number>) => void;

/** Ranking metrics with a progress bar over the sampled users. */
export function rankingWithProgress(io: CliIO, model: Model, test: Dataset, opts: RankingOptions): RankingScores {
  const bar = progressBar(io, "ranking", "users");
  try {
    return rankingMetrics(model, test, { ...opts, onProgress: (done, total) => bar.update(done, total) });
  } finally {
    bar.stop();
  }
}

export function rankingTable(r: RankingScores): string {
  const k = r.k;
  return table(
    [`precision@${k}`, `recall@${k}`, `NDCG@${k}`, `MAP@${k}`, `coverage@${k}`, "users", "skipped"],
    [[r.precision, r.recall, r.ndcg, r.map, r.coverage, r.users, r.skippedUsers]],
  );
}

const COLUMNS: [string, (r: CompareRow, k: number) => number | string][] = [
  ["algo", (r) => r.algo],
  ["train RMSE", (r) => r.trainRmse],
  ["RMSE", (r) => r.rmse],
  ["MAE", (r) => r.mae],
  ["MAPE %", (r) => r.mape],
  ["fit s", (r) => r.fitSeconds],
  ["predict s", (r) => r.predictSeconds],
  ["P@k", (r, k) => r[`precision@${k}`]!],
  ["R@k", (r, k) => r[`recall@${k}`]!],
  ["NDCG@k", (r, k) => r[`ndcg@${k}`]!],
  ["MAP@k", (r, k) => r[`map@${k}`]!],
  ["cov@k", (r, k) => r[`coverage@${k}`]!],
];

function columns(ranking: boolean, k: number) {
  const cols = ranking ? COLUMNS : COLUMNS.slice(0, 7);
  return { headers: cols.map(([h]) => h.replace("@k", `@${k}`)), cells: (r: CompareRow) => cols.map(([, f]) => f(r, k)) };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A self-contained HTML page holding the comparison as a plain table. */
export function compareHtml(report: { dataset: string; split: string; rows: CompareRow[] }, ranking: boolean, k: number): string {
  const { headers, cells } = columns(ranking, k);
  const fmt = (v: number | string) => (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : escapeHtml(v));
  const body = report.rows
    .map((r) => `<tr>${cells(r).map((v, j) => (j === 0 ? `<th title="${escapeHtml(JSON.stringify(r.params))}">${fmt(v)}</th>` : `<td>${fmt(v)}</td>`)).join("")}</tr>`)
    .join("\n");
  const title = `movierec compare: ${report.dataset} (${report.split})`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}th,td{padding:.3em .8em;border-bottom:1px solid #ddd}td{text-align:right;font-variant-numeric:tabular-nums}thead th{border-bottom:2px solid #333}tbody th{text-align:left}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<table><thead><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead>
<tbody>
${body}
</tbody></table>
<p>RMSE, MAE and MAPE on the test ratings; train RMSE on the training ratings; seconds are means per ${report.split === "cv" ? "fold" : "split"}.${
    ranking ? ` Ranking metrics of each user's top ${k} among movies not rated in training; relevant = test rating ≥ 4.` : ""
  } Hover an algorithm for its parameters.</p>
</body></html>
`;
}

async function loadParts(path: string, how: CompareSplit, seed: number) {
  if (how === "cv" && existsSync(join(path, "u1.base"))) return loadMovieLensFolds(path);
  return splitParts(await loadRatings(path), how, seed);
}

export function compareCommand(io: CliIO, run: Run): Command {
  return new Command("compare")
    .description("fit and score several algorithms on one split: train/test RMSE, MAE, MAPE, fit and predict seconds, ranking metrics")
    .argument("<dataset>", "dataset folder, rating file, or MovieLens 100K folder (with --split cv: its official folds u1–u5)")
    .addOption(new Option("--split <how>", "temporal (first 80% by date train), probe (each user's last 5 test) or cv (5 folds, means)").choices(["temporal", "probe", "cv"]).makeOptionMandatory())
    .option("--algos <list>", `algorithms, comma-separated, each with optional :name=value parameters (default: every algorithm; above ${LARGE_TRAIN.toLocaleString("en-US")} training ratings all but ${SLOW_ON_LARGE.join(", ")})`)
    .option("--k <k>", "list length of the ranking metrics", parseIntOption("k", 1), RANKING_DEFAULTS.k)
    .option("--users <n>", "ranking metrics over a seeded sample of at most this many test users per part (0 = all)", parseIntOption("users", 0), RANKING_DEFAULTS.maxUsers)
    .option("--no-ranking", "skip the ranking metrics")
    .option("--seed <n>", "seed of the split and of the user sample", parseIntOption("seed", 0), 1)
    .option("--json", 'print JSON: {"dataset","split","rows":[{"algo","params","trainRmse","rmse","mae","mape","fitSeconds","predictSeconds","precision@10",...}]}')
    .option("--out <file.json>", "also write the JSON to this file")
    .option("--html <file.html>", "also write the table as a self-contained HTML page")
    .addHelpText("after", "\nExamples:\n  movierec compare ../shared/data/ml-100k --split cv\n  movierec compare data/netflix --split probe --algos baseline,mf:factors=50,knn-item --json > table.json\n")
    .action((path: string, o) =>
      run(
        (async () => {
          const how = o.split as CompareSplit;
          const given = o.algos === undefined ? null : parseAlgos(o.algos);
          const parts = await loadParts(path, how, o.seed);
          const algos = given ?? defaultAlgos(parts[0]!.train.meta.nRatings);
          const bar = progressBar(io, "compare", "models", algos.length);
          const rows = await compareModels(parts, algos, {
            ranking: o.ranking,
            k: o.k,
            maxUsers: o.users,
            seed: o.seed,
            onPart: (algo, part, p, n) => {
              if (n > 1) bar.update(0, undefined, { info: `${algo} ${part} (${p + 1}/${n})` });
            },
            onRow: (row, index, total) => {
              bar.update(index + 1, total, { info: row.algo });
              io.err(`compare: ${row.algo} RMSE ${row.rmse.toFixed(4)}, fit ${row.fitSeconds.toFixed(2)} s (${index + 1}/${total})\n`);
            },
          }).finally(() => bar.stop());
          const report = { dataset: path, split: how, rows };
          const json = JSON.stringify(report) + "\n";
          if (o.out) await fsp.writeFile(o.out, json);
          if (o.html) await fsp.writeFile(o.html, compareHtml(report, o.ranking, o.k));
          if (o.json) io.out(json);
          else {
            const { headers, cells } = columns(o.ranking, o.k);
            io.out(`${path} (${how}${parts.length > 1 ? `, mean of ${parts.length} folds` : ""})\n` + table(headers, rows.map(cells)));
          }
          return EXIT_OK;
        })(),
      ),
    );
}
