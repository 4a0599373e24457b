/** `movierec similar`: from a dataset and from a model, by id or title, with the exit-code contract. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findMovie } from "../../src/cli/similar.js";
import { recordingIO } from "../../src/cli/io.js";
import { execute } from "../../src/cli/program.js";
import { Rng } from "../../src/data/rng.js";
import { DataError } from "../../src/data/types.js";

const tmp = mkdtempSync(join(tmpdir(), "movierec-similar-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(...argv: string[]) {
  const io = recordingIO();
  const code = await execute(argv, io);
  return { code, out: io.stdout, err: io.stderr };
}

// A MovieLens-style folder: 60 users, 30 movies in 3 taste groups, titles with a shared word.
const folder = join(tmp, "ml");
mkdirSync(folder);
const rng = new Rng(12);
const lines: string[] = [];
for (let u = 1; u <= 60; u++) {
  for (let i = 1; i <= 30; i++) {
    if (rng.next() < 0.35) continue;
    const taste = (u % 3) === (i % 3) ? 1.2 : -0.6;
    const r = Math.max(1, Math.min(5, Math.round(3.2 + taste + 0.8 * rng.normal())));
    lines.push(`${u}\t${i}\t${r}\t${881250949 + u * 100 + i}`);
  }
}
writeFileSync(join(folder, "u.data"), lines.join("\n") + "\n");
const TITLES = Array.from({ length: 30 }, (_, k) => (k === 0 ? "Alpha Story (1995)" : k === 1 ? "Alpha Story 2 (1999)" : k === 2 ? "Alpha" : `Movie ${k + 1} (2000)`));
writeFileSync(join(folder, "u.item"), TITLES.map((t, k) => `${k + 1}|${t}|01-Jan-1995||http://x|0|0|0`).join("\n") + "\n");

interface Listing {
  movie: number;
  title: string | null;
  source: string;
  items: { movie: number; title: string | null; score: number }[];
}

test("from a dataset, by id: the n most similar other movies, positive scores best first, as JSON", async () => {
  const r = await cli("similar", folder, "--movie", "4", "--n", "5", "--json");
  assert.is(r.code, 0, r.err);
  const res = JSON.parse(r.out) as Listing;
  assert.is(res.movie, 4);
  assert.is(res.title, "Movie 4 (2000)");
  assert.match(res.source, "pearson-baseline");
  assert.ok(res.items.length > 0 && res.items.length <= 5);
  assert.not.ok(res.items.some((x) => x.movie === 4));
  res.items.forEach((x, k) => assert.ok(x.score > 0 && (k === 0 || res.items[k - 1]!.score >= x.score)));
  // Same taste group (i ≡ 4 mod 3) should dominate the top of the list.
  assert.is(res.items[0]!.movie % 3, 1);
  const cosine = JSON.parse((await cli("similar", folder, "--movie", "4", "--n", "5", "--json", "--sim", "cosine")).out) as Listing;
  assert.match(cosine.source, "cosine");
  assert.ok(cosine.items[0]!.score !== res.items[0]!.score);
});

test("by title: a unique part, an exact title among several; several matches list the candidates and exit 2", async () => {
  const unique = await cli("similar", folder, "--movie", "story 2");
  assert.is(unique.code, 0, unique.err);
  assert.match(unique.out, "movies similar to 2 (Alpha Story 2 (1999))");
  assert.match(unique.out, /rank\s+movie\s+score\s+title/);
  const exact = await cli("similar", folder, "--movie", "ALPHA", "--json");
  assert.is(exact.code, 0, exact.err);
  assert.is((JSON.parse(exact.out) as Listing).movie, 3);
  const several = await cli("similar", folder, "--movie", "alpha story");
  assert.is(several.code, 2);
  assert.match(several.err, '"alpha story" matches 2 titles');
  assert.match(several.err, "Alpha Story 2 (1999)");
  assert.match(several.err, "hint: give the movie id");
  const none = await cli("similar", folder, "--movie", "gamma");
  assert.is(none.code, 2);
  assert.match(none.err, 'no movie with id or title "gamma"');
});

test("from a model file: the model's own similarity; dataset-only flags are refused", async () => {
  const model = join(tmp, "knn.model");
  const trained = await cli("train", folder, "--algo", "knn-item", "--out", model);
  assert.is(trained.code, 0, trained.err);
  const r = await cli("similar", model, "--movie", "Movie 4", "--n", "3", "--json");
  assert.is(r.code, 0, r.err);
  const res = JSON.parse(r.out) as Listing;
  assert.is(res.source, "knn-item model");
  assert.ok(res.items.length > 0 && res.items.length <= 3);
  const refused = await cli("similar", model, "--movie", "4", "--shrinkage", "10");
  assert.is(refused.code, 2);
  assert.match(refused.err, "--shrinkage applies when computing from a dataset");
  const missing = await cli("similar", join(tmp, "nothing-here"), "--movie", "4");
  assert.is(missing.code, 2);
});

test("findMovie: ids first, then titles; no titles means ids only", () => {
  const ids = [10, 20, 30];
  const table = (titles: (string | null)[] | null) => ({ indexOf: (id: number | string) => ids.indexOf(Number(id)), idAt: (i: number) => ids[i]!, titles });
  assert.equal(findMovie(table(["Up", "Down", null]), "20"), { index: 1, id: 20, title: "Down" });
  assert.equal(findMovie(table(["Up", "Down", null]), "dow"), { index: 1, id: 20, title: "Down" });
  assert.throws(() => findMovie(table(null), "Up"), (e: unknown) => e instanceof DataError && /no movie with id "Up"/.test((e as Error).message));
});

test.run();
