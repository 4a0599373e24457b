/**
 * `npm run bench -- scale [--ratings 100480507] [--epochs 20] [--factors 100] [--threads N]
 *   [--lr X --reg X --decay X --init-std X] [--seed S] [--skip-native]`
 *
 * The parallel engine at Netflix scale, in one run: generate (or reuse) the Netflix-shaped set
 * as Netflix Prize text, ingest it (timed), hold out each user's latest 10% of ratings (the generator's held-out part) as the test set,
 * then train `mf` with one worker thread and with all threads (each in its own process, so peak
 * RSS is the run's own), reporting per-epoch seconds, updates per second, test RMSE per epoch and
 * peak RSS above the loaded dataset, beside the native C reference of the same SGD loop on the same
 * grid layout on one thread. Hyperparameter defaults were chosen on a validation split carved
 * from the training part of a smaller set of the same shape (never on the test part).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { GENERATE_DEFAULTS } from "../src/data/generate.js";
import { ensureText, folderBytes } from "./ingest.js";
import { summarize, writeResults, type Run } from "./lib.js";

const DATA_DIR = fileURLToPath(new URL("../../bench/.data/", import.meta.url));
const CLI = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const TRAIN = fileURLToPath(new URL("./scale/train.js", import.meta.url));
const USAGE =
  "usage: npm run bench -- scale [--ratings N] [--epochs E] [--factors K] [--threads T] [--lr X] [--reg X] [--decay X] [--init-std X] [--seed S] [--skip-native]";
/**
 * Chosen on a validation split of the training part (each user's latest 10% of the training
 * ratings) of a 10M-rating set of the same shape (48,000 users, 17,770 movies), by scratch
 * tuning over lr, reg, decay and initStd; the test part was never used.
 */
const DEFAULTS = { ratings: 100_480_507, epochs: 20, factors: 100, lr: 0.01, reg: 0.02, decay: 0.9, initStd: 0.01, seed: 1 };

function log(message: string): void {
  process.stderr.write(`[scale] ${message}\n`);
}

/** Runs a node script; returns its stdout (stderr passes through). Throws with the script's error. */
function node(args: string[]): string {
  const out = spawnSync(process.execPath, ["--max-old-space-size=8192", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 << 20 });
  if (out.status !== 0) throw new Error(`${args.slice(0, 2).join(" ")} failed with exit code ${out.status}`);
  return out.stdout;
}

export async function main(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      ratings: { type: "string" }, epochs: { type: "string" }, factors: { type: "string" }, threads: { type: "string" },
      lr: { type: "string" }, reg: { type: "string" }, decay: { type: "string" }, "init-std": { type: "string" },
      seed: { type: "string" }, "skip-native": { type: "boolean" },
    },
  });
  const num = (name: keyof typeof v, fallback: number): number => {
    if (v[name] === undefined) return fallback;
    const x = Number(v[name]);
    if (!Number.isFinite(x) || x <= 0) throw new Error(`--${name} must be a positive number, got ${String(v[name])}\n${USAGE}`);
    return x;
  };
  const p = {
    ratings: num("ratings", DEFAULTS.ratings), epochs: num("epochs", DEFAULTS.epochs), factors: num("factors", DEFAULTS.factors),
    threads: num("threads", availableParallelism()), lr: num("lr", DEFAULTS.lr), reg: num("reg", DEFAULTS.reg),
    decay: num("decay", DEFAULTS.decay), initStd: num("init-std", DEFAULTS.initStd), seed: num("seed", DEFAULTS.seed),
  };
  const load = [loadavg()[0]!];
  mkdirSync(DATA_DIR, { recursive: true });
  const { users, movies } = GENERATE_DEFAULTS;
  const textDir = join(DATA_DIR, `netflix-text-${p.ratings}-s${p.seed}`);
  const genSeconds = ensureText(textDir, { users, movies, ratings: p.ratings, seed: p.seed });
  if (genSeconds !== null) log(`generated ${textDir} in ${genSeconds.toFixed(1)} s`);
  const textBytes = folderBytes(textDir, (name) => name !== "generator.json");

  const work = mkdtempSync(join(DATA_DIR, "scale-"));
  const runs: Run[] = [];
  const notes: string[] = [];
  try {
    const ds = join(work, "dataset");
    log(`ingest ${(textBytes / 1e9).toFixed(2)} GB of Netflix text`);
    const t0 = performance.now();
    node([CLI, "ingest", "netflix", textDir, "--out", ds]);
    const ingestSeconds = (performance.now() - t0) / 1000;
    runs.push({ label: "ingest (text → dataset folder)", seconds: ingestSeconds, mbPerSecond: textBytes / 1e6 / ingestSeconds, ratingsPerSecond: p.ratings / ingestSeconds });

    const splitDir = join(work, "split");
    node([CLI, "split", ds, "--method", "probe", "--last-fraction", "0.1", "--seed", String(p.seed), "--out", splitDir]);
    rmSync(ds, { recursive: true, force: true });
    const common = [
      "--train", join(splitDir, "train"), "--test", join(splitDir, "test"), "--epochs", String(p.epochs), "--factors", String(p.factors),
      "--lr", String(p.lr), "--reg", String(p.reg), "--decay", String(p.decay), "--init-std", String(p.initStd), "--seed", String(p.seed), "--tmp", work,
    ];
    const trainRuns: { label: string; threads: number }[] = [{ label: "mf, 1 thread", threads: 1 }];
    if (p.threads > 1) trainRuns.push({ label: `mf, ${p.threads} threads`, threads: p.threads });
    let oneThreadMedian = NaN;
    let nTrain = 0;
    for (const r of trainRuns) {
      log(`training ${r.label}`);
      const res = JSON.parse(node([TRAIN, ...common, "--threads", String(r.threads)])) as {
        epochSeconds: number[]; testRmse: number[]; trainRmse: number[]; finalTestRmse: number; finalTestMape: number; nTest: number;
        noiseFloor: number | null; n: number; rssAfterLoadMiB: number; peakRssMiB: number; fitSeconds: number;
      };
      nTrain = res.n;
      const s = summarize(res.epochSeconds);
      if (r.threads === 1) oneThreadMedian = s.median;
      runs.push({
        label: r.label,
        epochSecondsMedian: s.median, epochSecondsMin: s.min, epochSecondsMax: s.max,
        updatesPerSecond: res.n / s.median,
        speedupVs1Thread: oneThreadMedian / s.median,
        testRmse: res.finalTestRmse, testMape: res.finalTestMape, noiseFloorRmse: res.noiseFloor ?? NaN,
        peakRssMiB: res.peakRssMiB, rssAfterLoadMiB: res.rssAfterLoadMiB, peakRssAboveDatasetMiB: res.peakRssMiB - res.rssAfterLoadMiB,
        fitSeconds: res.fitSeconds,
      });
      notes.push(`${r.label}: test RMSE by epoch ${res.testRmse.map((x) => x.toFixed(4)).join(" ")} (train ${res.trainRmse.map((x) => x.toFixed(4)).join(" ")}); ${res.nTest.toLocaleString("en-US")} test ratings.`);
    }
    if (!v["skip-native"]) {
      log("native C reference, 1 thread");
      const res = JSON.parse(node([TRAIN, ...common, "--native"])) as { epochSeconds: number[]; trainRmse: number; n: number };
      const s = summarize(res.epochSeconds);
      runs.push({ label: "native C, 1 thread (same loop, same grid)", epochSecondsMedian: s.median, epochSecondsMin: s.min, epochSecondsMax: s.max, updatesPerSecond: res.n / s.median, speedupVs1Thread: oneThreadMedian / s.median });
      notes.push(`native C final train RMSE ${res.trainRmse.toFixed(4)} (its loop has no test evaluation).`);
    }
    load.push(loadavg()[0]!);
    notes.push(
      `${nTrain.toLocaleString("en-US")} training ratings (each user's latest 10% held out as the test set: the generator's held-out part); text ${(textBytes / 1e9).toFixed(2)} GB.`,
      "Peak RSS above the dataset = the training process's peak RSS minus its RSS once the train and test dataset folders are loaded.",
      `1-minute load average ${load.map((x) => x.toFixed(2)).join(" at the start, ")} at the end (other processes may share the cores): read ratios more than absolute times.`,
    );
    writeResults("scale", p, runs, notes);
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (!existsSync(textDir)) log("note: the generated text was not kept");
  }
}
