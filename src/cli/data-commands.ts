/** `movierec ingest`, `generate` and `split`: raw files and generated data into dataset folders. */
import { Command, Option } from "commander";
import { readDataset } from "../data/dataset.js";
import { generate } from "../data/generate.js";
import { ingest } from "../data/ingest.js";
import { split, writeSplit } from "../data/split.js";
import { DataError, type Dataset } from "../data/types.js";
import { EXIT_OK, parseFloatOption, parseIntOption } from "./common.js";
import type { CliIO } from "./io.js";
import { megabytes, progressBar } from "./progress.js";

type Run = (code: Promise<number>) => void;

function summary(ds: Dataset): string {
  const m = ds.meta;
  return `${m.nRatings.toLocaleString("en-US")} ratings, ${m.nUsers.toLocaleString("en-US")} users, ${m.nMovies.toLocaleString("en-US")} movies`;
}

export function ingestCommand(io: CliIO, run: Run): Command {
  return new Command("ingest")
    .description("read raw rating files into a dataset folder (Arrow IPC + meta.json)")
    .argument("<kind>", "netflix | movielens | csv")
    .argument("<paths...>", "files or folders (a Netflix folder, training_set/, combined_data_*.txt, movie_titles.*; u.data, ratings.dat, ratings.csv; any CSV)")
    .requiredOption("--out <dir>", "dataset folder to write (written atomically)")
    .option("--force", "replace --out if it exists")
    .option("--user-col <name>", "csv: column holding the user id (default: user, userId)")
    .option("--item-col <name>", "csv: column holding the movie id (default: item, movie, movieId)")
    .option("--rating-col <name>", "csv: column holding the rating (default: rating)")
    .option("--timestamp-col <name>", "csv: column of Unix timestamps in seconds")
    .option("--date-col <name>", "csv: column of YYYY-MM-DD dates")
    .option("--delimiter <char>", "csv: field separator", ",")
    .option("--min-rating <x>", "csv: lowest allowed rating (rows below are refused)", parseFloatOption("min-rating"))
    .option("--max-rating <x>", "csv: highest allowed rating (rows above are refused)", parseFloatOption("max-rating"))
    .addHelpText("after", "\nExample:\n  movierec ingest netflix ./netflix-prize --out data/netflix\n  movierec ingest csv ratings.csv --user-col uid --item-col mid --out data/mine\n")
    .action((kind: string, paths: string[], o) =>
      run(
        (async () => {
          if (!["netflix", "movielens", "csv"].includes(kind)) {
            throw new DataError(`unknown source kind "${kind}"`, "use netflix, movielens or csv");
          }
          const bar = progressBar(io, "ingest", "MB");
          const t0 = performance.now();
          const scale = o.minRating !== undefined || o.maxRating !== undefined ? { min: o.minRating ?? -Infinity, max: o.maxRating ?? Infinity } : undefined;
          const ds = await ingest(kind as "netflix" | "movielens" | "csv", paths, o.out, {
            force: !!o.force,
            onProgress: (done, total) => bar.update(megabytes(done), megabytes(total)),
            csv: {
              user: o.userCol,
              item: o.itemCol,
              rating: o.ratingCol,
              timestamp: o.timestampCol,
              date: o.dateCol,
              delimiter: o.delimiter,
              scale,
            },
          }).finally(() => bar.stop());
          io.out(`wrote ${o.out}: ${summary(ds)} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
          return EXIT_OK;
        })(),
      ),
    );
}

export function generateCommand(io: CliIO, run: Run): Command {
  return new Command("generate")
    .description("generate a seeded Netflix-shaped rating set from a planted low-rank model")
    .option("--users <n>", "number of users", parseIntOption("users", 1), 480_189)
    .option("--movies <n>", "number of movies", parseIntOption("movies", 1), 17_770)
    .option("--ratings <n>", "number of ratings", parseIntOption("ratings", 1), 100_480_507)
    .option("--seed <s>", "random seed", parseIntOption("seed"), 1)
    .requiredOption("--out <dir>", "output folder")
    .option("--text", "write the Netflix Prize text format (combined_data_*.txt, movie_titles.txt) instead of a dataset folder")
    .option("--force", "replace --out if it exists")
    .addHelpText("after", "\nThe defaults are the full Netflix Prize shape (100M ratings). A quick sample:\n  movierec generate --users 20000 --movies 3000 --ratings 2000000 --out data/sample\n")
    .action((o) =>
      run(
        (async () => {
          const bar = progressBar(io, "generate", "ratings", o.ratings);
          const t0 = performance.now();
          const res = await generate({
            users: o.users,
            movies: o.movies,
            ratings: o.ratings,
            seed: o.seed,
            out: o.out,
            text: !!o.text,
            force: !!o.force,
            onProgress: (done, total) => bar.update(done, total),
          }).finally(() => bar.stop());
          const secs = ((performance.now() - t0) / 1000).toFixed(1);
          const floor = (res as { meta?: Dataset["meta"] }).meta?.generator?.noiseFloorRmse ?? (res as { generator?: Record<string, unknown> }).generator?.noiseFloorRmse;
          io.out(`wrote ${o.out} (${o.text ? "Netflix text" : "dataset folder"}) in ${secs} s; planted-model RMSE (noise floor) ${Number(floor).toFixed(4)}\n`);
          return EXIT_OK;
        })(),
      ),
    );
}

export function splitCommand(io: CliIO, run: Run): Command {
  return new Command("split")
    .description("split a dataset into train/test parts (deterministic for a seed)")
    .argument("<dataset>", "dataset folder")
    .addOption(new Option("--method <m>", "temporal: earliest --ratio by date train; probe: each user's last --last ratings test; kfold: --folds random folds").choices(["temporal", "probe", "kfold"]).makeOptionMandatory())
    .requiredOption("--out <dir>", "folder for train/ and test/ (kfold: fold1/…foldK/)")
    .option("--ratio <r>", "temporal: share of ratings (by date) that train", parseFloatOption("ratio", 0, 1))
    .option("--last <n>", "probe: ratings per user held out", parseIntOption("last", 1))
    .option("--folds <k>", "kfold: number of folds", parseIntOption("folds", 2))
    .option("--seed <s>", "random seed (ties on a day, fold assignment)", parseIntOption("seed"), 1)
    .option("--force", "replace --out if it exists")
    .action((path: string, o) =>
      run(
        (async () => {
          const ds = await readDataset(path);
          const parts = split(ds, { method: o.method, ratio: o.ratio, last: o.last, folds: o.folds, seed: o.seed });
          await writeSplit(o.out, parts, { force: !!o.force });
          for (const p of parts) {
            io.out(`${p.name}: train ${p.train.meta.nRatings.toLocaleString("en-US")} / test ${p.test.meta.nRatings.toLocaleString("en-US")} ratings\n`);
          }
          io.out(`wrote ${o.out}\n`);
          return EXIT_OK;
        })(),
      ),
    );
}
