/** `movierec report`: a dataset's exploratory analysis as one self-contained HTML page. */
import { Command } from "commander";
import { writeReport } from "../report/report.js";
import { EXIT_OK } from "./common.js";
import type { CliIO } from "./io.js";

type Run = (code: Promise<number>) => void;

export function reportCommand(io: CliIO, run: Run): Command {
  return new Command("report")
    .description("write a dataset's data report: one self-contained HTML page of charts and tables")
    .argument("<dataset>", "dataset folder")
    .requiredOption("--out <file>", "HTML file to write (written atomically)")
    .option("--split <dir>", "split folder from `movierec split`: adds cold-start users and movies of its test part")
    .option("--compare <result.json>", "model results (`movierec cv --json`, `evaluate --json`, one per line or an array): adds the model comparison")
    .option("--force", "replace --out if it exists")
    .addHelpText(
      "after",
      "\nExample:\n  movierec report data/netflix --split data/netflix-split --compare results.json --out report.html\n",
    )
    .action((dataset: string, o) =>
      run(
        (async () => {
          const t0 = performance.now();
          const res = await writeReport(o.out, {
            dataset,
            split: o.split,
            compare: o.compare,
            force: !!o.force,
            onProgress: (done, total, step) => io.err(`report: ${step}${total > 1 && done < total ? ` (${done + 1}/${total})` : ""}\n`),
            onWarning: (message) => io.err(`report: warning: ${message}\n`),
          });
          io.out(`wrote ${o.out}: ${res.charts.length} charts, ${Math.round(res.bytes / 1024)} KB in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
          return EXIT_OK;
        })(),
      ),
    );
}
