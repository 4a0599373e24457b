/** `movierec prize`: the Netflix Prize protocol on a Prize folder, resumable from its out folder. */
import { Command } from "commander";
import { StopRequested } from "../engine/scheduler.js";
import { runPrize, type PrizeEvents, type PrizeResult } from "../prize/run.js";
import { addModelOptions, EXIT_OK, modelParams, table } from "./common.js";
import type { CliIO } from "./io.js";
import { fitWithProgress } from "./model-commands.js";
import { megabytes, progressBar, type Progress } from "./progress.js";

type Run = (code: Promise<number>) => void;

export function prizeCommand(io: CliIO, run: Run): Command {
  return addModelOptions(
    new Command("prize")
      .description("the Netflix Prize protocol: probe RMSE against Cinematch, then predictions for qualifying.txt")
      .argument("<netflix-folder>", "a Prize folder: training_set/ (or combined_data_*.txt), probe.txt, qualifying.txt, movie_titles.txt")
      .requiredOption("--out <dir>", "folder for the run's stages and results; run the same command again to resume")
      .option("--blend <models>", "blend these models (comma-separated): the blend model over them, instead of --algo; hyperparameter flags go to each model that has them")
      .option("--force", "start over in an --out folder made by an earlier run with other inputs or settings")
      .option("--json", "print result.json"),
    false,
  )
    .addHelpText(
      "after",
      "\nStages: ingest (<out>/dataset), probe-train (<out>/probe.json), full-train (<out>/qualifying-predictions.txt, <out>/result.json).\n" +
        "The probe ratings are taken out of training, the model is trained and scored on them, then trained again on everything\n" +
        "and predicts qualifying.txt. --algo defaults to mf.\n\nExamples:\n" +
        "  movierec generate --prize --users 50000 --movies 5000 --ratings 3000000 --out data/prize\n" +
        "  movierec prize data/prize --algo mf --factors 50 --epochs 30 --out runs/mf\n" +
        "  movierec score runs/mf/qualifying-predictions.txt data/prize/qualifying-answers.txt\n",
    )
    .action((folder: string, o) =>
      run(
        (async () => {
          const bars = stageBars(io);
          const result = await runPrize({
            folder,
            out: o.out,
            algo: o.algo,
            blend: o.blend === undefined ? undefined : String(o.blend).split(","),
            params: modelParams(o),
            force: !!o.force,
            events: bars.events,
          })
            .catch((err: unknown) => {
              if (err instanceof StopRequested) io.err(`note: the stages finished so far stay in ${o.out}; run the same command again to resume\n`);
              throw err;
            })
            .finally(() => bars.stop());
          io.out(o.json ? JSON.stringify(result, null, 2) + "\n" : summary(result));
          return EXIT_OK;
        })(),
      ),
    );
}

/** Stage notes on stderr and one progress bar per task (bars only on a terminal). */
function stageBars(io: CliIO): { events: PrizeEvents; stop(): void } {
  let bar: Progress | null = null;
  let task = "";
  const stop = () => {
    bar?.stop();
    bar = null;
    task = "";
  };
  const events: PrizeEvents = {
    stage(stage, status, marker) {
      stop();
      if (status === "skip") io.err(`${stage}: finished by an earlier run (${marker!.finishedAt}, ${marker!.seconds.toFixed(1)} s); resumed after it\n`);
      else if (status === "done") io.err(`${stage}: done in ${marker!.seconds.toFixed(1)} s\n`);
      else io.err(`${stage}: started\n`);
    },
    progress(name, done, total, unit) {
      if (name !== task) {
        stop();
        task = name;
        bar = progressBar(io, name, unit === "bytes" ? "MB" : unit, unit === "bytes" ? megabytes(total) : total);
      }
      if (unit === "bytes") bar!.update(megabytes(done), megabytes(total));
      else bar!.update(done, total);
    },
    note(text) {
      stop();
      io.err(`  ${text}\n`);
    },
    async fit(model, train, label) {
      stop();
      await fitWithProgress(io, model, train, label);
    },
  };
  return { events, stop };
}

/** The human summary: probe RMSE beside Cinematch and the grand prize, then where the predictions are. */
function summary(r: PrizeResult): string {
  const p = r.probe;
  const rows: (string | number)[][] = [
    ["Cinematch (quiz)", p.cinematchQuizRmse, ""],
    ["grand prize", p.grandPrizeRmse, ""],
    [`${p.model} (probe)`, p.rmse, `${p.improvementPct >= 0 ? "" : "-"}${Math.abs(p.improvementPct).toFixed(2)}% ${p.improvementPct >= 0 ? "better" : "worse"} than Cinematch`],
  ];
  for (const b of p.blend?.bases ?? []) rows.push([`  ${b.algo}`, "", `weight ${b.weight.toFixed(4)}`]);
  if (p.noiseFloorRmse !== null) rows.push(["planted model (probe)", p.noiseFloorRmse, "generated data: the noise floor"]);
  const verdict = p.reachesGrandPrize ? "reaches the grand-prize threshold" : p.beatsCinematch ? "beats Cinematch" : "does not beat Cinematch";
  return (
    `probe RMSE ${p.rmse.toFixed(4)} over ${p.n.toLocaleString("en-US")} ratings (trained on ${p.trainRatings.toLocaleString("en-US")}): ${verdict}\n\n` +
    table(["", "RMSE", ""], rows) +
    `\nwrote ${r.out}/${r.qualifying.predictions}: ${r.qualifying.n.toLocaleString("en-US")} predictions for qualifying.txt ` +
    `(trained on ${r.data.trainingRatings.toLocaleString("en-US")} ratings, probe included)\n`
  );
}
