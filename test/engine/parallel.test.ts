/**
 * The parallel engine: workers sharing one memory compute what the calling thread computes; one
 * and two workers reach the same accuracy; the deterministic mode is bit-identical run to run; a
 * failing or dying worker ends training promptly with a clear error; the memory planner refuses
 * what cannot fit before doing any work.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine } from "../../src/abi/kernels.js";
import { generateDataset } from "../../src/data/generate.js";
import { Rng } from "../../src/data/rng.js";
import { split } from "../../src/data/split.js";
import { DataError } from "../../src/data/types.js";
import { layoutArgs } from "../../src/engine/handlers.js";
import { EnginePool } from "../../src/engine/pool.js";
import { runEpoch, StopRequested } from "../../src/engine/scheduler.js";
import { planMemory, trainSgd, type SgdSettings } from "../../src/engine/trainer.js";
import { evaluateModel } from "../../src/eval/evaluate.js";
import { createModel } from "../../src/models/registry.js";

const ds = generateDataset({ users: 4000, movies: 600, ratings: 300_000, seed: 5 });
const [part] = split(ds, { method: "probe", last: 5, seed: 5 });
const train = part!.train;
const dense = { user: train.ratings.user, movie: train.ratings.movie, rating: train.ratings.rating };
const settings: SgdSettings = {
  factors: 16, epochs: 6, lrBu: 0.01, lrBi: 0.01, lrP: 0.01, lrQ: 0.01, regBu: 0.05, regBi: 0.05, regP: 0.05, regQ: 0.05,
  initStd: 0.05, decay: 0.95, seed: 3,
};
const scale = { min: 1, max: 5 };
const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

test("one worker thread computes bit for bit what the deterministic (calling-thread) mode computes", async () => {
  const inline = await trainSgd(ds.users.length, ds.movies.length, dense, settings, { scale }, { deterministic: true });
  const worker = await trainSgd(ds.users.length, ds.movies.length, dense, settings, { scale }, { threads: 1 });
  for (const k of ["P", "Q", "bu", "bi"] as const) assert.equal(bits(worker[k]), bits(inline[k]), k);
});

test("deterministic mode is bit-identical across runs; a different seed differs", async () => {
  const a = await trainSgd(ds.users.length, ds.movies.length, dense, settings, { scale }, { deterministic: true });
  const b = await trainSgd(ds.users.length, ds.movies.length, dense, settings, { scale }, { deterministic: true });
  for (const k of ["P", "Q", "bu", "bi"] as const) assert.equal(bits(a[k]), bits(b[k]), k);
  const c = await trainSgd(ds.users.length, ds.movies.length, dense, { ...settings, seed: 4 }, { scale }, { deterministic: true });
  assert.not.equal(bits(a.P), bits(c.P));
});

test("one worker and two workers reach the same test RMSE within 0.002", async () => {
  const params = { factors: 16, epochs: 12, lr: 0.01, reg: 0.05, initStd: 0.05 };
  const one = evaluateModel(await createModel("mf", params).fit(train, { threads: 1 }), part!.test).rmse;
  const two = evaluateModel(await createModel("mf", params).fit(train, { threads: 2 }), part!.test).rmse;
  assert.ok(Math.abs(one - two) <= 0.002, `1 worker ${one.toFixed(5)} vs 2 workers ${two.toFixed(5)}`);
});

test("svdpp on the pool: one worker computes what deterministic mode computes, and two workers reach its RMSE", async () => {
  const params = { factors: 12, epochs: 5, lr: 0.01, reg: 0.05, initStd: 0.05 };
  const inline = await createModel("svdpp", params).fit(train, { deterministic: true });
  const worker = await createModel("svdpp", params).fit(train, { threads: 1 });
  const pairs = { user: part!.test.ratings.user, movie: part!.test.ratings.movie };
  const rawUsers = Array.from(pairs.user.subarray(0, 2000), (u) => part!.test.users[u]!);
  const rawMovies = Array.from(pairs.movie.subarray(0, 2000), (i) => part!.test.movies[i]!);
  const a = Float32Array.from(rawUsers, (u, k) => inline.predictOne(u, rawMovies[k]!).est);
  const b = Float32Array.from(rawUsers, (u, k) => worker.predictOne(u, rawMovies[k]!).est);
  assert.equal(bits(b), bits(a), "one worker vs deterministic");
  const one = evaluateModel(worker, part!.test).rmse;
  const two = evaluateModel(await createModel("svdpp", params).fit(train, { threads: 2 }), part!.test).rmse;
  assert.ok(Math.abs(one - two) <= 0.002, `1 worker ${one.toFixed(5)} vs 2 workers ${two.toFixed(5)}`);
});

test("validation RMSE comes from the pool each epoch, and early stopping keeps the best epoch", async () => {
  const seen: (number | null)[] = [];
  const m = await createModel("mf", { factors: 16, epochs: 40, lr: 0.03, reg: 0.001, initStd: 0.1 }).fit(train, {
    threads: 2, valid: part!.test, earlyStop: 2, onEpoch: (e) => seen.push(e.validRmse),
  });
  assert.ok(seen.length < 40, `stopped early after ${seen.length} epochs`);
  assert.ok(seen.every((v) => v !== null && v > 0));
  const best = Math.min(...(seen as number[]));
  assert.ok(Math.abs(evaluateModel(m, part!.test).rmse - best) < 1e-4, "the model is the best epoch's");
});

/** A pool over a big block of SGD work, for the failure tests. */
async function bigProblem() {
  const n = 4_000_000, nUsers = 50_000, nMovies = 5_000, stride = 32;
  const engine = await Engine.create({ bytes: 12 * n + 4 * (nUsers + nMovies) * (stride + 1) + (8 << 20) });
  const { arena } = engine;
  const rng = new Rng(1);
  const user = arena.array("i32", n), movie = arena.array("i32", n), rating = arena.array("f32", n);
  const u = arena.view(user), i = arena.view(movie), r = arena.view(rating);
  for (let k = 0; k < n; k++) (u[k] = rng.int(nUsers)), (i[k] = rng.int(nMovies)), (r[k] = 1 + rng.int(5));
  const args = layoutArgs({
    userPtr: user.ptr, moviePtr: movie.ptr, ratingPtr: rating.ptr, n, nUsers, nMovies, stride,
    pPtr: arena.zeros("f32", nUsers * stride).ptr, qPtr: arena.zeros("f32", nMovies * stride).ptr,
    buPtr: arena.zeros("f32", nUsers).ptr, biPtr: arena.zeros("f32", nMovies).ptr,
  });
  return { engine, n, task: (start: number, end: number) => ({ op: "sgd", args: [...args, 3.6, 0.005, 0.005, 0.005, 0.005, 0.02, 0.02, 0.02, 0.02, start, end] }) };
}

test("a worker whose kernel aborts ends the epoch with that error, promptly", async () => {
  const { engine, n, task } = await bigProblem();
  const pool = EnginePool.create(engine, { threads: 2 });
  const grid = { bins: 2, blockStart: Uint32Array.of(0, n / 4, n / 2, (3 * n) / 4, n) };
  const t0 = performance.now();
  try {
    await runEpoch(grid, 2, new Rng(1), (start, end) => pool.run(start === n / 2 ? { op: "abortProbe", args: [] } : task(start, end)));
    assert.unreachable("should fail");
  } catch (err) {
    assert.match((err as Error).message, /abort/i);
  } finally {
    await pool.destroy();
  }
  assert.ok(performance.now() - t0 < 5000);
  await assert.not.throws(() => pool.run(task(0, 1)).catch((e: Error) => assert.match(e.message, /abort/i)));
  engine.close();
});

test("a worker thread that dies mid-task rejects the run within a second", async () => {
  const { engine, n, task } = await bigProblem();
  const pool = EnginePool.create(engine, { threads: 1 });
  const running = pool.run(task(0, n)).then(() => "finished", (err: Error) => `failed: ${err.message}`);
  await new Promise((res) => setTimeout(res, 150));
  const killedAt = performance.now();
  await Promise.all(pool.workers.map((w) => w.terminate()));
  const outcome = await running;
  const waited = performance.now() - killedAt;
  await pool.destroy();
  engine.close();
  assert.ok(outcome.startsWith("failed"), outcome);
  assert.ok(waited < 1000, `rejected ${waited.toFixed(0)} ms after the worker died`);
});

test("Ctrl-C (an aborted signal) stops training between blocks with StopRequested", async () => {
  const ctl = new AbortController();
  let epochs = 0;
  try {
    await trainSgd(ds.users.length, ds.movies.length, dense, { ...settings, epochs: 50 }, {
      scale, onEpoch: () => { if (++epochs === 2) ctl.abort(); },
    }, { threads: 2, signal: ctl.signal });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, StopRequested);
  }
  assert.is(epochs, 2);
});

test("the planner refuses a problem that cannot fit 4 GiB before doing any work, saying what would fit", async () => {
  const huge = { user: new Int32Array(1), movie: new Int32Array(1), rating: new Float32Array(1) };
  const t0 = performance.now();
  try {
    // 480,189 users × 2,400 factors is 4.6 GB of user factors alone.
    await trainSgd(480_189, 17_770, huge, { ...settings, factors: 2400 }, { scale });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, DataError);
    assert.match((err as Error).message, /needs \d+\.\d+ GiB of engine memory .* allows 4 GiB/);
    assert.match((err as DataError).hint!, /fewer factors/);
  }
  assert.throws(() => planMemory(400_000_000, 480_189, 17_770, 100), (e: DataError) => /about 340,\d{3},\d{3} ratings fit/.test(e.hint!));
  assert.is(typeof planMemory(100_480_507, 480_189, 17_770, 100), "number", "the full Netflix set fits at k=100");
  assert.ok(performance.now() - t0 < 2000, "refused before any work");
});

test.run();
