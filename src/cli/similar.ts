/**
 * `movierec similar <model-or-dataset> --movie <rawId or title> [--n 10] [--json]`: the movies most
 * similar to one movie, with scores. From a model file: the model's own movie–movie similarity
 * (knn-item's neighbour lists, knn-user's item similarity, mf's factor cosine, ...). From a dataset
 * folder or rating file: computed on the fly for that one movie from the ratings of its raters
 * (pearson-baseline with shrinkage 100 unless --sim/--shrinkage/--min-support say otherwise).
 */
import { Command, Option } from "commander";
import { open } from "node:fs/promises";
import { IdIndex } from "../data/ids.js";
import { loadRatings } from "../data/ingest.js";
import { DataError, type RawId } from "../data/types.js";
import { topN } from "../models/model.js";
import { loadModel } from "../models/registry.js";
import { movieSimilarities, SIMILARITY_KINDS, type SimilarityKind } from "../models/similarity.js";
import { EXIT_OK, EXIT_USAGE, parseFloatOption, parseIntOption, table } from "./common.js";
import type { CliIO } from "./io.js";

type Run = (code: Promise<number>) => void;

/** The first bytes of every model file (see models/io.ts). */
const MODEL_MAGIC = "MOVIEREC";

/** Where a movie name is looked up: raw id ↔ dense index, and the titles by dense index. */
export interface MovieTable {
  indexOf(id: RawId): number;
  idAt(index: number): RawId;
  titles: (string | null)[] | null;
}

/** A movie the user named: its dense index, raw id and title. */
interface Named {
  index: number;
  id: RawId;
  title: string | null;
}

interface SimilarList {
  movie: Named;
  items: { movie: RawId; title: string | null; score: number }[];
  source: string;
}

export function similarCommand(io: CliIO, run: Run): Command {
  return new Command("similar")
    .description("movies most similar to a movie, from a model or computed from a dataset")
    .argument("<model-or-dataset>", "model file, or dataset folder / rating file (similarity computed for the one movie)")
    .requiredOption("--movie <rawId or title>", "movie id as in the source data, or a case-insensitive part of its title")
    .option("--n <n>", "how many movies", parseIntOption("n", 1), 10)
    .addOption(new Option("--sim <name>", "similarity, from a dataset only").choices([...SIMILARITY_KINDS]))
    .option("--shrinkage <x>", "pearson-baseline shrinkage, from a dataset only (default 100)", parseFloatOption("shrinkage", 0))
    .option("--min-support <n>", "fewest co-ratings for a similarity, from a dataset only (default 1)", parseIntOption("min-support", 1))
    .option("--json", "print JSON")
    .addHelpText("after", '\nExamples:\n  movierec similar knn-item.model --movie "toy story"\n  movierec similar ../shared/data/ml-100k --movie 50 --n 5 --json\n')
    .action((path: string, o) =>
      run(
        (async () => {
          const result = (await isModelFile(path)) ? await fromModel(path, o) : await fromDataset(path, o);
          if (result === null) return EXIT_USAGE;
          print(io, result, o.json === true);
          return EXIT_OK;
        })(),
      ),
    );

  /** Reports several title matches on stderr; returns null so the command exits 2. */
  function pick(movies: MovieTable, query: string): Named | null {
    const found = findMovie(movies, query);
    if (!Array.isArray(found)) return found;
    io.err(`movierec: "${query}" matches ${found.length} titles:\n`);
    for (const m of found.slice(0, 20)) io.err(`  ${String(m.id).padStart(8)}  ${m.title}\n`);
    if (found.length > 20) io.err(`  … and ${found.length - 20} more\n`);
    io.err("hint: give the movie id, or more of the title\n");
    return null;
  }

  async function fromModel(path: string, o: Record<string, unknown>): Promise<SimilarList | null> {
    for (const flag of ["sim", "shrinkage", "minSupport"]) {
      if (o[flag] !== undefined) {
        throw new DataError(`--${flag === "minSupport" ? "min-support" : flag} applies when computing from a dataset`, "a model uses its own similarity");
      }
    }
    const model = await loadModel(path);
    const named = pick({ indexOf: (id) => model.movieIndexOf(id), idAt: (i) => model.rawMovieId(i), titles: model.titles }, String(o.movie));
    if (named === null) return null;
    const [s] = model.similarItems([named.id], { n: o.n as number });
    return {
      movie: named,
      items: s!.movieIds.map((id, k) => ({ movie: id, title: s!.titles[k] ?? null, score: s!.scores[k]! })),
      source: `${model.algo} model`,
    };
  }

  async function fromDataset(path: string, o: Record<string, unknown>): Promise<SimilarList | null> {
    const ds = await loadRatings(path);
    const index = new IdIndex(ds.movies);
    const named = pick({ indexOf: (id) => index.index(id), idAt: (i) => ds.movies[i]!, titles: ds.titles }, String(o.movie));
    if (named === null) return null;
    const sim = (o.sim as SimilarityKind | undefined) ?? "pearson-baseline";
    const row = await movieSimilarities(ds, named.index, { sim, shrinkage: o.shrinkage as number | undefined, minSupport: o.minSupport as number | undefined });
    const excluded = Uint8Array.from(row, (s, j) => (j === named.index || !(s > 0) ? 1 : 0));
    const top = topN(row, excluded, o.n as number).filter((j) => !excluded[j]);
    return {
      movie: named,
      items: top.map((j) => ({ movie: ds.movies[j]!, title: ds.titles?.[j] ?? null, score: row[j]! })),
      source: `${sim} similarity from the ratings`,
    };
  }
}

function print(io: CliIO, r: SimilarList, json: boolean): void {
  if (json) {
    io.out(JSON.stringify({ movie: r.movie.id, title: r.movie.title, source: r.source, items: r.items }) + "\n");
    return;
  }
  io.out(`movies similar to ${r.movie.id}${r.movie.title ? ` (${r.movie.title})` : ""}, by ${r.source}:\n`);
  if (r.items.length === 0) {
    io.out("(none: no movie shares enough raters with it)\n");
    return;
  }
  io.out(table(["rank", "movie", "score", "title"], r.items.map((x, k) => [String(k + 1), String(x.movie), x.score, x.title ?? ""])));
}

/**
 * The movie a query names: an exact raw id first; else titles containing it (case-insensitive) —
 * one match, or an exact title among several, is the movie; several are returned for the caller
 * to list. None: a DataError.
 */
export function findMovie(movies: MovieTable, query: string): Named | Named[] {
  const { titles } = movies;
  const byId = movies.indexOf(query);
  if (byId >= 0) return { index: byId, id: movies.idAt(byId), title: titles?.[byId] ?? null };
  const q = query.trim().toLowerCase();
  if (titles === null || q === "") {
    throw new DataError(`no movie with id "${query}"`, titles === null ? "this data has no titles: give a movie id" : "give a movie id or part of a title");
  }
  const matches: Named[] = [];
  titles.forEach((t, index) => {
    if (t !== null && t.toLowerCase().includes(q)) matches.push({ index, id: movies.idAt(index), title: t });
  });
  if (matches.length === 0) throw new DataError(`no movie with id or title "${query}"`, "give a movie id, or part of its title");
  if (matches.length === 1) return matches[0]!;
  const exact = matches.filter((m) => m.title!.toLowerCase() === q);
  return exact.length === 1 ? exact[0]! : matches;
}

async function isModelFile(path: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch {
    return false;
  }
  try {
    if (!(await handle.stat()).isFile()) return false;
    const head = Buffer.alloc(MODEL_MAGIC.length);
    await handle.read(head, 0, head.length, 0);
    return head.toString("latin1") === MODEL_MAGIC;
  } finally {
    await handle.close();
  }
}
