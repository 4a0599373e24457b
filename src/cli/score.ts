/** `movierec score`: RMSE of a qualifying-format prediction file against an answer file in the same order. */
import { Command } from "commander";
import { standing } from "../prize/reference.js";
import { readSubmission, scoreSubmission } from "../prize/submission.js";
import { checkMaxRmse, parseFloatOption, round } from "./common.js";
import type { CliIO } from "./io.js";

type Run = (code: Promise<number>) => void;

export function scoreCommand(io: CliIO, run: Run): Command {
  return new Command("score")
    .description("RMSE of qualifying-format predictions (MovieID: lines, one rating per line) against answers in the same order")
    .argument("<predictions>", "predictions, e.g. <out>/qualifying-predictions.txt from `movierec prize`")
    .argument("<answers>", "the true ratings in the same format, e.g. qualifying-answers.txt of a generated Prize folder")
    .option("--json", 'print JSON: {"rmse","n","improvementPct",...}')
    .option("--max-rmse <x>", "exit 1 when the RMSE is above this", parseFloatOption("max-rmse", 0))
    .action((predictions: string, answers: string, o) =>
      run(
        (async () => {
          const s = scoreSubmission(await readSubmission(predictions), await readSubmission(answers));
          const st = standing(s.rmse);
          if (o.json) io.out(JSON.stringify({ predictions, answers, rmse: s.rmse, n: s.n, ...st }) + "\n");
          else {
            io.out(
              `RMSE ${s.rmse.toFixed(4)} over ${s.n.toLocaleString("en-US")} ratings: ${Math.abs(st.improvementPct).toFixed(2)}% ` +
                `${st.improvementPct >= 0 ? "better" : "worse"} than Cinematch's ${st.cinematchQuizRmse} (grand prize ${st.grandPrizeRmse})\n`,
            );
          }
          return checkMaxRmse(round(s.rmse, 6), o.maxRmse, io.err);
        })(),
      ),
    );
}
