/** `movierec ingest`, `generate` and `split`: raw files and generated data into dataset folders. */
import { Command, Option } from "commander";
import { readDataset } from "../data/dataset.js";
import { generate } from "../data/generate.js";
import { generatePrize } from "../data/prize-gen.js";
import { ingest } from "../data/ingest.js";
import { ingestHttp } from "../data/readers/http.js";
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
    .argument("<kind>", "netflix | movielens | csv | http")
    .argument("<paths...>", "files or folders (a Netflix folder, training_set/, combined_data_*.txt, movie_titles.*; u.data, ratings.dat, ratings.csv; any CSV); http: one URL")
    .requiredOption("--out <dir>", "dataset folder to write (written atomically)")
    .option("--force", "replace --out if it exists")
    .option("--user-col <name>", "csv: column holding the user id (default: user, userId)")
    .option("--item-col <name>", "csv: column holding the movie id (default: item, movie, movieId)")
    .option("--rating-col <name>", "csv: column holding the rating (default: rating)")
    .option("--timestamp-col <name>", "csv: column of Unix timestamps in seconds")
    .option("--date-col <name>", "csv: column of YYYY-MM-DD dates")
    .option("--delimiter <char>", "csv, http: field separator", ",")
    .option("--min-rating <x>", "csv, http: lowest allowed rating (rows below are refused)", parseFloatOption("min-rating"))
    .option("--max-rating <x>", "csv, http: highest allowed rating (rows above are refused)", parseFloatOption("max-rating"))
    .addOption(new Option("--format <format>", "http: body format (default: from the content-type)").choices(["json", "ndjson", "csv"]))
    .addOption(new Option("--paging <style>", "http: page (?page=N until an empty page), cursor (follow the body's next or the Link header), none; auto: cursor if the first page names a next one, page with --page-param/--page-size, else none").choices(["auto", "page", "cursor", "none"]).default("auto"))
    .option("--records <path>", "http: dotted path of the records array in a JSON body (default: the body, items, data, records, results, ratings)")
    .option("--user-field <name>", "http: field (dotted path) or CSV column of the user id (default: user, userId, user_id)")
    .option("--movie-field <name>", "http: field or column of the movie id (default: item, movie, movieId, ...)")
    .option("--rating-field <name>", "http: field or column of the rating (default: rating)")
    .option("--timestamp-field <name>", "http: field or column of Unix timestamps in seconds (default: timestamp)")
    .option("--date-field <name>", "http: field or column of YYYY-MM-DD dates (default: date)")
    .option("--page-param <name>", "http: query parameter of the page number (default: page)")
    .option("--first-page <n>", "http: number of the first page (default: 1)", parseIntOption("first-page", 0))
    .option("--page-size <n>", "http: records per page to ask for", parseIntOption("page-size", 1))
    .option("--page-size-param <name>", "http: query parameter of the page size (default: per_page)")
    .option("--next-field <path>", "http: where a JSON body names the next page (default: next, next_cursor, nextCursor, links.next)")
    .option("--cursor-param <name>", "http: query parameter a next-page token is sent back in (default: cursor)")
    .option("--header <header>", 'http: request header "Name: value" (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option("--timeout <ms>", "http: retry a request after this long without data from the server", parseIntOption("timeout", 1), 30_000)
    .option("--retries <n>", "http: retries of a failing request, with doubling delays", parseIntOption("retries", 0), 5)
    .option("--backoff <ms>", "http: delay before the first retry", parseIntOption("backoff", 0), 500)
    .option("--max-pages <n>", "http: stop after this many pages", parseIntOption("max-pages", 1))
    .addHelpText("after", "\nExample:\n  movierec ingest netflix ./netflix-prize --out data/netflix\n  movierec ingest csv ratings.csv --user-col uid --item-col mid --out data/mine\n  movierec ingest http 'https://api.example.com/ratings' --page-size 500 --records data.items --out data/api\n" +
      "\nAn interrupted http ingest keeps its pages in <out>.partial/: the same command again continues where it stopped.\n")
    .action((kind: string, paths: string[], o) =>
      run(
        (async () => {
          if (!["netflix", "movielens", "csv", "http"].includes(kind)) {
            throw new DataError(`unknown source kind "${kind}"`, "use netflix, movielens, csv or http");
          }
          const scale = o.minRating !== undefined || o.maxRating !== undefined ? { min: o.minRating ?? -Infinity, max: o.maxRating ?? Infinity } : undefined;
          if (kind === "http") return ingestFromApi(io, paths, o, scale);
          const bar = progressBar(io, "ingest", "MB");
          const t0 = performance.now();
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

/** `ingest http <url>`: the pages of a web API (see src/data/readers/http.ts), with a progress bar and retry notes. */
async function ingestFromApi(io: CliIO, urls: string[], o: Record<string, any>, scale: { min: number; max: number } | undefined): Promise<number> {
  if (urls.length !== 1) throw new DataError(`ingest http takes one URL (got ${urls.length})`, "quote the URL if it holds & or ?");
  const headers: Record<string, string> = {};
  for (const h of o.header as string[]) {
    const colon = h.indexOf(":");
    if (colon <= 0) throw new DataError(`--header "${h}" is not "Name: value"`);
    headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
  }
  const bar = progressBar(io, "ingest", "pages");
  const t0 = performance.now();
  const res = await ingestHttp(urls[0]!, o.out, {
    format: o.format,
    paging: o.paging,
    records: o.records,
    fields: { user: o.userField, movie: o.movieField, rating: o.ratingField, timestamp: o.timestampField, date: o.dateField },
    delimiter: o.delimiter,
    scale,
    pageParam: o.pageParam,
    firstPage: o.firstPage,
    pageSize: o.pageSize,
    pageSizeParam: o.pageSizeParam,
    nextField: o.nextField,
    cursorParam: o.cursorParam,
    headers,
    timeoutMs: o.timeout,
    retries: o.retries,
    backoffMs: o.backoff,
    maxPages: o.maxPages,
    force: !!o.force,
    onPage: (p) => bar.update(p.pages, p.pages + 1, { info: `${p.records.toLocaleString("en-US")} records` }),
    onRetry: (r) => io.err(`movierec: ${r.url}: ${r.reason}; retry ${r.attempt} in ${(r.delayMs / 1000).toFixed(1)} s\n`),
  }).finally(() => bar.stop());
  if (res.resumedPages > 0) io.err(`note: continued an interrupted ingest: ${res.resumedPages} pages were kept from it\n`);
  if (!res.complete) io.err(`note: stopped after --max-pages ${o.maxPages}; the API has more pages\n`);
  io.out(`wrote ${o.out}: ${summary(res.dataset)} from ${res.pages} pages in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return EXIT_OK;
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
    .option("--prize [layout]", "write a whole Netflix Prize folder: training_set/mv_*.txt (or combined_data_*.txt with layout \"combined\"), probe.txt, qualifying.txt, qualifying-answers.txt, movie_titles.txt")
    .option("--force", "replace --out if it exists")
    .addHelpText("after", "\nThe defaults are the full Netflix Prize shape (100M ratings). A quick sample:\n  movierec generate --users 20000 --movies 3000 --ratings 2000000 --out data/sample\nA Prize folder to rehearse `movierec prize` on:\n  movierec generate --prize --users 50000 --movies 5000 --ratings 3000000 --out data/prize\n")
    .action((o) =>
      run(
        (async () => {
          const bar = progressBar(io, "generate", "ratings", o.ratings);
          const t0 = performance.now();
          if (o.prize) {
            if (o.text) throw new DataError("--text and --prize do not go together", "--prize writes Netflix text files; --prize combined puts the ratings in combined_data_*.txt");
            const layout = o.prize === true ? undefined : o.prize;
            const p = await generatePrize({ users: o.users, movies: o.movies, ratings: o.ratings, seed: o.seed, out: o.out, layout, force: !!o.force, onProgress: (done, total) => bar.update(done, total) }).finally(() => bar.stop());
            const rec = p.generator.prize;
            io.out(
              `wrote ${o.out} (Netflix Prize folder) in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${rec.training.toLocaleString("en-US")} training ratings ` +
                `(probe ${rec.probe.toLocaleString("en-US")} included), ${rec.qualifying.toLocaleString("en-US")} qualifying; ` +
                `planted-model RMSE (noise floor) probe ${rec.noiseFloorProbeRmse.toFixed(4)}, qualifying ${rec.noiseFloorQualifyingRmse.toFixed(4)}\n`,
            );
            return EXIT_OK;
          }
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
    .option("--last-fraction <f>", "probe: instead of --last, each user's latest floor(n·f) of n ratings held out", parseFloatOption("last-fraction", 0, 1))
    .option("--folds <k>", "kfold: number of folds", parseIntOption("folds", 2))
    .option("--seed <s>", "random seed (ties on a day, fold assignment)", parseIntOption("seed"), 1)
    .option("--force", "replace --out if it exists")
    .action((path: string, o) =>
      run(
        (async () => {
          const ds = await readDataset(path);
          const parts = split(ds, { method: o.method, ratio: o.ratio, last: o.last, lastFraction: o.lastFraction, folds: o.folds, seed: o.seed });
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
