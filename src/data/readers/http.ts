/**
 * Ratings from a web API: `ingestHttp(url, out, opts)` fetches every page, checks each record as
 * the file readers do, and writes one dataset folder.
 *
 * Pages. JSON bodies hold an array of rating records — the body itself, the array at
 * `opts.records` (a dotted path such as "data.items"), or the first of items / data / records /
 * results / ratings — and are paged either by number (`?page=N`, optionally `&per_page=M`, until
 * a page holds no records) or by cursor (a `next` value in the body, or a `Link: <…>; rel="next"`
 * header: a URL, absolute or relative, or a token sent back as `?cursor=<token>`). CSV and NDJSON
 * bodies are streamed to disk and read line by line; they may be paged the same ways or come as
 * one body. The format comes from the content-type unless `opts.format` says it.
 *
 * Records. Fields are found by name as in CSV files (user / userId / user_id, item / movie /
 * movieId / …, rating, timestamp or date) or by `opts.fields`, where a JSON field may be a dotted
 * path ("user.id"). Ids are strings or integers; ratings finite numbers (within `opts.scale` when
 * given); timestamps Unix seconds; dates YYYY-MM-DD. A bad record is a ParseError naming the page
 * URL and the record (JSON) or line (CSV, NDJSON).
 *
 * Failures. A request is retried with exponential backoff (`backoffMs` × 2^attempt, or the
 * server's Retry-After when longer) on a 5xx, 408 or 429 answer, a refused or dropped connection,
 * or `timeoutMs` without a byte from the server; other answers (404, 401, …) end the ingest.
 *
 * Resuming. Each page's body is kept in `<out>.partial/` with a state file naming the pages done
 * and the next page to fetch; both are written by rename, so an interrupted ingest (Ctrl-C, a
 * crash, a kill) re-run with the same URL and options continues at the next page. The dataset is
 * built by reading the kept pages in order, so it is identical to an uninterrupted run's. The
 * folder is removed once the dataset is written.
 */
import { createHash } from "node:crypto";
import { existsSync, promises as fsp, readFileSync } from "node:fs";
import { join } from "node:path";
import { checkOutDir, makeDataset, writeDataset } from "../dataset.js";
import { readHead, scanText } from "../lines.js";
import { DataError, ParseError, type Dataset } from "../types.js";
import { RatingsBuilder } from "./builder.js";
import { readCsvRatings, resolveColumns, type CsvOptions } from "./csv.js";
import { dayOfTimestamp, parseIsoDate } from "./dates.js";

export type HttpFormat = "json" | "ndjson" | "csv";
export type Paging = "auto" | "page" | "cursor" | "none";

export interface HttpIngestOptions {
  /** Body format; default: from each response's content-type. */
  format?: HttpFormat;
  /** auto (default): a cursor when the first response carries a next link, numbered pages when pageParam or pageSize is given, else one request. */
  paging?: Paging;
  /** Dotted path of the records array in a JSON body (default: the body, or items / data / records / results / ratings). */
  records?: string;
  /** Field (JSON: dotted path) or column (CSV) names; default: the CSV reader's usual names. */
  fields?: { user?: string; movie?: string; rating?: string; timestamp?: string; date?: string };
  /** CSV field separator (default ","). */
  delimiter?: string;
  /** Allowed ratings; records outside are refused. Default: any finite rating, the scale being the range found. */
  scale?: { min: number; max: number };
  /** Query parameter of the page number (default "page") and the first page's number (default 1). */
  pageParam?: string;
  firstPage?: number;
  /** Records per page to ask for, sent as `pageSizeParam` (default "per_page"). */
  pageSize?: number;
  pageSizeParam?: string;
  /** Dotted path of the next cursor or URL in a JSON body (default: next, next_cursor, nextCursor, links.next). */
  nextField?: string;
  /** Query parameter a cursor token is sent back in (default "cursor"). */
  cursorParam?: string;
  /** Extra request headers (e.g. authorization). */
  headers?: Record<string, string>;
  /** Give up on an attempt after this long without a byte from the server (default 30 s). */
  timeoutMs?: number;
  /** Attempts after the first one for a failing request (default 5). */
  retries?: number;
  /** First retry delay; doubled for each further retry (default 500 ms). */
  backoffMs?: number;
  /** Stop after this many pages (default: no limit). */
  maxPages?: number;
  /** Replace an existing, non-empty output folder. */
  force?: boolean;
  /** After each page: pages and records so far. */
  onPage?: (p: { pages: number; records: number; url: string }) => void;
  /** Before each retry: what failed and how long until the next attempt. */
  onRetry?: (r: { url: string; attempt: number; reason: string; delayMs: number }) => void;
}

export interface HttpIngestResult {
  dataset: Dataset;
  pages: number;
  /** Pages read from `<out>.partial/` rather than fetched (after an interruption). */
  resumedPages: number;
  /** False when maxPages stopped the ingest before the API's last page. */
  complete: boolean;
}

const RECORD_KEYS = ["items", "data", "records", "results", "ratings"];
const NEXT_KEYS = ["next", "next_cursor", "nextCursor", "links.next"];
const STATE_FILE = "state.json";
const STATE_FORMAT = "movierec-http-ingest";
const MAX_RETRY_AFTER_MS = 60_000;
/** A CSV body shorter than this is checked for data rows before it is read. */
const HEAD_BYTES = 64 << 10;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const SECONDS = /^-?\d+(\.\d+)?$/;

/** A page fetched and kept in the partial folder. */
interface PageRecord {
  url: string;
  file: string;
  format: HttpFormat;
  records: number;
  bytes: number;
  sha256: string;
}

/** The partial folder's state file. */
interface State {
  format: typeof STATE_FORMAT;
  /** The URL and every option that changes the result: a re-run resumes only when it matches. */
  key: string;
  paging: Exclude<Paging, "auto"> | null;
  pages: PageRecord[];
  /** The next page to fetch (URL and, for numbered pages, its number), or null when every page is in. */
  next: { url: string; page: number } | null;
}

/** What one page held besides its ratings. */
interface PageInfo {
  records: number;
  /** The next cursor or URL the body or the Link header named, if any. */
  next: string | null;
}

/** Fetches every page of `url` and writes the ratings as a dataset folder at `out`. */
export async function ingestHttp(url: string, out: string, opts: HttpIngestOptions = {}): Promise<HttpIngestResult> {
  const start = checkOptions(url, opts);
  checkOutDir(out, opts.force ?? false);
  const partial = `${out.replace(/[\\/]+$/, "")}.partial`;
  const state = await openState(partial, url, opts);
  const reader = new PageReader(opts);
  const resumedPages = state.pages.length;
  for (const [k, page] of state.pages.entries()) {
    await reader.read(join(partial, page.file), page.format, page.url, k + 1, null);
  }
  if (resumedPages > 0) opts.onPage?.({ pages: resumedPages, records: reader.records, url: state.pages[resumedPages - 1]!.url });
  if (state.pages.length === 0 && state.next === null) state.next = { url: start, page: opts.firstPage ?? 1 };
  const fetched = new Set(state.pages.map((p) => p.url));
  const maxPages = opts.maxPages ?? Infinity;
  while (state.next !== null && state.pages.length < maxPages) {
    const number = state.pages.length + 1;
    const { url: target, page } = state.next;
    if (fetched.has(target)) throw new DataError(`${target} was already fetched as an earlier page: the API's next link does not advance`, "check --next-field / --paging");
    fetched.add(target);
    const base = `page-${String(number).padStart(6, "0")}`;
    const tmp = join(partial, `${base}.tmp`);
    const got = await fetchWithRetries(target, tmp, opts);
    const format = opts.format ?? formatOf(got.contentType, target);
    const info = await reader.read(tmp, format, target, number, got.link);
    const paging = (state.paging ??= resolvePaging(opts, info));
    const previous = state.pages[state.pages.length - 1];
    if (paging === "page" && info.records === 0) {
      await fsp.rm(tmp, { force: true });
      state.next = null;
      await saveState(partial, state);
      break;
    }
    if (paging === "page" && previous?.sha256 === got.sha256) {
      throw new DataError(`page ${number} (${target}) is the same as page ${number - 1}: the API does not seem to take ?${opts.pageParam ?? "page"}=N`, "check --page-param, or use --paging cursor / none");
    }
    const file = `${base}.${format}`;
    await fsp.rename(tmp, join(partial, file));
    state.pages.push({ url: target, file, format, records: info.records, bytes: got.bytes, sha256: got.sha256 });
    state.next = nextPage(paging, opts, start, target, page, info);
    await saveState(partial, state);
    opts.onPage?.({ pages: state.pages.length, records: reader.records, url: target });
  }
  const dataset = reader.finish(url, state.pages.reduce((s, p) => s + p.bytes, 0));
  await writeDataset(out, dataset, { force: opts.force ?? false });
  await fsp.rm(partial, { recursive: true, force: true });
  return { dataset, pages: state.pages.length, resumedPages, complete: state.next === null };
}

// ---- options, paging ----

/** Checks the options; returns the first page's URL. */
function checkOptions(url: string, opts: HttpIngestOptions): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DataError(`"${url}" is not a URL`, "give an http:// or https:// address");
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new DataError(`${url}: only http:// and https:// URLs can be fetched`);
  const positive = (name: string, v: number | undefined, min: number) => {
    if (v !== undefined && !(Number.isInteger(v) && v >= min)) throw new DataError(`${name} must be a whole number ≥ ${min} (got ${v})`);
  };
  positive("page size", opts.pageSize, 1);
  positive("first page", opts.firstPage, 0);
  positive("retries", opts.retries, 0);
  positive("timeout", opts.timeoutMs, 1);
  positive("backoff", opts.backoffMs, 0);
  if (opts.maxPages !== undefined && opts.maxPages !== Infinity) positive("max pages", opts.maxPages, 1);
  if (opts.fields?.timestamp !== undefined && opts.fields.date !== undefined) {
    throw new DataError("both a timestamp field and a date field were given", "give one of them");
  }
  const auto = opts.paging === undefined || opts.paging === "auto";
  const numbered = opts.paging === "page" || (auto && (opts.pageParam !== undefined || opts.pageSize !== undefined));
  return numbered ? pageUrl(url, opts, opts.firstPage ?? 1) : withPageSize(url, opts);
}

function withPageSize(url: string, opts: HttpIngestOptions): string {
  if (opts.pageSize === undefined) return url;
  const u = new URL(url);
  u.searchParams.set(opts.pageSizeParam ?? "per_page", String(opts.pageSize));
  return u.href;
}

function pageUrl(url: string, opts: HttpIngestOptions, page: number): string {
  const u = new URL(withPageSize(url, opts));
  u.searchParams.set(opts.pageParam ?? "page", String(page));
  return u.href;
}

/** The paging style, decided on the first page when `auto`. */
function resolvePaging(opts: HttpIngestOptions, first: PageInfo): Exclude<Paging, "auto"> {
  if (opts.paging !== undefined && opts.paging !== "auto") return opts.paging;
  if (first.next !== null) return "cursor";
  return opts.pageParam !== undefined || opts.pageSize !== undefined ? "page" : "none";
}

/** The page after `current`, or null when there is none. */
function nextPage(paging: Exclude<Paging, "auto">, opts: HttpIngestOptions, start: string, current: string, page: number, info: PageInfo): State["next"] {
  if (paging === "none") return null;
  if (paging === "page") return { url: pageUrl(start, opts, page + 1), page: page + 1 };
  if (info.next === null) return null;
  if (/^https?:\/\//i.test(info.next) || info.next.startsWith("/") || info.next.startsWith("?")) {
    return { url: new URL(info.next, current).href, page: page + 1 };
  }
  const u = new URL(start);
  u.searchParams.set(opts.cursorParam ?? "cursor", info.next);
  return { url: u.href, page: page + 1 };
}

// ---- the partial folder ----

function stateKey(url: string, o: HttpIngestOptions): string {
  return JSON.stringify([url, o.format, o.paging ?? "auto", o.records, o.fields ?? {}, o.delimiter, o.scale, o.pageParam, o.firstPage, o.pageSize, o.pageSizeParam, o.nextField, o.cursorParam]);
}

async function openState(partial: string, url: string, opts: HttpIngestOptions): Promise<State> {
  const key = stateKey(url, opts);
  const path = join(partial, STATE_FILE);
  if (existsSync(path)) {
    let state: State;
    try {
      state = JSON.parse(readFileSync(path, "utf8")) as State;
    } catch (err) {
      throw new DataError(`${path}: not a readable ingest state (${(err as Error).message})`, `remove ${partial} to start over`);
    }
    if (state.format !== STATE_FORMAT || state.key !== key) {
      throw new DataError(`${partial} holds an interrupted ingest of another URL or other options`, `run that command again to finish it, or remove ${partial} to start over`);
    }
    return state;
  }
  await fsp.mkdir(partial, { recursive: true });
  const state: State = { format: STATE_FORMAT, key, paging: null, pages: [], next: null };
  await saveState(partial, state);
  return state;
}

async function saveState(partial: string, state: State): Promise<void> {
  const tmp = join(partial, `${STATE_FILE}.tmp`);
  await fsp.writeFile(tmp, JSON.stringify(state));
  await fsp.rename(tmp, join(partial, STATE_FILE));
}

// ---- fetching ----

interface Fetched {
  contentType: string;
  /** The Link header's rel="next" target, if any. */
  link: string | null;
  bytes: number;
  sha256: string;
}

/** A failed attempt, and whether another one may succeed. */
class AttemptError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
    readonly retryAfterMs = 0,
  ) {
    super(message);
  }
}

/** Fetches `url` into `dest`, retrying with exponential backoff as the module comment says. */
async function fetchWithRetries(url: string, dest: string, opts: HttpIngestOptions): Promise<Fetched> {
  const retries = opts.retries ?? 5;
  const backoff = opts.backoffMs ?? 500;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetchOnce(url, dest, opts);
    } catch (err) {
      if (!(err instanceof AttemptError)) throw err;
      if (!err.retry) throw new DataError(`${url}: ${err.message}`, "check the URL, the headers (--header) and the paging options");
      if (attempt >= retries) throw new DataError(`${url}: ${err.message} (gave up after ${attempt + 1} attempts)`, "raise --retries or --timeout, or run again later: finished pages are kept");
      const delayMs = Math.max(backoff * 2 ** attempt, Math.min(err.retryAfterMs, MAX_RETRY_AFTER_MS));
      opts.onRetry?.({ url, attempt: attempt + 1, reason: err.message, delayMs });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** One attempt: the response body streamed into `dest`; an AttemptError when it failed. */
async function fetchOnce(url: string, dest: string, opts: HttpIngestOptions): Promise<Fetched> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const controller = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
  };
  const file = await fsp.open(dest, "w");
  try {
    arm();
    const res = await fetch(url, { headers: opts.headers, signal: controller.signal, redirect: "follow" });
    if (!res.ok) {
      await res.body?.cancel();
      const retry = res.status >= 500 || res.status === 408 || res.status === 429;
      throw new AttemptError(`HTTP ${res.status} ${res.statusText}`.trim(), retry, retryAfter(res.headers.get("retry-after")));
    }
    const hash = createHash("sha256");
    let bytes = 0;
    if (res.body !== null) {
      const reader = res.body.getReader();
      for (;;) {
        arm();
        const { done, value } = await reader.read();
        if (done) break;
        hash.update(value);
        bytes += value.length;
        await file.write(value);
      }
    }
    return { contentType: res.headers.get("content-type") ?? "", link: nextLink(res.headers.get("link")), bytes, sha256: hash.digest("hex") };
  } catch (err) {
    if (err instanceof AttemptError) throw err;
    if (timedOut) throw new AttemptError(`no answer for ${timeoutMs} ms`, true);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new AttemptError(`connection failed (${cause?.code ?? cause?.message ?? (err as Error).message})`, true);
  } finally {
    clearTimeout(timer);
    await file.close();
  }
}

/** Milliseconds of a Retry-After header given in seconds (0 when absent or a date). */
function retryAfter(value: string | null): number {
  const s = value === null ? NaN : Number(value);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 0;
}

/** The target of `rel="next"` in a Link header. */
function nextLink(header: string | null): string | null {
  if (header === null) return null;
  for (const part of header.split(",")) {
    const m = /<([^>]*)>\s*;(.*)/.exec(part.trim());
    if (m && /\brel\s*=\s*"?next"?/i.test(m[2]!)) return m[1]!;
  }
  return null;
}

function formatOf(contentType: string, url: string): HttpFormat {
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  if (type === "application/json" || type.endsWith("+json")) return "json";
  if (/^application\/(x-)?(ndjson|jsonl|jsonlines|json-seq)$/.test(type)) return "ndjson";
  if (type === "text/csv" || type === "application/csv") return "csv";
  throw new DataError(`${url}: cannot tell the body's format from its content-type "${contentType}"`, "say it with --format json, ndjson or csv");
}

// ---- reading pages ----

/** Reads pages, in order, into one RatingsBuilder. */
class PageReader {
  private readonly builder = new RatingsBuilder();
  private readonly csv: CsvOptions;
  private min = Infinity;
  private max = -Infinity;
  records = 0;

  constructor(private readonly opts: HttpIngestOptions) {
    const f = opts.fields ?? {};
    this.csv = { user: f.user, item: f.movie, rating: f.rating, timestamp: f.timestamp, date: f.date, delimiter: opts.delimiter, scale: opts.scale };
  }

  /** Adds the ratings of the page body in `file`; `link` is the response's Link next target (null when replaying a kept page). */
  async read(file: string, format: HttpFormat, url: string, page: number, link: string | null): Promise<PageInfo> {
    const where = `page ${page}`;
    if (format === "json") return this.readJson(file, url, where, link);
    const records = format === "csv" ? await this.readCsv(file, url, where) : await this.readNdjson(file, url, where);
    return { records, next: link };
  }

  /** The dataset of every page read. */
  finish(url: string, bytes: number): Dataset {
    const t = this.builder.finish();
    if (t.ratings.user.length === 0) throw new DataError(`${url}: no ratings in any page`, "check the URL, --records and the paging options");
    const given = this.opts.scale;
    const scale = { min: Number.isFinite(given?.min) ? given!.min : this.min, max: Number.isFinite(given?.max) ? given!.max : this.max };
    return makeDataset({ ...t, source: "http", sources: [{ path: url, bytes }], ratingScale: scale });
  }

  private async readJson(file: string, url: string, where: string, link: string | null): Promise<PageInfo> {
    const text = await fsp.readFile(file, "utf8");
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      const at = /position (\d+)/.exec((err as Error).message);
      const line = at ? text.slice(0, Number(at[1])).split("\n").length : 1;
      throw new ParseError(url, line, `${where}: not valid JSON (${(err as Error).message})`, "use --format ndjson or csv if the body is not one JSON document");
    }
    const records = recordsOf(body, this.opts.records, url, where);
    let fields: RecordFields | null = null;
    for (let k = 0; k < records.length; k++) {
      const rec = records[k];
      const fail = (what: string) => new ParseError(url, k + 1, `${where}, record ${k + 1}: ${what}`);
      if (rec === null || typeof rec !== "object" || Array.isArray(rec)) throw fail(`expected an object, found ${JSON.stringify(rec)}`);
      fields ??= this.fieldsOf(rec as object, url, k + 1, where);
      this.add(rec as Record<string, unknown>, fields, fail);
    }
    return { records: records.length, next: nextOf(body, this.opts.nextField) ?? link };
  }

  private async readNdjson(file: string, url: string, where: string): Promise<number> {
    let fields: RecordFields | null = null;
    let count = 0;
    await scanText(file, "utf8", (text, line) => {
      const fail = (what: string) => new ParseError(url, line, `${where}, line ${line}: ${what}`);
      let rec: unknown;
      try {
        rec = JSON.parse(text);
      } catch (err) {
        throw fail(`not valid JSON (${(err as Error).message})`);
      }
      if (rec === null || typeof rec !== "object" || Array.isArray(rec)) throw fail(`expected an object, found ${text.slice(0, 80)}`);
      fields ??= this.fieldsOf(rec as object, url, line, where);
      this.add(rec as Record<string, unknown>, fields, fail);
      count++;
    }).catch((err) => rethrowAt(err, file, url, where));
    return count;
  }

  private async readCsv(file: string, url: string, where: string): Promise<number> {
    // A header alone (or nothing) is an empty page, which ends numbered paging.
    const head = readHead(file, HEAD_BYTES);
    if (head.length < HEAD_BYTES && head.toString("utf8").split("\n").filter((l) => l.trim() !== "").length <= 1) return 0;
    const before = this.builder.length;
    const { range } = await readCsvRatings(file, this.builder, this.csv).catch((err) => rethrowAt(err, file, url, where));
    this.min = Math.min(this.min, range.min);
    this.max = Math.max(this.max, range.max);
    const added = this.builder.length - before;
    this.records += added;
    return added;
  }

  /** Where the user, movie, rating and time of a record are, from its (flattened) field names. */
  private fieldsOf(rec: object, url: string, at: number, where: string): RecordFields {
    const names = flatKeys(rec);
    try {
      const c = resolveColumns(names, this.csv, url, at)!;
      return { user: names[c.user]!, movie: names[c.item]!, rating: names[c.rating]!, timestamp: names[c.timestamp] ?? null, date: names[c.date] ?? null };
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      const what = err.message.slice(`${url}:${at}: `.length).replace(/column/g, "field").replace("header", "record");
      throw new ParseError(url, at, `${where}, record ${at}: ${what}`, "name the fields with --user-field, --movie-field, --rating-field (dotted paths such as user.id are allowed)");
    }
  }

  private add(rec: Record<string, unknown>, f: RecordFields, fail: (what: string) => ParseError): void {
    const user = idOf(get(rec, f.user), f.user, fail);
    const movie = idOf(get(rec, f.movie), f.movie, fail);
    const rv = get(rec, f.rating);
    const r = typeof rv === "number" ? rv : typeof rv === "string" && NUMBER.test(rv.trim()) ? Number(rv) : NaN;
    if (!Number.isFinite(r)) throw fail(`${f.rating}: expected a number, found ${JSON.stringify(rv) ?? "nothing"}`);
    const scale = this.opts.scale;
    if (scale !== undefined && (r < scale.min || r > scale.max)) throw fail(`rating ${r} is out of range (expected ${scale.min}..${scale.max})`);
    let day = 0;
    if (f.timestamp !== null) {
      const tv = get(rec, f.timestamp);
      const s = typeof tv === "number" ? tv : typeof tv === "string" && SECONDS.test(tv.trim()) ? Number(tv) : NaN;
      if (!Number.isFinite(s)) throw fail(`${f.timestamp}: expected Unix seconds, found ${JSON.stringify(tv) ?? "nothing"}`);
      day = dayOfTimestamp(s);
    } else if (f.date !== null) {
      const dv = get(rec, f.date);
      const d = typeof dv === "string" ? parseIsoDate(dv.trim()) : null;
      if (d === null) throw fail(`${f.date}: expected a calendar date YYYY-MM-DD, found ${JSON.stringify(dv) ?? "nothing"}`);
      day = d;
    }
    if (r < this.min) this.min = r;
    if (r > this.max) this.max = r;
    this.builder.pushDense(this.builder.users.addKey(user), this.builder.movies.addKey(movie), r, day);
    this.records++;
  }
}

interface RecordFields {
  user: string;
  movie: string;
  rating: string;
  timestamp: string | null;
  date: string | null;
}

/** A ParseError about the kept body file, restated for the page URL (other errors pass). */
function rethrowAt(err: unknown, file: string, url: string, where: string): never {
  if (err instanceof ParseError && err.file === file) {
    throw new ParseError(url, err.line, `${where}, line ${err.line}: ${err.message.slice(`${file}:${err.line}: `.length)}`, err.hint);
  }
  throw err;
}

function recordsOf(body: unknown, path: string | undefined, url: string, where: string): unknown[] {
  if (path !== undefined) {
    const found = get(body, path);
    if (Array.isArray(found)) return found;
    throw new ParseError(url, 1, `${where}: no records array at "${path}" (found ${found === undefined ? "nothing" : typeof found})`, "check --records");
  }
  if (Array.isArray(body)) return body;
  for (const key of RECORD_KEYS) {
    const found = get(body, key);
    if (Array.isArray(found)) return found;
  }
  throw new ParseError(url, 1, `${where}: no records array in the body (looked for the body itself, ${RECORD_KEYS.join(", ")})`, "say where the records are with --records, e.g. --records data.items");
}

/** The next cursor or URL in a JSON body, or null. */
function nextOf(body: unknown, path: string | undefined): string | null {
  for (const key of path !== undefined ? [path] : NEXT_KEYS) {
    const v = get(body, key);
    if (typeof v === "string" && v !== "") return v;
    if (typeof v === "number" && Number.isFinite(v)) return String(v);
  }
  return null;
}

/** The value at a dotted path ("data.items"), or undefined. */
function get(value: unknown, path: string): unknown {
  let v = value;
  for (const key of path.split(".")) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** Field names of a record with nested objects' fields as dotted paths ({user: {id}} → "user", "user.id"). */
function flatKeys(rec: object, prefix = "", depth = 0): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(rec)) {
    out.push(prefix + k);
    if (depth < 4 && v !== null && typeof v === "object" && !Array.isArray(v)) out.push(...flatKeys(v, `${prefix}${k}.`, depth + 1));
  }
  return out;
}

/** A user or movie id: a non-empty string or an integer. */
function idOf(v: unknown, field: string, fail: (what: string) => ParseError): string {
  if (typeof v === "string" && v.trim() !== "") return v.trim();
  if (typeof v === "number" && Number.isSafeInteger(v)) return String(v);
  throw fail(`${field}: expected an id (a non-empty string or an integer), found ${JSON.stringify(v) ?? "nothing"}`);
}
