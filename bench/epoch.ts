/**
 * `npm run bench -- epoch [--ratings N] [--factors K] [--epochs E] [--reps R] [--bins B]
 *   [--interleave G] [--seed S] [--variants simd,scalar,native]`
 *
 * One-thread SGD epoch time of biased MF: our WASM kernel (SIMD and scalar paths) beside a
 * native C reference of the same loop (bench/native/sgd_ref.c, gcc -O3 -march=native), all on
 * the same synthetic Netflix-shaped ratings laid out by the block grid, from the same initial
 * factors, alternating variant by variant for each repetition. Reports per-epoch seconds
 * (median, min, max over reps × epochs), updates per second, the final training RMSE, and
 * whether the three final states are bit-identical.
 */
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Engine, type Coo, type FactorModel, type SgdParams } from "../src/abi/index.js";
import { Rng } from "../src/data/rng.js";
import { buildGrid, gatherInto } from "../src/engine/grid.js";
import { secondsSince, summarize, writeResults, type Run } from "./lib.js";

const NATIVE_DIR = fileURLToPath(new URL("../../bench/native/", import.meta.url));
const NATIVE_SOURCE = join(NATIVE_DIR, "sgd_ref.c");
export const NATIVE_BINARY = join(NATIVE_DIR, "sgd_ref");
const NATIVE_FLAGS = ["-O3", "-march=native", "-ffp-contract=off", "-std=c11"];

const VARIANTS = ["simd", "scalar", "native"] as const;
type Variant = (typeof VARIANTS)[number];
const LABELS: Record<Variant, string> = { simd: "wasm-simd", scalar: "wasm-scalar", native: "native-c" };

interface Options {
  ratings: number;
  factors: number;
  epochs: number;
  reps: number;
  bins: number;
  interleave: number;
  seed: number;
  variants: Variant[];
}

/** Surprise's SVD defaults: one learning rate and one regularization for every term. */
const LR = 0.005;
const REG = 0.02;
const INIT_STD = 0.1;

export async function main(argv: string[]): Promise<void> {
  const options = parseOptions(argv);
  const loadStart = loadavg()[0]!;
  const { ratings: n, factors, epochs, reps } = options;
  const nUsers = Math.max(100, Math.round((48_000 * n) / 10_000_000));
  const nMovies = Math.min(17_770, Math.max(50, Math.round(n / 100)));
  const stride = Math.ceil(factors / 4) * 4;

  log(`synthesizing ${n.toLocaleString("en-US")} ratings (${nUsers} users × ${nMovies} movies)`);
  let start = process.hrtime.bigint();
  const data = synthesize(n, nUsers, nMovies, options.seed);
  const synthSeconds = secondsSince(start);

  start = process.hrtime.bigint();
  const grid = buildGrid(data.user, data.movie, nUsers, nMovies, options.bins, options.seed, {
    interleave: options.interleave,
  });
  const user = gatherInto(data.user, grid.order, new Int32Array(n));
  const movie = gatherInto(data.movie, grid.order, new Int32Array(n));
  const rating = gatherInto(data.rating, grid.order, new Float32Array(n));
  const gridSeconds = secondsSince(start);
  log(`grid ${options.bins}×${options.bins} built and applied in ${gridSeconds.toFixed(2)} s`);

  const init = initialModel(nUsers, nMovies, factors, stride, options.seed + 1);
  let mu = 0;
  for (let j = 0; j < n; j++) mu += rating[j]!;
  mu /= n;
  const params: SgdParams = { mu, lrBu: LR, lrBi: LR, lrP: LR, lrQ: LR, regBu: REG, regBi: REG, regP: REG, regQ: REG };

  const bytes = 12 * n + 4 * (nUsers + nMovies) * (stride + 1) + (1 << 20);
  const engine = await Engine.create({ bytes });
  const coo: Coo = { user: engine.arena.copyIn(user), movie: engine.arena.copyIn(movie), rating: engine.arena.copyIn(rating) };
  const model: FactorModel = {
    nUsers, nMovies, stride,
    P: engine.arena.array("f32", init.P.length),
    Q: engine.arena.array("f32", init.Q.length),
    bu: engine.arena.array("f32", nUsers),
    bi: engine.arena.array("f32", nMovies),
  };

  const tmp = mkdtempSync(join(tmpdir(), "movierec-epoch-"));
  try {
    let problemFile = "";
    if (options.variants.includes("native")) {
      ensureNativeBinary();
      problemFile = join(tmp, "problem.bin");
      writeProblem(problemFile, { user, movie, rating }, init, nUsers, nMovies, stride, params);
    }

    const runWasm = (simd: boolean): Outcome => {
      resetModel(engine, model, init);
      const seconds: number[] = [];
      let sse = 0;
      for (let e = 0; e < epochs; e++) {
        const t0 = process.hrtime.bigint();
        sse = engine.sgdEpoch(coo, model, params, { simd });
        seconds.push(secondsSince(t0));
      }
      return { seconds, rmse: Math.sqrt(sse / n), hash: stateHash(engine, model) };
    };
    const runNative = (): Outcome => {
      const out = spawnSync(NATIVE_BINARY, [problemFile, String(epochs)], { encoding: "utf8" });
      if (out.status !== 0) throw new Error(`sgd_ref failed (${out.status}): ${out.stderr}`);
      const parsed = JSON.parse(out.stdout) as { epochSeconds: number[]; trainRmse: number; stateHash: string };
      return { seconds: parsed.epochSeconds, rmse: parsed.trainRmse, hash: parsed.stateHash };
    };
    const runners: Record<Variant, () => Outcome> = {
      simd: () => runWasm(true),
      scalar: () => runWasm(false),
      native: runNative,
    };

    // One untimed epoch per WASM path first, so every timed epoch runs optimized code.
    resetModel(engine, model, init);
    if (options.variants.includes("simd")) engine.sgdEpoch(coo, model, params, { simd: true });
    if (options.variants.includes("scalar")) engine.sgdEpoch(coo, model, params, { simd: false, end: Math.min(n, 1 << 21) });

    const outcomes = new Map<Variant, Outcome[]>(options.variants.map((v) => [v, []]));
    for (let rep = 0; rep < reps; rep++) {
      for (const variant of options.variants) {
        const outcome = runners[variant]();
        outcomes.get(variant)!.push(outcome);
        log(`rep ${rep + 1}/${reps} ${LABELS[variant]}: ${outcome.seconds.map((s) => s.toFixed(3)).join(" ")} s/epoch, ` +
          `train RMSE ${outcome.rmse.toFixed(4)}`);
      }
    }

    const medians = new Map<Variant, number>();
    for (const [variant, list] of outcomes) medians.set(variant, summarize(list.flatMap((o) => o.seconds)).median);
    const nativeMedian = medians.get("native");
    const runs: Run[] = [...outcomes].map(([variant, list]) => {
      const s = summarize(list.flatMap((o) => o.seconds));
      const run: Run = {
        label: LABELS[variant],
        epochSecondsMedian: s.median,
        epochSecondsMin: s.min,
        epochSecondsMax: s.max,
        updatesPerSecond: n / s.median,
        trainRmse: list[list.length - 1]!.rmse,
        epochsTimed: list.length * epochs,
      };
      if (nativeMedian !== undefined) run.timesNative = s.median / nativeMedian;
      return run;
    });

    const hashes = [...outcomes].map(([variant, list]) => `${LABELS[variant]} ${list[list.length - 1]!.hash}`);
    const identical = new Set([...outcomes.values()].map((list) => list[list.length - 1]!.hash)).size === 1;
    const notes = [
      `One thread. Synthetic Netflix-shaped ratings (lognormal user and movie popularity, integer ratings 1–5 from a planted ` +
        `biased rank-4 model), synthesized in ${synthSeconds.toFixed(1)} s; grid built and applied in ${gridSeconds.toFixed(2)} s.`,
      `Variants alternate within each repetition; each repetition restarts from the same initial factors ` +
        `(N(0, ${INIT_STD}²), zero biases); lr ${LR}, reg ${REG} for every term; one untimed warm-up epoch per WASM path.`,
      `Native reference: gcc ${NATIVE_FLAGS.join(" ")} (no FMA contraction, so the f32 arithmetic matches the WASM kernel).`,
      `Final state (P, Q, bu, bi) FNV-1a: ${hashes.join(", ")} — ${identical ? "bit-identical" : "NOT identical"}.`,
      `1-minute load average ${loadStart.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end ` +
        `(${cpus().length} cores; other processes may share them): read the ratios, not the absolute times.`,
    ];
    writeResults("epoch", {
      ratings: n, users: nUsers, movies: nMovies, factors, stride, epochs, reps,
      bins: options.bins, interleave: options.interleave, seed: options.seed, lr: LR, reg: REG, initStd: INIT_STD,
    }, runs, notes);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

interface Outcome {
  seconds: number[];
  rmse: number;
  hash: string;
}

export interface InitialModel {
  P: Float32Array;
  Q: Float32Array;
  bu: Float32Array;
  bi: Float32Array;
}

function log(message: string): void {
  process.stderr.write(`[epoch] ${message}\n`);
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      ratings: { type: "string", default: "10000000" },
      factors: { type: "string", default: "100" },
      epochs: { type: "string", default: "3" },
      reps: { type: "string", default: "5" },
      bins: { type: "string", default: "8" },
      interleave: { type: "string", default: "1" },
      seed: { type: "string", default: "1" },
      variants: { type: "string", default: VARIANTS.join(",") },
    },
  });
  const int = (name: keyof typeof values, min: number): number => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be a whole number ≥ ${min}, got ${values[name]}`);
    return value;
  };
  const variants = String(values.variants).split(",").map((v) => v.trim());
  for (const v of variants) {
    if (!(VARIANTS as readonly string[]).includes(v)) throw new Error(`--variants: unknown "${v}" (known: ${VARIANTS.join(", ")})`);
  }
  return {
    ratings: int("ratings", 1000),
    factors: int("factors", 0),
    epochs: int("epochs", 1),
    reps: int("reps", 1),
    bins: int("bins", 1),
    interleave: int("interleave", 1),
    seed: int("seed", 0),
    variants: variants as Variant[],
  };
}

/**
 * Netflix-shaped-ish ratings: users and movies drawn with lognormal popularity (heavy tails; a
 * few movies take a large share), ratings rounded from mean + user bias + movie bias + a rank-4
 * interaction + noise and clipped to 1..5. Duplicate (user, movie) pairs may occur.
 */
function synthesize(n: number, nUsers: number, nMovies: number, seed: number) {
  const rng = new Rng(seed);
  const users = aliasTable(lognormal(rng, nUsers, 1.26));
  const movies = aliasTable(lognormal(rng, nMovies, 1.6));
  const rank = 4;
  const bu = Float32Array.from({ length: nUsers }, () => 0.4 * rng.normal());
  const bi = Float32Array.from({ length: nMovies }, () => 0.5 * rng.normal());
  const pu = Float32Array.from({ length: nUsers * rank }, () => 0.45 * rng.normal());
  const qi = Float32Array.from({ length: nMovies * rank }, () => 0.45 * rng.normal());
  const user = new Int32Array(n);
  const movie = new Int32Array(n);
  const rating = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    const u = sampleAlias(rng, users);
    const i = sampleAlias(rng, movies);
    let x = 3.6 + bu[u]! + bi[i]! + 0.9 * rng.normal();
    for (let f = 0; f < rank; f++) x += pu[u * rank + f]! * qi[i * rank + f]!;
    user[j] = u;
    movie[j] = i;
    rating[j] = Math.min(5, Math.max(1, Math.round(x)));
  }
  return { user, movie, rating };
}

function lognormal(rng: Rng, n: number, sigma: number): Float64Array {
  return Float64Array.from({ length: n }, () => Math.exp(sigma * rng.normal()));
}

interface Alias {
  prob: Float64Array;
  alias: Uint32Array;
}

/** Vose's alias method: O(1) draws from a discrete distribution with the given weights. */
function aliasTable(weights: Float64Array): Alias {
  const n = weights.length;
  let total = 0;
  for (const w of weights) total += w;
  const prob = Float64Array.from(weights, (w) => (w * n) / total);
  const alias = new Uint32Array(n);
  const small: number[] = [];
  const large: number[] = [];
  prob.forEach((p, x) => (p < 1 ? small : large).push(x));
  while (small.length > 0 && large.length > 0) {
    const s = small.pop()!;
    const l = large[large.length - 1]!;
    alias[s] = l;
    prob[l] = prob[l]! + prob[s]! - 1;
    if (prob[l]! < 1) small.push(large.pop()!);
  }
  for (const x of [...small, ...large]) prob[x] = 1;
  return { prob, alias };
}

function sampleAlias(rng: Rng, table: Alias): number {
  const x = rng.int(table.prob.length);
  return rng.next() < table.prob[x]! ? x : table.alias[x]!;
}

/** Factors N(0, INIT_STD²) in the first `factors` columns of each row (padding zero), zero biases. */
function initialModel(nUsers: number, nMovies: number, factors: number, stride: number, seed: number): InitialModel {
  const rng = new Rng(seed);
  const rows = (count: number): Float32Array => {
    const m = new Float32Array(count * stride);
    for (let r = 0; r < count; r++) for (let f = 0; f < factors; f++) m[r * stride + f] = INIT_STD * rng.normal();
    return m;
  };
  return { P: rows(nUsers), Q: rows(nMovies), bu: new Float32Array(nUsers), bi: new Float32Array(nMovies) };
}

function resetModel(engine: Engine, model: FactorModel, init: InitialModel): void {
  engine.arena.view(model.P).set(init.P);
  engine.arena.view(model.Q).set(init.Q);
  engine.arena.view(model.bu).set(init.bu);
  engine.arena.view(model.bi).set(init.bi);
}

/** FNV-1a over the 32-bit words of P, Q, bu, bi (the same hash sgd_ref prints). */
function stateHash(engine: Engine, model: FactorModel): string {
  let h = 2166136261;
  for (const region of [model.P, model.Q, model.bu, model.bi]) {
    const words = engine.arena.u32(region.ptr, region.length);
    for (let x = 0; x < words.length; x++) h = Math.imul(h ^ words[x]!, 16777619) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/** Compiles sgd_ref.c into bench/native/ when the binary is missing or older than the source. */
export function ensureNativeBinary(): void {
  if (existsSync(NATIVE_BINARY) && statSync(NATIVE_BINARY).mtimeMs >= statSync(NATIVE_SOURCE).mtimeMs) return;
  log(`compiling ${NATIVE_SOURCE}`);
  const out = spawnSync("gcc", [...NATIVE_FLAGS, "-o", NATIVE_BINARY, NATIVE_SOURCE, "-lm"], { encoding: "utf8" });
  if (out.error || out.status !== 0) {
    throw new Error(`gcc failed: ${out.error?.message ?? out.stderr}`);
  }
}

/** The problem file sgd_ref reads (format in its header comment). */
export function writeProblem(
  file: string,
  data: { user: Int32Array; movie: Int32Array; rating: Float32Array },
  init: InitialModel,
  nUsers: number,
  nMovies: number,
  stride: number,
  params: SgdParams,
): void {
  const header = Buffer.alloc(8 + 4 * 4 + 9 * 4);
  header.write("MRSGD01\0", 0, "latin1");
  [data.user.length, nUsers, nMovies, stride].forEach((v, x) => header.writeUInt32LE(v, 8 + 4 * x));
  const scalars = [params.mu, params.lrBu, params.lrBi, params.lrP, params.lrQ, params.regBu, params.regBi, params.regP, params.regQ];
  scalars.forEach((v, x) => header.writeFloatLE(v, 24 + 4 * x));
  const fd = openSync(file, "w");
  try {
    writeSync(fd, header);
    for (const array of [data.user, data.movie, data.rating, init.P, init.Q, init.bu, init.bi]) {
      writeSync(fd, new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
    }
  } finally {
    closeSync(fd);
  }
}
