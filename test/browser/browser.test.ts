/**
 * The browser example (examples/browser) in headless Chromium: its top-10 for a user equals
 * Model.recommend in Node exactly — ids, titles and float scores — for known users, an unknown
 * user (popular by baseline) and a baseline model with string ids; a damaged model file is refused on the page.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { makeDataset } from "../../src/data/dataset.js";
import { generateDataset } from "../../src/data/generate.js";
import type { RawId } from "../../src/data/types.js";
import type { Model } from "../../src/models/model.js";
import { createModel } from "../../src/models/registry.js";

const CHROMIUM = "/usr/bin/chromium";
const SERVE = new URL("../../../examples/browser/serve.mjs", import.meta.url);

interface Served {
  url: string;
  close(): Promise<void>;
}
type StartServer = (options: { model: string }) => Promise<Served>;

interface Row {
  movieId: string;
  title: string;
  score: string;
}

const tmp = mkdtempSync(join(tmpdir(), "movierec-browser-"));
let browser: Browser | null = null;
test.after(async () => {
  await browser?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Chromium, or null (with the reason printed) when it is not installed outside CI. */
async function launch(): Promise<Browser | null> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === "true") assert.unreachable(`${CHROMIUM} is missing (apt-get install chromium)`);
    console.log(`browser test: ${CHROMIUM} is not installed; nothing checked`);
    return null;
  }
  browser ??= await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  return browser;
}

/** Serves `modelFile` with the example's server and opens the page; resolves once it has started or failed. */
async function openPage(modelFile: string): Promise<{ page: Page; served: Served; state: string } | null> {
  const b = await launch();
  if (!b) return null;
  const { startServer } = (await import(SERVE.href)) as { startServer: StartServer };
  const served = await startServer({ model: modelFile });
  const page = await b.newPage();
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  await page.goto(served.url);
  await page.waitForSelector("body:not([data-state=loading])");
  assert.equal(errors, [], "uncaught errors on the page");
  return { page, served, state: (await page.getAttribute("body", "data-state"))! };
}

/** Types a user id into the page, submits, and reads the rendered rows. */
async function ask(page: Page, userId: RawId): Promise<{ rows: Row[]; fallback: boolean }> {
  await page.fill("#user", String(userId));
  await page.click("#go");
  await page.waitForSelector(`#results[data-user="${userId}"]`);
  const rows = await page.$$eval("#results tr", (trs) =>
    trs.map((tr) => ({ movieId: tr.dataset.movieId!, title: tr.children[2]!.textContent!, score: tr.dataset.score! })));
  return { rows, fallback: (await page.getAttribute("#results", "data-fallback")) === "true" };
}

/** The page's answers for `users` against model.recommend in Node: same ids, titles and float scores. */
async function assertSameAsNode(page: Page, model: Model, users: RawId[]): Promise<void> {
  const expected = model.recommend(users, { n: 10 });
  for (const [k, userId] of users.entries()) {
    const { rows, fallback } = await ask(page, userId);
    const node = expected[k]!;
    assert.is(rows.length, 10, `user ${userId}: rows`);
    assert.is(fallback, node.fallback, `user ${userId}: fallback`);
    assert.equal(rows.map((r) => r.movieId), node.movieIds.map(String), `user ${userId}: movie ids`);
    assert.equal(rows.map((r) => r.title), node.titles.map((t) => t ?? "(no title)"), `user ${userId}: titles`);
    // String(number) round-trips a double exactly, so equal strings mean bit-identical floats.
    assert.equal(rows.map((r) => r.score), node.scores.map(String), `user ${userId}: scores`);
  }
}

const data = generateDataset({ users: 3000, movies: 400, ratings: 60_000, seed: 5 });

/** Known users with different amounts of history (least, median and most rated, and one more), then an unknown one. */
function probeUsers(): RawId[] {
  const counts = new Int32Array(data.users.length);
  for (const u of data.ratings.user) counts[u]!++;
  const order = Array.from(counts.keys()).sort((a, b) => counts[a]! - counts[b]! || a - b);
  const picks = [order[0]!, order[order.length >> 1]!, order[order.length - 1]!, 17];
  return [...picks.map((u) => data.users[u]!), 999_999_999];
}

/** Fits a model (on `data` unless given another dataset) and saves it in the temporary folder. */
async function trained(algo: string, params: Record<string, number>, train = data): Promise<{ model: Model; file: string }> {
  const model = await createModel(algo, params).fit(train);
  const file = join(tmp, `${algo}.model`);
  await model.save(file);
  return { model, file };
}
let mfModel: ReturnType<typeof trained> | null = null;
/** The mf model of the tests, trained on first use. */
const mf = () => (mfModel ??= trained("mf", { factors: 16, epochs: 5 }));

test("mf: the page's top-10 equals Model.recommend in Node, for known users and an unknown one", async () => {
  const { model, file } = await mf();
  const opened = await openPage(file);
  if (!opened) return;
  try {
    assert.is(opened.state, "ready", await opened.page.textContent("#status") ?? "");
    assert.match((await opened.page.textContent("#model"))!, /^mf, 16 factors, 3000 users × 400 movies, trained /);
    await assertSameAsNode(opened.page, model, probeUsers());
    // The last user asked was the unknown one.
    assert.is(await opened.page.getAttribute("#results", "data-fallback"), "true");
    assert.match((await opened.page.textContent("#status"))!, /not in the training data/);
  } finally {
    await opened.page.close();
    await opened.served.close();
  }
});

test("baseline with string user ids: the page drives a model with no factors the same way", async () => {
  const named = makeDataset({
    ratings: data.ratings, users: Array.from(data.users as Int32Array, (id) => `user-${id}`), movies: data.movies,
    titles: data.titles, source: "test", sources: [], ratingScale: data.meta.ratingScale,
  });
  const { model, file } = await trained("baseline", {}, named);
  const opened = await openPage(file);
  if (!opened) return;
  try {
    assert.is(opened.state, "ready", await opened.page.textContent("#status") ?? "");
    await assertSameAsNode(opened.page, model, [...probeUsers().slice(1, 3).map((id) => `user-${id}`), "user-unknown"]);
  } finally {
    await opened.page.close();
    await opened.served.close();
  }
});

test("a modified model file is refused by its checksum", async () => {
  const bad = join(tmp, "flipped.model");
  const bytes = readFileSync((await mf()).file);
  bytes[bytes.length >> 1]! ^= 1;
  writeFileSync(bad, bytes);
  const opened = await openPage(bad);
  if (!opened) return;
  try {
    assert.is(opened.state, "error");
    assert.match((await opened.page.textContent("#status"))!, /checksum mismatch/);
  } finally {
    await opened.page.close();
    await opened.served.close();
  }
});

test.run();
