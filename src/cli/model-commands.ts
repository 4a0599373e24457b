/** `movierec train`, `eval`, `evaluate`, `cv`, `recommend`, `predict`, `algorithms`. */
import { Command } from "commander";
import { loadRatings } from "../data/ingest.js";
import { loadMovieLensFolds } from "../data/readers/movielens.js";
import type { RawId } from "../data/types.js";
import { crossValidate, evaluateModel } from "../eval/evaluate.js";
import { RANKING_DEFAULTS } from "../eval/ranking.js";
import type { FitOptions, Model } from "../models/model.js";
import { algorithmSpecs, createModel, loadModel } from "../models/registry.js";
import { rankingTable, rankingWithProgress } from "./compare.js";
import { addModelOptions, addTrainingOptions, checkMaxRmse, EXIT_OK, modelParams, parseFloatOption, parseIntOption, round, table, trainingOptions } from "./common.js";
import type { CliIO } from "./io.js";
import { progressBar } from "./progress.js";

type Run = (code: Promise<number>) => void;

/** Fits `model` on `train` with an epoch progress bar. Returns fit seconds. */
export async function fitWithProgress(
  io: CliIO,
  model: Model,
  train: Parameters<Model["fit"]>[0],
  label = "train",
  opts: FitOptions = {},
): Promise<number> {
  const epochs = typeof model.params.epochs === "number" ? model.params.epochs : 1;
  const bar = progressBar(io, label, "epochs", epochs);
  const t0 = performance.now();
  // Ctrl-C stops training between blocks; the command then ends without writing anything.
  const ctl = new AbortController();
  const onSigint = () => ctl.abort();
  process.once("SIGINT", onSigint);
  try {
    await model.fit(train, {
      ...opts,
      signal: ctl.signal,
      onEpoch: (e) => {
        const valid = e.validRmse === null ? "" : ` | valid ${e.validRmse.toFixed(4)}`;
        bar.update(e.epoch, e.epochs, { info: `train RMSE ${e.trainRmse.toFixed(4)}${valid}` });
        opts.onEpoch?.(e);
      },
    });
  } finally {
    process.removeListener("SIGINT", onSigint);
    bar.stop();
  }
  return (performance.now() - t0) / 1000;
}

function rawId(s: string): RawId {
  return s;
}

export function trainCommand(io: CliIO, run: Run): Command {
  return addTrainingOptions(addModelOptions(
    new Command("train")
      .description("fit a model on a dataset folder or rating file and save it")
      .argument("<dataset-or-file>", "dataset folder, MovieLens u.data/ratings.csv, Netflix text file or folder")
      .requiredOption("--out <model>", "model file to write (written atomically)"),
  ))
    .addHelpText("after", "\nExample:\n  movierec train data/split/train --algo mf --factors 100 --epochs 20 --out mf.model\n")
    .action((path: string, o) =>
      run(
        (async () => {
          const model = createModel(o.algo, modelParams(o));
          const train = await loadRatings(path);
          const secs = await fitWithProgress(io, model, train, "train", trainingOptions(o));
          await model.save(o.out);
          io.out(`trained ${model.algo} on ${train.meta.nRatings.toLocaleString("en-US")} ratings in ${secs.toFixed(1)} s; wrote ${o.out}\n`);
          return EXIT_OK;
        })(),
      ),
    );
}

export function evalCommand(io: CliIO, run: Run): Command {
  return new Command("eval")
    .description("score a saved model on test ratings: RMSE, MAE, MAPE, count")
    .argument("<model>", "model file")
    .argument("<dataset-or-file>", "test ratings (dataset folder or rating file)")
    .option("--json", "print JSON")
    .option("--max-rmse <x>", "exit 1 when the RMSE is above this", parseFloatOption("max-rmse", 0))
    .option("--ranking", "also score top-k recommendations: precision, recall, NDCG, MAP @k and coverage (relevant = test rating ≥ 4)")
    .option("--k <k>", "list length for --ranking", parseIntOption("k", 1), RANKING_DEFAULTS.k)
    .option("--users <n>", "--ranking scores a seeded sample of at most this many test users (0 = all)", parseIntOption("users", 0), RANKING_DEFAULTS.maxUsers)
    .action((modelPath: string, path: string, o) =>
      run(
        (async () => {
          const model = await loadModel(modelPath);
          const test = await loadRatings(path);
          const s = evaluateModel(model, test);
          const ranking = o.ranking ? rankingWithProgress(io, model, test, { k: o.k, maxUsers: o.users }) : undefined;
          if (o.json) io.out(JSON.stringify({ algo: model.algo, params: model.params, rmse: s.rmse, mae: s.mae, mape: s.mape, n: s.n, ranking }) + "\n");
          else {
            io.out(table(["algo", "RMSE", "MAE", "MAPE %", "count"], [[model.algo, s.rmse, s.mae, s.mape, s.n]]));
            if (ranking) io.out("\n" + rankingTable(ranking));
          }
          return checkMaxRmse(s.rmse, o.maxRmse, io.err);
        })(),
      ),
    );
}

export function evaluateCommand(io: CliIO, run: Run): Command {
  return addTrainingOptions(addModelOptions(
    new Command("evaluate")
      .description("train on one set and score on another, in one go (formats detected)")
      .requiredOption("--train <file-or-dataset>", "training ratings")
      .requiredOption("--test <file-or-dataset>", "test ratings")
      .option("--json", 'print JSON: {"algo","params","rmse","mae","mape","n","fitSeconds"}')
      .option("--max-rmse <x>", "exit 1 when the RMSE is above this", parseFloatOption("max-rmse", 0)),
  ))
    .addHelpText("after", "\nExample:\n  movierec evaluate --train ../ml-100k/u1.base --test ../ml-100k/u1.test --algo mf --json\n")
    .action((o) =>
      run(
        (async () => {
          const model = createModel(o.algo, modelParams(o));
          const train = await loadRatings(o.train);
          const test = await loadRatings(o.test);
          const fitSeconds = await fitWithProgress(io, model, train, "train", trainingOptions(o));
          const s = evaluateModel(model, test);
          if (o.json) {
            io.out(JSON.stringify({ algo: model.algo, params: model.params, rmse: s.rmse, mae: s.mae, mape: s.mape, n: s.n, fitSeconds: round(fitSeconds, 3) }) + "\n");
          } else {
            io.out(table(["algo", "RMSE", "MAE", "MAPE %", "count", "fit s"], [[model.algo, s.rmse, s.mae, s.mape, s.n, fitSeconds]]));
          }
          return checkMaxRmse(s.rmse, o.maxRmse, io.err);
        })(),
      ),
    );
}

export function cvCommand(io: CliIO, run: Run): Command {
  return addTrainingOptions(addModelOptions(
    new Command("cv")
      .description("cross-validate on the official MovieLens 100K folds u1–u5 (uN.base / uN.test)")
      .argument("<folder>", "MovieLens 100K folder (e.g. ml-100k)")
      .option("--json", 'print JSON: {"algo","params","folds":[{"rmse","mae","mape"}],"mean":{"rmse","mae","mape"}}')
      .option("--max-rmse <x>", "exit 1 when the mean RMSE is above this", parseFloatOption("max-rmse", 0)),
  ))
    .addHelpText("after", "\nExample:\n  movierec cv ../shared/data/ml-100k --algo mf --json\n")
    .action((folder: string, o) =>
      run(
        (async () => {
          const params = modelParams(o);
          const folds = await loadMovieLensFolds(folder);
          const bar = progressBar(io, "cv", "folds", folds.length);
          const res = await crossValidate(() => createModel(o.algo, params), folds, {
            onFold: (done, _total, r) => bar.update(done, undefined, { info: `${r.name} RMSE ${r.rmse.toFixed(4)}` }),
            fit: trainingOptions(o),
          }).finally(() => bar.stop());
          const params2 = createModel(o.algo, params).params;
          if (o.json) {
            io.out(
              JSON.stringify({
                algo: o.algo,
                params: params2,
                folds: res.folds.map((f) => ({ name: f.name, rmse: f.rmse, mae: f.mae, mape: f.mape, n: f.n, fitSeconds: round(f.fitSeconds, 3) })),
                mean: res.mean,
              }) + "\n",
            );
          } else {
            const rows: (string | number)[][] = res.folds.map((f) => [f.name, f.rmse, f.mae, f.mape, f.fitSeconds]);
            rows.push(["mean", res.mean.rmse, res.mean.mae, res.mean.mape, res.folds.reduce((s, f) => s + f.fitSeconds, 0) / res.folds.length]);
            io.out(`${o.algo} ${JSON.stringify(params2)}\n` + table(["fold", "RMSE", "MAE", "MAPE %", "fit s"], rows));
          }
          return checkMaxRmse(res.mean.rmse, o.maxRmse, io.err);
        })(),
      ),
    );
}

export function recommendCommand(io: CliIO, run: Run): Command {
  return new Command("recommend")
    .description("top-N movies for a user (unknown users get the most popular movies by baseline)")
    .argument("<model>", "model file")
    .requiredOption("--user <rawId>", "user id as in the source data", rawId)
    .option("--n <n>", "how many movies", parseIntOption("n", 1), 10)
    .option("--include-seen", "also recommend movies the user already rated")
    .option("--json", "print JSON")
    .action((modelPath: string, o) =>
      run(
        (async () => {
          const model = await loadModel(modelPath);
          const [rec] = model.recommend([o.user], { n: o.n, excludeSeen: !o.includeSeen });
          if (o.json) {
            io.out(JSON.stringify({ user: o.user, fallback: rec!.fallback, reason: rec!.reason, items: rec!.movieIds.map((id, k) => ({ movie: id, title: rec!.titles[k], score: rec!.scores[k] })) }) + "\n");
            return EXIT_OK;
          }
          if (rec!.fallback) io.err(`note: ${rec!.reason}\n`);
          io.out(table(["rank", "movie", "score", "title"], rec!.movieIds.map((id, k) => [String(k + 1), String(id), rec!.scores[k]!, rec!.titles[k] ?? ""])));
          return EXIT_OK;
        })(),
      ),
    );
}

export function predictCommand(io: CliIO, run: Run): Command {
  return new Command("predict")
    .description("predicted rating of one movie by one user")
    .argument("<model>", "model file")
    .requiredOption("--user <rawId>", "user id as in the source data", rawId)
    .requiredOption("--movie <rawId>", "movie id as in the source data", rawId)
    .option("--json", "print JSON")
    .action((modelPath: string, o) =>
      run(
        (async () => {
          const model = await loadModel(modelPath);
          const e = model.predictOne(o.user, o.movie);
          if (o.json) io.out(JSON.stringify({ user: o.user, movie: o.movie, est: e.est, impossible: e.impossible, reason: e.reason }) + "\n");
          else {
            if (e.impossible) io.err(`note: ${e.reason}\n`);
            const i = model.movieIndexOf(o.movie);
            const title = i >= 0 ? model.title(i) : null;
            io.out(`${e.est.toFixed(3)}${title ? `  ${title}` : ""}\n`);
          }
          return EXIT_OK;
        })(),
      ),
    );
}

export function algorithmsCommand(io: CliIO, run: Run): Command {
  return new Command("algorithms").description("list the algorithms and their hyperparameters with defaults").action(() =>
    run(
      (async () => {
        for (const a of algorithmSpecs()) {
          io.out(`${a.algo}: ${a.description}\n`);
          for (const p of a.params) {
            const def = p.inherits ? `= ${p.inherits}` : String(p.default);
            const when = p.when ? ` (with ${p.when.param}=${p.when.values.join("|")})` : "";
            io.out(`  --${p.name.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())} ${def}${when}  ${p.help}\n`);
          }
        }
        return EXIT_OK;
      })(),
    ),
  );
}

