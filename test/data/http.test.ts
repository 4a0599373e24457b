/**
 * Ratings from a web API (`ingestHttp`, `movierec ingest http`) against a local server on
 * 127.0.0.1: every paging style and body format gives the same dataset as the same ratings in a
 * CSV file; failures are retried; bad records name the page URL and record; and an ingest killed
 * mid-way (SIGKILL of the CLI process) resumes to the identical dataset hash.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readDataset } from "../../src/data/dataset.js";
import { ingest } from "../../src/data/ingest.js";
import { ingestHttp, type HttpIngestOptions } from "../../src/data/readers/http.js";
import { DataError, ParseError } from "../../src/data/types.js";
import { TempDir } from "./helpers.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const tmp = new TempDir("http");

// ---- the ratings the server hands out ----

interface Rec {
  user: number;
  movie: number;
  rating: number;
  timestamp: number;
}
const RECORDS: Rec[] = Array.from({ length: 57 }, (_, k) => ({
  user: 100 + ((k * 7) % 13),
  movie: 1 + ((k * 5) % 17),
  rating: 1 + (k % 5),
  timestamp: 1_100_000_000 + k * 86_400,
}));
const PAGE = 10;
const csvOf = (recs: Rec[]) => ["user,movie,rating,timestamp", ...recs.map((r) => `${r.user},${r.movie},${r.rating},${r.timestamp}`)].join("\n") + "\n";
const ndjsonOf = (recs: unknown[]) => recs.map((r) => JSON.stringify(r)).join("\n") + "\n";

// ---- the server ----

/** What a request may meet instead of its answer (consumed in order, per route and page). */
type Fault = "500" | "503" | "drop" | "hold" | { delayMs: number } | { stallBodyMs: number };

const faults = new Map<string, Fault[]>();
/** Every request, as "route#page" (page number, or offset for cursor routes). */
const log: string[] = [];
const held: ServerResponse[] = [];
let onHold: ((key: string) => void) | null = null;

function page(n: number): Rec[] {
  return RECORDS.slice((n - 1) * PAGE, n * PAGE);
}

/** Route, page key and answer of a request. */
function route(u: URL, base: string): { key: string; type: string; body: string; headers?: Record<string, string> } {
  const q = (name: string, dflt: number) => Number(u.searchParams.get(name) ?? dflt);
  const json = "application/json";
  switch (u.pathname) {
    case "/pages": {
      const n = q("page", 1);
      const per = q("per_page", PAGE);
      return { key: `pages#${n}`, type: json, body: JSON.stringify({ items: RECORDS.slice((n - 1) * per, n * per), page: n }) };
    }
    case "/cursor": {
      const at = Number((u.searchParams.get("cursor") ?? "c0").slice(1));
      const next = at + PAGE < RECORDS.length ? `c${at + PAGE}` : null;
      return { key: `cursor#${at}`, type: json, body: JSON.stringify({ data: { items: RECORDS.slice(at, at + PAGE) }, next }) };
    }
    case "/cursor-url": {
      const at = q("after", 0);
      const links = at + PAGE < RECORDS.length ? { next: `/cursor-url?after=${at + PAGE}` } : {};
      const results = RECORDS.slice(at, at + PAGE).map((r) => ({ who: { id: `u${r.user}` }, what: r.movie, stars: String(r.rating), when: new Date(r.timestamp * 1000).toISOString().slice(0, 10) }));
      return { key: `cursor-url#${at}`, type: "application/vnd.api+json", body: JSON.stringify({ results, links }) };
    }
    case "/link": {
      const at = q("after", 0);
      const headers: Record<string, string> = at + PAGE < RECORDS.length ? { link: `<${base}/link?after=${at + PAGE}>; rel="next", <${base}/link>; rel="first"` } : {};
      return { key: `link#${at}`, type: json, body: JSON.stringify(RECORDS.slice(at, at + PAGE)), headers };
    }
    case "/csv":
      return { key: "csv#1", type: "text/csv; charset=utf-8", body: csvOf(RECORDS) };
    case "/ndjson":
      return { key: "ndjson#1", type: "application/x-ndjson", body: ndjsonOf(RECORDS) };
    case "/csv-pages":
      return { key: `csv-pages#${q("page", 1)}`, type: "text/csv", body: csvOf(page(q("page", 1))) };
    case "/bad": {
      const n = q("page", 1);
      const items: unknown[] = page(n);
      if (n === 2) items[2] = { ...RECORDS[12]!, rating: "x" };
      if (n === 3) items[4] = { movie: 3, rating: 4 };
      return { key: `bad#${n}`, type: json, body: JSON.stringify({ items }) };
    }
    case "/bad-ndjson":
      return { key: "bad-ndjson#1", type: "application/x-ndjson", body: ndjsonOf([...RECORDS.slice(0, 4), { user: 1, movie: 2, rating: 9 }]) };
    case "/bad-csv":
      return { key: "bad-csv#1", type: "text/csv", body: csvOf(RECORDS.slice(0, 3)) + "7,8,lots,1100000000\n" };
    case "/static":
      return { key: `static#${q("page", 1)}`, type: json, body: JSON.stringify({ items: page(1) }) };
    case "/loop":
      return { key: "loop#1", type: json, body: JSON.stringify({ items: page(1), next: "/loop" }) };
    case "/html":
      return { key: "html#1", type: "text/html", body: "<html></html>" };
    default:
      return { key: `missing#${u.pathname}`, type: "text/plain", body: "" };
  }
}

async function answer(req: IncomingMessage, res: ServerResponse, base: string): Promise<void> {
  const u = new URL(req.url!, base);
  const r = route(u, base);
  log.push(r.key);
  if (u.pathname === "/always503") return void res.writeHead(503).end();
  if (r.key.startsWith("missing#")) return void res.writeHead(404).end();
  const fault = faults.get(r.key)?.shift();
  if (fault === "500" || fault === "503") return void res.writeHead(Number(fault)).end("failed");
  if (fault === "drop") return void req.socket.destroy();
  if (fault === "hold") {
    held.push(res);
    return onHold?.(r.key);
  }
  if (fault !== undefined && "delayMs" in fault) await sleep(fault.delayMs);
  if (res.destroyed) return;
  res.writeHead(200, { "content-type": r.type, ...r.headers });
  // Bodies go out in small pieces, so readers meet chunk boundaries.
  const body = Buffer.from(r.body);
  const half = body.length >> 1;
  res.write(body.subarray(0, half));
  if (fault !== undefined && "stallBodyMs" in fault) await sleep(fault.stallBodyMs);
  if (!res.destroyed) res.end(body.subarray(half));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const server = createServer((req, res) => {
  answer(req, res, base).catch(() => res.destroy());
});
server.on("clientError", (_err, socket) => socket.destroy());
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

test.after(async () => {
  for (const res of held) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  tmp.remove();
});
test.before.each(() => {
  faults.clear();
  log.length = 0;
});

// ---- helpers ----

let outs = 0;
const newOut = () => tmp.path(`out-${++outs}`);
const fast: HttpIngestOptions = { backoffMs: 5, timeoutMs: 2000 };

/** The dataset of RECORDS read from a CSV file: what every API style must reproduce. */
const csvFile = tmp.write("ratings.csv", csvOf(RECORDS));
const reference = await ingest("csv", [csvFile], newOut());

async function rejects(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (err) {
    return err as Error;
  }
  assert.unreachable("expected an error");
  throw new Error("unreachable");
}

// ---- paging styles and formats ----

test("numbered pages: ?page=N&per_page=M until an empty page; same dataset as the CSV file", async () => {
  const out = newOut();
  const pages: number[] = [];
  const res = await ingestHttp(`${base}/pages`, out, { ...fast, pageSize: PAGE, onPage: (p) => pages.push(p.records) });
  assert.is(res.pages, 6);
  assert.is(res.complete, true);
  assert.equal(log, ["pages#1", "pages#2", "pages#3", "pages#4", "pages#5", "pages#6", "pages#7"]);
  assert.equal(pages, [10, 20, 30, 40, 50, 57]);
  assert.is(res.dataset.meta.contentHash, reference.meta.contentHash);
  const ds = await readDataset(out);
  assert.is(ds.meta.contentHash, reference.meta.contentHash);
  assert.is(ds.meta.source, "http");
  assert.equal(ds.meta.sources.map((s) => s.path), [`${base}/pages`]);
  assert.equal(ds.meta.ratingScale, { min: 1, max: 5 });
  assert.equal(ds.meta.dayRange, reference.meta.dayRange);
  assert.not.ok(existsSync(`${out}.partial`), "the partial folder is removed after success");
});

test("cursor tokens (next in the body, records at data.items) and next URLs (relative, nested fields)", async () => {
  const tokens = await ingestHttp(`${base}/cursor`, newOut(), { ...fast, records: "data.items" });
  assert.equal(log, ["cursor#0", "cursor#10", "cursor#20", "cursor#30", "cursor#40", "cursor#50"]);
  assert.is(tokens.dataset.meta.contentHash, reference.meta.contentHash);

  const urls = await ingestHttp(`${base}/cursor-url`, newOut(), {
    ...fast,
    fields: { user: "who.id", movie: "what", rating: "stars", date: "when" },
  });
  assert.is(urls.pages, 6);
  assert.equal(Array.from(urls.dataset.users as string[]).slice(0, 3), ["u100", "u107", "u101"]);
  assert.equal(urls.dataset.ratings.rating, reference.ratings.rating);
  assert.equal(urls.dataset.ratings.day, reference.ratings.day);
});

test("Link: <…>; rel=\"next\" headers; a JSON array body", async () => {
  const res = await ingestHttp(`${base}/link`, newOut(), fast);
  assert.is(res.pages, 6);
  assert.is(res.dataset.meta.contentHash, reference.meta.contentHash);
});

test("streamed CSV and NDJSON bodies (one request each), and CSV pages", async () => {
  const csv = await ingestHttp(`${base}/csv`, newOut(), fast);
  assert.is(csv.pages, 1);
  assert.is(csv.dataset.meta.contentHash, reference.meta.contentHash);
  const nd = await ingestHttp(`${base}/ndjson`, newOut(), fast);
  assert.is(nd.dataset.meta.contentHash, reference.meta.contentHash);
  const csvPages = await ingestHttp(`${base}/csv-pages`, newOut(), { ...fast, paging: "page" });
  assert.is(csvPages.pages, 6);
  assert.is(csvPages.dataset.meta.contentHash, reference.meta.contentHash);
  // --format overrides the content-type.
  const forced = await rejects(() => ingestHttp(`${base}/html`, newOut(), { ...fast, format: "json" }));
  assert.instance(forced, ParseError);
  assert.match(forced.message, "not valid JSON");
});

test("maxPages stops early and says the ingest is not complete", async () => {
  const res = await ingestHttp(`${base}/pages`, newOut(), { ...fast, pageSize: PAGE, maxPages: 2 });
  assert.is(res.pages, 2);
  assert.is(res.complete, false);
  assert.is(res.dataset.meta.nRatings, 20);
});

// ---- failures and retries ----

test("5xx answers and dropped connections are retried with backoff; the dataset is unchanged", async () => {
  faults.set("pages#2", ["500", "503"]);
  faults.set("pages#4", ["drop"]);
  const retries: { attempt: number; reason: string; delayMs: number }[] = [];
  const res = await ingestHttp(`${base}/pages`, newOut(), { ...fast, pageSize: PAGE, backoffMs: 5, onRetry: (r) => retries.push(r) });
  assert.is(res.dataset.meta.contentHash, reference.meta.contentHash);
  assert.is(log.filter((k) => k === "pages#2").length, 3);
  assert.is(log.filter((k) => k === "pages#4").length, 2);
  assert.equal(retries.map((r) => [r.attempt, r.delayMs]), [[1, 5], [2, 10], [1, 5]]);
  assert.match(retries[0]!.reason, "HTTP 500");
  assert.match(retries[1]!.reason, "HTTP 503");
  assert.match(retries[2]!.reason, "connection failed");
});

test("a response slower than the timeout is retried; one within it is not", async () => {
  // Wide margins: a busy machine must not turn the 50 ms answer into a timeout.
  faults.set("pages#2", [{ delayMs: 2500 }]);
  faults.set("pages#3", [{ delayMs: 50 }]);
  faults.set("pages#5", [{ stallBodyMs: 2500 }]);
  const reasons: string[] = [];
  const res = await ingestHttp(`${base}/pages`, newOut(), { ...fast, pageSize: PAGE, timeoutMs: 1000, onRetry: (r) => reasons.push(`${r.url} ${r.reason}`) });
  assert.is(res.dataset.meta.contentHash, reference.meta.contentHash);
  assert.is(log.filter((k) => k === "pages#2").length, 2, "headers too slow: retried");
  assert.is(log.filter((k) => k === "pages#3").length, 1, "slow but within the timeout: not retried");
  assert.is(log.filter((k) => k === "pages#5").length, 2, "body stalled: retried");
  assert.is(reasons.length, 2);
  assert.match(reasons[0]!, "page=2");
  assert.match(reasons[0]!, "no answer for 1000 ms");
});

test("retries run out → DataError naming the URL and the attempts; 404 is not retried", async () => {
  const gaveUp = await rejects(() => ingestHttp(`${base}/always503`, newOut(), { ...fast, retries: 2 }));
  assert.instance(gaveUp, DataError);
  assert.match(gaveUp.message, `${base}/always503: HTTP 503`);
  assert.match(gaveUp.message, "gave up after 3 attempts");
  log.length = 0;
  const missing = await rejects(() => ingestHttp(`${base}/nothing-here`, newOut(), fast));
  assert.match(missing.message, "HTTP 404");
  assert.is(log.length, 1);
  const refused = await rejects(() => ingestHttp("http://127.0.0.1:1/ratings", newOut(), { ...fast, retries: 1 }));
  assert.match(refused.message, "connection failed");
});

test("APIs that ignore ?page= or whose next link does not advance are refused, not looped over", async () => {
  const same = await rejects(() => ingestHttp(`${base}/static`, newOut(), { ...fast, paging: "page" }));
  assert.match(same.message, "page 2");
  assert.match(same.message, "same as page 1");
  const loop = await rejects(() => ingestHttp(`${base}/loop`, newOut(), fast));
  assert.match(loop.message, "already fetched");
  const html = await rejects(() => ingestHttp(`${base}/html`, newOut(), fast));
  assert.match(html.message, 'content-type "text/html"');
  assert.match((html as DataError).hint!, "--format");
});

// ---- validation ----

test("bad records → ParseError naming the page URL and the record or line", async () => {
  const rating = await rejects(() => ingestHttp(`${base}/bad`, newOut(), { ...fast, paging: "page" }));
  assert.instance(rating, ParseError);
  const e = rating as ParseError;
  assert.is(e.file, `${base}/bad?page=2`);
  assert.is(e.line, 3);
  assert.match(e.message, "page 2, record 3: rating: expected a number");

  const field = await rejects(() => ingestHttp(`${base}/bad?page=3`, newOut(), { ...fast, paging: "none" }));
  assert.match(field.message, "record 5: user: expected an id");

  const scale = await rejects(() => ingestHttp(`${base}/bad-ndjson`, newOut(), { ...fast, scale: { min: 1, max: 5 } }));
  assert.instance(scale, ParseError);
  assert.is((scale as ParseError).line, 5);
  assert.match(scale.message, `${base}/bad-ndjson:5: page 1, line 5: rating 9 is out of range`);

  const csv = await rejects(() => ingestHttp(`${base}/bad-csv`, newOut(), fast));
  assert.instance(csv, ParseError);
  assert.is((csv as ParseError).file, `${base}/bad-csv`);
  assert.is((csv as ParseError).line, 5);
  assert.match(csv.message, 'rating: expected a number, found "lots"');

  const fields = await rejects(() => ingestHttp(`${base}/pages`, newOut(), { ...fast, fields: { user: "customer" } }));
  assert.match(fields.message, 'no user field');
  assert.match(fields.message, '"customer"');
});

test("bad options and URLs are refused before any request", async () => {
  for (const url of ["not a url", "ftp://127.0.0.1/x"]) assert.instance(await rejects(() => ingestHttp(url, newOut(), fast)), DataError);
  assert.match((await rejects(() => ingestHttp(`${base}/pages`, newOut(), { pageSize: 0 }))).message, "page size");
  assert.is(log.length, 0);
});

// ---- interruption and resume ----

/** Runs `movierec ingest http` as a child process; resolves with its exit code and output. */
function cli(args: string[], whenHeld?: () => void) {
  const child = spawn(process.execPath, [MAIN, "ingest", "http", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  onHold = whenHeld ? () => whenHeld() : null;
  return { child, done };
}

test("killed mid-way (SIGKILL of the CLI), the same command resumes at the next page: identical dataset hash", async () => {
  const out = newOut();
  const args = [`${base}/pages`, "--out", out, "--page-size", String(PAGE), "--backoff", "5"];
  faults.set("pages#4", ["hold"]);
  const first = cli(args, () => first.child.kill("SIGKILL"));
  const killed = await first.done;
  assert.is(killed.signal, "SIGKILL", killed.stderr);
  assert.equal(log, ["pages#1", "pages#2", "pages#3", "pages#4"]);
  assert.not.ok(existsSync(out));
  const state = JSON.parse(readFileSync(join(`${out}.partial`, "state.json"), "utf8")) as { pages: unknown[] };
  assert.is(state.pages.length, 3, "pages 1–3 were kept");

  log.length = 0;
  const second = await cli(args).done;
  assert.is(second.code, 0, second.stderr);
  assert.equal(log, ["pages#4", "pages#5", "pages#6", "pages#7"], "the resumed run starts at page 4");
  assert.match(second.stderr, "3 pages were kept");
  assert.match(second.stdout, `wrote ${out}: 57 ratings`);
  assert.not.ok(existsSync(`${out}.partial`));
  const resumed = await readDataset(out);
  assert.is(resumed.meta.contentHash, reference.meta.contentHash);
  const whole = await ingestHttp(`${base}/pages`, newOut(), { ...fast, pageSize: PAGE });
  assert.is(resumed.meta.contentHash, whole.dataset.meta.contentHash);
  assert.equal(resumed.meta.sources, whole.dataset.meta.sources);
});

test("a partial folder from other options is not mixed in", async () => {
  const out = newOut();
  faults.set("pages#3", ["hold"]);
  const first = cli([`${base}/pages`, "--out", out, "--page-size", String(PAGE)], () => first.child.kill("SIGKILL"));
  await first.done;
  const other = await rejects(() => ingestHttp(`${base}/pages`, out, { ...fast, pageSize: 5 }));
  assert.instance(other, DataError);
  assert.match(other.message, "interrupted ingest of another URL or other options");
  assert.match((other as DataError).hint!, `${out}.partial`);
});

test.run();
