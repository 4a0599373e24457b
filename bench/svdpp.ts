/**
 * `npm run bench -- svdpp [--ratings 100480507] [--epochs 3] [--reps 1] [--threads N] [--seed 1]`
 *
 * The SVD++ epoch at k = 50 beside mf's epoch at k = 50 and k = 100, on the same Netflix-shaped
 * ratings (generated once by src/data/generate.ts and cached as a dataset folder under
 * bench/.data/; users scale with the rating count, 480,189 at the full 100,480,507). Each
 * variant is a `fit` of the registered model with its default hyperparameters except factors and
 * epochs, timed per epoch through `onEpoch` (the one-time layout of the ratings is not in an
 * epoch). Both run on one thread (the deterministic mode, on the calling thread) and on
 * `--threads` worker threads. Variants alternate within each repetition; per-epoch seconds are
 * reported as median, min and max over reps × epochs.
 */
import { availableParallelism, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { GENERATE_DEFAULTS } from "../src/data/generate.js";
import type { Dataset } from "../src/data/types.js";
import type { FitOptions } from "../src/models/model.js";
import { createModel } from "../src/models/registry.js";
import { Y_SYNCS_PER_EPOCH } from "../src/models/svdpp.js";
import { cachedDataset, secondsSince, summarize, writeResults, type Run } from "./lib.js";

const USAGE = "usage: npm run bench -- svdpp [--ratings N] [--epochs E] [--reps R] [--threads T] [--seed S]";

interface Variant {
  label: string;
  algo: "svdpp" | "mf";
  factors: number;
  fit: FitOptions;
}

function log(message: string): void {
  process.stderr.write(`[svdpp] ${message}\n`);
}

export async function main(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      ratings: { type: "string" }, epochs: { type: "string" }, reps: { type: "string" }, threads: { type: "string" }, seed: { type: "string" },
    },
  });
  const int = (name: keyof typeof v, fallback: number, min: number): number => {
    if (v[name] === undefined) return fallback;
    const x = Number(v[name]);
    if (!Number.isInteger(x) || x < min) throw new Error(`--${name} must be a whole number ≥ ${min}, got ${String(v[name])}\n${USAGE}`);
    return x;
  };
  const ratings = int("ratings", GENERATE_DEFAULTS.ratings, 1000);
  const epochs = int("epochs", 3, 1);
  const reps = int("reps", 1, 1);
  const threads = int("threads", availableParallelism(), 1);
  const seed = int("seed", 1, 0);
  const loadStart = loadavg()[0]!;

  const { ds, genSeconds } = await dataset(ratings, seed);
  const n = ds.meta.nRatings;
  const variants: Variant[] = [
    { label: "svdpp k=50, 1 thread", algo: "svdpp", factors: 50, fit: { deterministic: true } },
    { label: "mf k=50, 1 thread", algo: "mf", factors: 50, fit: { deterministic: true } },
    { label: "mf k=100, 1 thread", algo: "mf", factors: 100, fit: { deterministic: true } },
  ];
  if (threads > 1) {
    variants.push(
      { label: `svdpp k=50, ${threads} threads`, algo: "svdpp", factors: 50, fit: { threads } },
      { label: `mf k=50, ${threads} threads`, algo: "mf", factors: 50, fit: { threads } },
      { label: `mf k=100, ${threads} threads`, algo: "mf", factors: 100, fit: { threads } },
    );
  }

  const seconds = new Map<string, number[]>(variants.map((x) => [x.label, []]));
  const trainRmse = new Map<string, number>();
  const fitSeconds = new Map<string, number[]>(variants.map((x) => [x.label, []]));
  for (let rep = 0; rep < reps; rep++) {
    for (const x of variants) {
      log(`rep ${rep + 1}/${reps}: ${x.label}, ${epochs} epochs`);
      const t0 = process.hrtime.bigint();
      await createModel(x.algo, { factors: x.factors, epochs, seed }).fit(ds, {
        ...x.fit,
        onEpoch: (e) => {
          seconds.get(x.label)!.push(e.seconds);
          trainRmse.set(x.label, e.trainRmse);
          log(`  epoch ${e.epoch}: ${e.seconds.toFixed(2)} s, train RMSE ${e.trainRmse.toFixed(4)}`);
        },
      });
      fitSeconds.get(x.label)!.push(secondsSince(t0));
    }
  }

  // Each variant against mf at k = 50 on the same number of threads.
  const mfK50 = (fit: FitOptions) => summarize(seconds.get(variants.find((y) => y.algo === "mf" && y.factors === 50 && y.fit.threads === fit.threads)!.label)!).median;
  const runs: Run[] = variants.map((x) => {
    const s = summarize(seconds.get(x.label)!);
    return {
      label: x.label,
      epochSecondsMedian: s.median,
      epochSecondsMin: s.min,
      epochSecondsMax: s.max,
      updatesPerSecond: n / s.median,
      timesMfK50: s.median / mfK50(x.fit),
      trainRmse: trainRmse.get(x.label)!,
      fitSecondsMedian: summarize(fitSeconds.get(x.label)!).median,
      epochsTimed: seconds.get(x.label)!.length,
    };
  });
  writeResults("svdpp", { ratings: n, users: ds.meta.nUsers, movies: ds.meta.nMovies, epochs, reps, threads, seed }, runs, [
    `Netflix-shaped ratings from src/data/generate.ts (seed ${seed}), ${genSeconds === null ? "reused from bench/.data/" : `generated in ${genSeconds.toFixed(1)} s`}.`,
    "Each variant is a fit of the registered model with its defaults except factors and epochs (svdpp: lr 0.01, lrY 0.002, decay 0.98; mf: lr 0.005, no decay); " +
      "epoch seconds come from onEpoch and exclude the one-time layout of the ratings, which fit seconds include.",
    "timesMfK50 is the epoch time over mf's at k = 50 on the same number of threads.",
    "SVD++ runs on the block grid like mf: per rating a dot product with p_u + z_u and updates of p_u, q_i and z_u (the blocks, scheduled as mf's); " +
      `per wave of user bins (${Y_SYNCS_PER_EPOCH} or more per epoch), the implicit sums z_u (one read of y_j per rating) before its blocks, and one ` +
      "write of y_j per rating after them — three passes over the ratings where mf makes one.",
    `1-minute load average ${loadStart.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end ` +
      `(${availableParallelism()} cores; other processes may share them): read the ratios, not the absolute times.`,
  ]);
}

/** The Netflix-shaped dataset for `ratings` ratings (users scaled to Netflix's ratings per user). */
function dataset(ratings: number, seed: number): Promise<{ ds: Dataset; genSeconds: number | null }> {
  const users = Math.min(GENERATE_DEFAULTS.users, Math.round((GENERATE_DEFAULTS.users * ratings) / 100_000_000));
  return cachedDataset(ratings, users, seed, log);
}
