/**
 * `npm run bench -- serve [--users N] [--ratings N] [--factors K] [--duration S] [--connections C] [--seed S]`
 *
 * HTTP serving throughput and latency of `movierec serve`. Trains (or reuses, from bench/.data/)
 * an mf model over the Netflix catalogue's 17,770 movies on generated ratings — 3 epochs: this
 * measures answering, not accuracy — starts the server in this process on 127.0.0.1 (an
 * ephemeral port) and runs autocannon in a worker thread against it:
 *
 *   recommend                 GET /recommend/:user?n=10, rotating over 1,000 known users
 *   recommend-10-connections  the same with 10 connections (autocannon's default): queueing
 *   recommend-batch           POST /recommend with 10 users per request (n=10 each)
 *   health                    GET /health: the HTTP stack alone, for comparison
 *
 * --connections (default 4) is enough to keep the one server thread busy all the time.
 *
 * Reports requests/s and latency (p50, p99, max) per run, and the in-process cost of one
 * model.recommend call, split into its two parts (scoring every movie, picking the top n).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { generateDataset } from "../src/data/generate.js";
import { topN, type Model } from "../src/models/model.js";
import { createModel, loadModel } from "../src/models/registry.js";
import { serve } from "../src/serve/server.js";
import { secondsSince, summarize, writeResults, type Run } from "./lib.js";

/** The part of autocannon's programmatic API used here (the package ships no types). */
interface AutocannonRequest {
  method: "GET" | "POST";
  path: string;
  headers?: Record<string, string>;
  body?: string;
}
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
const autocannon = createRequire(import.meta.url)("autocannon") as (opts: {
  url: string;
  connections: number;
  duration: number;
  workers: number;
  requests: AutocannonRequest[];
}) => Promise<AutocannonResult>;

/** From dist/bench/serve.js, the (gitignored) cache folder is ../../bench/.data. */
const DATA_DIR = fileURLToPath(new URL("../../bench/.data/", import.meta.url));
const USAGE = "usage: npm run bench -- serve [--users N] [--ratings N] [--factors K] [--duration S] [--connections C] [--seed S]";
const MOVIES = 17_770;
const EPOCHS = 3;
const ROTATION = 1000;
const BATCH = 10;
/** Goals for GET /recommend. */
const GOAL = { p99Ms: 5, requestsPerSecond: 2000 };

interface Options {
  users: number;
  ratings: number;
  factors: number;
  duration: number;
  connections: number;
  seed: number;
}

export async function main(argv: string[]): Promise<void> {
  const o = parseOptions(argv);
  const { path, users, trainSeconds } = await ensureModel(o);
  const model = await loadModel(path);
  const inProcess = timeRecommend(model, users);
  log(`one recommend in process: ${inProcess.totalUs.toFixed(0)} µs (score ${inProcess.scoreUs.toFixed(0)} µs, top-n ${inProcess.topUs.toFixed(0)} µs)`);

  const server = await serve(path, { host: "127.0.0.1", port: 0 });
  const loadAtStart = loadavg()[0]!;
  const runs: Run[] = [];
  try {
    const get = users.map((u) => ({ method: "GET" as const, path: `/recommend/${encodeURIComponent(u)}?n=10` }));
    const batches = Array.from({ length: ROTATION / BATCH }, (_, k) => ({
      method: "POST" as const,
      path: "/recommend",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ users: users.slice(k * BATCH, (k + 1) * BATCH), n: 10 }),
    }));
    const plan: Array<{ label: string; connections: number; usersPerRequest: number; requests: AutocannonRequest[] }> = [
      { label: "recommend", connections: o.connections, usersPerRequest: 1, requests: get },
      { label: "recommend-10-connections", connections: 10, usersPerRequest: 1, requests: get },
      { label: "recommend-batch", connections: o.connections, usersPerRequest: BATCH, requests: batches },
      { label: "health", connections: o.connections, usersPerRequest: 0, requests: [{ method: "GET", path: "/health" }] },
    ];
    for (const { label, connections, usersPerRequest, requests } of plan) {
      log(`${label}: ${connections} connections for ${o.duration} s`);
      const r = await autocannon({ url: server.address, connections, duration: o.duration, workers: 1, requests });
      runs.push({
        label,
        connections,
        requestsPerSecond: r.requests.average,
        usersPerSecond: r.requests.average * usersPerRequest,
        latencyP50Ms: r.latency.p50,
        latencyP99Ms: r.latency.p99,
        latencyMaxMs: r.latency.max,
        requests: r.requests.total,
        non2xx: r.non2xx,
        errors: r.errors + r.timeouts,
      });
    }
  } finally {
    await server.close();
  }
  const loadAtEnd = loadavg()[0]!;
  const rec = runs[0]!;
  const met = (rec.latencyP99Ms as number) <= GOAL.p99Ms && (rec.requestsPerSecond as number) >= GOAL.requestsPerSecond;
  writeResults(
    "serve",
    { ...o, movies: MOVIES, epochs: EPOCHS, rotationUsers: ROTATION, batchUsers: BATCH, autocannonWorkers: 1 },
    runs,
    [
      `model: mf k=${o.factors} over ${model.nUsers.toLocaleString("en-US")} users × ${model.nMovies.toLocaleString("en-US")} movies` +
        (trainSeconds === null ? " (reused from bench/.data)" : `, trained in ${trainSeconds.toFixed(1)} s`),
      `one model.recommend (n=10) in process, median over ${inProcess.calls} users: ${inProcess.totalUs.toFixed(0)} µs — ` +
        `scoring all movies (WASM scoreUser) ${inProcess.scoreUs.toFixed(0)} µs, top-n ${inProcess.topUs.toFixed(0)} µs`,
      `goal for GET /recommend: p99 ≤ ${GOAL.p99Ms} ms and ≥ ${GOAL.requestsPerSecond} req/s — ${met ? "met" : "NOT met"} ` +
        `(${o.connections} connections: p99 ${rec.latencyP99Ms} ms, ${Math.round(rec.requestsPerSecond as number)} req/s)`,
      "one server thread answers one request at a time, so more connections add queueing, not throughput: " +
        "mean latency ≈ connections ÷ requests per second (the 10-connection run)",
      `server and autocannon (one worker thread) share this machine's ${cpus().length} CPUs with other work: ` +
        `load average ${loadAtStart.toFixed(1)} at the start, ${loadAtEnd.toFixed(1)} at the end`,
    ],
  );
}

/** The cached model for these options (trained and saved first when missing) and ROTATION of its users' raw ids. */
async function ensureModel(o: Options): Promise<{ path: string; users: string[]; trainSeconds: number | null }> {
  const name = `serve-mf-k${o.factors}-u${o.users}-r${o.ratings}-s${o.seed}`;
  const path = join(DATA_DIR, `${name}.model`);
  const usersPath = join(DATA_DIR, `${name}.users.json`);
  if (existsSync(path) && existsSync(usersPath)) {
    return { path, users: JSON.parse(readFileSync(usersPath, "utf8")) as string[], trainSeconds: null };
  }
  mkdirSync(DATA_DIR, { recursive: true });
  log(`generating ${o.ratings.toLocaleString("en-US")} ratings (${o.users} users × ${MOVIES} movies)`);
  const data = generateDataset({ users: o.users, movies: MOVIES, ratings: o.ratings, seed: o.seed });
  log(`training mf k=${o.factors}, ${EPOCHS} epochs`);
  const start = process.hrtime.bigint();
  const model = await createModel("mf", { factors: o.factors, epochs: EPOCHS, seed: o.seed }).fit(data);
  const trainSeconds = secondsSince(start);
  await model.save(path);
  // Users spread over the whole id table (every user in it has ratings).
  const step = Math.floor(data.users.length / ROTATION);
  const users = Array.from({ length: ROTATION }, (_, k) => String(data.users[k * step]));
  writeFileSync(usersPath, JSON.stringify(users));
  return { path, users, trainSeconds };
}

/** Median microseconds of model.recommend(n=10) and of its two parts, over users of the rotation. */
function timeRecommend(model: Model, users: string[]): { calls: number; totalUs: number; scoreUs: number; topUs: number } {
  const calls = users.length;
  const scores = new Float32Array(model.nMovies);
  const none = new Uint8Array(model.nMovies);
  const total: number[] = [];
  const score: number[] = [];
  const top: number[] = [];
  for (let k = 0; k < 2 * calls; k++) {
    const u = users[k % calls]!;
    let t = process.hrtime.bigint();
    model.recommend([u], { n: 10 });
    const recommendSeconds = secondsSince(t);
    t = process.hrtime.bigint();
    model.scoreUser(model.userIndexOf(u), scores);
    const scoreSeconds = secondsSince(t);
    t = process.hrtime.bigint();
    topN(scores, none, 10);
    const topSeconds = secondsSince(t);
    if (k < calls) continue; // the first pass warms up
    total.push(recommendSeconds * 1e6);
    score.push(scoreSeconds * 1e6);
    top.push(topSeconds * 1e6);
  }
  return { calls, totalUs: summarize(total).median, scoreUs: summarize(score).median, topUs: summarize(top).median };
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      users: { type: "string", default: "50000" },
      ratings: { type: "string", default: "5000000" },
      factors: { type: "string", default: "100" },
      duration: { type: "string", default: "10" },
      connections: { type: "string", default: "4" },
      seed: { type: "string", default: "1" },
    },
    strict: true,
  });
  const int = (name: keyof typeof values, min: number): number => {
    const n = Number(String(values[name]).replace(/_/g, ""));
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} needs a whole number ≥ ${min}, got "${values[name]}"\n${USAGE}`);
    return n;
  };
  return {
    users: int("users", ROTATION),
    ratings: int("ratings", MOVIES),
    factors: int("factors", 1),
    duration: int("duration", 1),
    connections: int("connections", 1),
    seed: int("seed", 0),
  };
}

function log(line: string): void {
  process.stderr.write(`serve: ${line}\n`);
}
