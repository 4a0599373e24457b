/**
 * `movierec demo` (what `npm start` runs): the main job end to end on an embedded default —
 * a seeded Netflix-shaped sample, no downloads. Generate → ingest (dataset folder) → probe-style
 * split → train global-mean, movie-mean, baseline and mf → comparison table beside the planted
 * model's noise floor → save the best model → top-10 for one user.
 */
import { Command } from "commander";
import { join } from "node:path";
import { readDataset } from "../data/dataset.js";
import { generate, noiseFloor } from "../data/generate.js";
import { split, writeSplit } from "../data/split.js";
import { evaluateModel } from "../eval/evaluate.js";
import { createModel } from "../models/registry.js";
import { EXIT_OK, parseIntOption, table } from "./common.js";
import type { CliIO } from "./io.js";
import { fitWithProgress } from "./model-commands.js";

type Run = (code: Promise<number>) => void;

export function demoCommand(io: CliIO, run: Run): Command {
  return new Command("demo")
    .description("the whole pipeline on a generated Netflix-shaped sample (what `npm start` runs)")
    .option("--out <dir>", "working folder (replaced on each run)", "movierec-demo")
    .option("--users <n>", "users in the sample", parseIntOption("users", 1), 20_000)
    .option("--movies <n>", "movies in the sample", parseIntOption("movies", 1), 3_000)
    .option("--ratings <n>", "ratings in the sample", parseIntOption("ratings", 1), 2_000_000)
    .option("--seed <s>", "random seed", parseIntOption("seed"), 1)
    .action((o) =>
      run(
        (async () => {
          const t0 = performance.now();
          const say = (s: string) => io.err(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${s}\n`);
          const dataDir = join(o.out, "dataset");
          say(`generating ${o.ratings.toLocaleString("en-US")} Netflix-shaped ratings (${o.users} users × ${o.movies} movies, seed ${o.seed}) into ${dataDir}`);
          await generate({ users: o.users, movies: o.movies, ratings: o.ratings, seed: o.seed, out: dataDir, force: true });
          const ds = await readDataset(dataDir);
          say("probe-style split: each user's 5 latest ratings are the test set");
          const [part] = split(ds, { method: "probe", last: 5, seed: o.seed });
          await writeSplit(join(o.out, "split"), [part!], { force: true });
          const floor = noiseFloor(part!.test);

          const rows: (string | number)[][] = [];
          let best: { rmse: number; model: ReturnType<typeof createModel> } | null = null;
          for (const algo of ["global-mean", "movie-mean", "baseline", "mf"]) {
            const model = createModel(algo);
            say(`training ${algo}`);
            const fitSeconds = await fitWithProgress(io, model, part!.train, algo);
            const s = evaluateModel(model, part!.test);
            rows.push([algo, s.rmse, s.mae, s.mape, fitSeconds]);
            if (!best || s.rmse < best.rmse) best = { rmse: s.rmse, model };
          }
          if (floor !== null) rows.push(["planted model (noise floor)", floor, "", "", ""]);
          io.out(`\nTest RMSE on ${part!.test.meta.nRatings.toLocaleString("en-US")} held-out ratings (${part!.train.meta.nRatings.toLocaleString("en-US")} train):\n\n`);
          io.out(table(["model", "RMSE", "MAE", "MAPE %", "fit s"], rows));

          const modelPath = join(o.out, `best-${best!.model.algo}.model`);
          await best!.model.save(modelPath);
          const userId = ds.users[0]!;
          const [rec] = best!.model.recommend([userId], { n: 10 });
          io.out(`\nBest: ${best!.model.algo} (saved to ${modelPath}). Top 10 for user ${userId}:\n\n`);
          io.out(table(["rank", "movie", "score", "title"], rec!.movieIds.map((id, k) => [String(k + 1), String(id), rec!.scores[k]!, rec!.titles[k] ?? ""])));
          io.out(`\nDone in ${((performance.now() - t0) / 1000).toFixed(1)} s. Next: movierec recommend ${modelPath} --user ${userId}\n`);
          return EXIT_OK;
        })(),
      ),
    );
}
