/**
 * One training run of `npm run bench -- scale`, in its own process so that its memory figures are
 * its own: loads the train and test dataset folders, then either trains `mf` on the engine
 * (`--threads T`) reporting per-epoch seconds and test RMSE, or (`--native`) lays the same ratings
 * out in the same grid and runs the native C reference of the same loop on one thread.
 * Prints one JSON line on stdout.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readDataset } from "../../src/data/dataset.js";
import { noiseFloor } from "../../src/data/generate.js";
import { Rng } from "../../src/data/rng.js";
import { arrangeGrid, binRowOrder, remapColumn } from "../../src/engine/grid.js";
import { binsFor, strideOf } from "../../src/engine/trainer.js";
import { evaluateModel } from "../../src/eval/evaluate.js";
import { createModel } from "../../src/models/registry.js";
import { ensureNativeBinary, NATIVE_BINARY, writeProblem } from "../epoch.js";

const MIB = 2 ** 20;
const rssMiB = () => process.memoryUsage.rss() / MIB;
const peakMiB = () => process.resourceUsage().maxRSS / 1024;

const { values: o } = parseArgs({
  options: {
    train: { type: "string" }, test: { type: "string" }, threads: { type: "string" }, native: { type: "boolean" },
    epochs: { type: "string" }, factors: { type: "string" }, lr: { type: "string" }, reg: { type: "string" },
    decay: { type: "string" }, "init-std": { type: "string" }, seed: { type: "string" }, tmp: { type: "string" },
  },
});
const num = (k: keyof typeof o) => Number(o[k]);

const train = await readDataset(o.train!);
const test = await readDataset(o.test!);
const rssAfterLoadMiB = rssMiB();
const params = { factors: num("factors"), epochs: num("epochs"), lr: num("lr"), reg: num("reg"), decay: num("decay"), initStd: num("init-std"), seed: num("seed") };

if (o.native) {
  // The same layout as the engine's one-thread run: the same bins and seed give the same grid.
  const nUsers = train.users.length;
  const nMovies = train.movies.length;
  const stride = strideOf(params.factors);
  const n = train.meta.nRatings;
  const data = { user: new Int32Array(n), movie: new Int32Array(n), rating: new Float32Array(n) };
  const { user, movie, rating } = train.ratings;
  const bins = binsFor(nMovies, stride);
  const grid = arrangeGrid(user, movie, nUsers, nMovies, bins, params.seed, [[user, data.user], [movie, data.movie], [rating, data.rating]]);
  // The engine's row numbering too (bin by bin), so both loops touch memory in the same order.
  const userRow = binRowOrder(grid.userBin, bins);
  const movieRow = binRowOrder(grid.movieBin, bins);
  remapColumn(data.user, userRow);
  remapColumn(data.movie, movieRow);
  const rng = new Rng(params.seed);
  const rows = (rowOf: Int32Array) => {
    const m = new Float32Array(rowOf.length * stride);
    for (let x = 0; x < rowOf.length; x++) for (let f = 0; f < params.factors; f++) m[rowOf[x]! * stride + f] = params.initStd * rng.normal();
    return m;
  };
  let sum = 0;
  for (let r = 0; r < n; r++) sum += rating[r]!;
  const mu = sum / n;
  const init = { P: rows(userRow), Q: rows(movieRow), bu: new Float32Array(nUsers), bi: new Float32Array(nMovies) };
  ensureNativeBinary();
  const dir = mkdtempSync(join(o.tmp!, "native-"));
  try {
    const file = join(dir, "problem.bin");
    const l = params.lr;
    const g = params.reg;
    writeProblem(file, data, init, nUsers, nMovies, stride, { mu, lrBu: l, lrBi: l, lrP: l, lrQ: l, regBu: g, regBi: g, regP: g, regQ: g });
    const out = spawnSync(NATIVE_BINARY, [file, String(params.epochs)], { encoding: "utf8", maxBuffer: 1 << 20 });
    if (out.status !== 0) throw new Error(`sgd_ref failed: ${out.stderr}`);
    const res = JSON.parse(out.stdout) as { epochSeconds: number[]; trainRmse: number };
    process.stdout.write(JSON.stringify({ epochSeconds: res.epochSeconds, trainRmse: res.trainRmse, n }) + "\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  const epochSeconds: number[] = [];
  const testRmse: number[] = [];
  const trainRmse: number[] = [];
  const t0 = performance.now();
  // The test set is only reported on after each epoch (computed by the pool); nothing is chosen by it.
  const model = await createModel("mf", params).fit(train, {
    threads: num("threads"),
    valid: test,
    onEpoch: (e) => {
      epochSeconds.push(e.seconds);
      testRmse.push(e.validRmse!);
      trainRmse.push(e.trainRmse);
      process.stderr.write(`  epoch ${e.epoch}: ${e.seconds.toFixed(2)} s, train ${e.trainRmse.toFixed(4)}, test ${e.validRmse!.toFixed(4)}\n`);
    },
  });
  const fitSeconds = (performance.now() - t0) / 1000;
  const final = evaluateModel(model, test);
  process.stdout.write(
    JSON.stringify({
      epochSeconds, testRmse, trainRmse, fitSeconds, finalTestRmse: final.rmse, finalTestMape: final.mape, nTest: final.n,
      noiseFloor: noiseFloor(test), n: train.meta.nRatings, rssAfterLoadMiB, peakRssMiB: peakMiB(),
    }) + "\n",
  );
}
