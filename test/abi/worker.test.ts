import { test } from "uvu";
import * as assert from "uvu/assert";
import { threadId } from "node:worker_threads";
import { Piscina } from "piscina";
import { Engine, type FactorModel, type SgdParams } from "../../src/abi/index.js";
import { Rng } from "../../src/data/rng.js";

test("a worker thread runs sgdEpoch on the shared memory; the main thread reads bit-identical factors", async () => {
  const engine = await Engine.create({ bytes: 8 << 20 });
  const { arena } = engine;
  const rng = new Rng(42);
  const nUsers = 300, nMovies = 200, n = 20_000, stride = 16;
  const coo = {
    user: arena.copyIn(Int32Array.from({ length: n }, () => rng.int(nUsers))),
    movie: arena.copyIn(Int32Array.from({ length: n }, () => rng.int(nMovies))),
    rating: arena.copyIn(Float32Array.from({ length: n }, () => 1 + rng.int(5))),
  };
  const P = Float32Array.from({ length: nUsers * stride }, () => 0.1 * rng.normal());
  const Q = Float32Array.from({ length: nMovies * stride }, () => 0.1 * rng.normal());
  const model = (): FactorModel => ({
    nUsers, nMovies, stride,
    P: arena.copyIn(P), Q: arena.copyIn(Q), bu: arena.zeros("f32", nUsers), bi: arena.zeros("f32", nMovies),
  });
  const params: SgdParams = {
    mu: 3, lrBu: 0.005, lrBi: 0.005, lrP: 0.01, lrQ: 0.01, regBu: 0.02, regBi: 0.02, regP: 0.05, regQ: 0.05,
  };
  const onMain = model();
  const onWorker = model();

  const pool = new Piscina({
    filename: new URL("./worker-kernel.js", import.meta.url).href,
    workerData: engine.share(),
    minThreads: 1,
    maxThreads: 1,
  });
  try {
    arena.beginTask();
    const result = (await pool.run({ coo, model: onWorker, params, epochs: 3 })) as { sse: number; threadId: number };
    arena.endTask();
    let sse = 0;
    for (let epoch = 0; epoch < 3; epoch++) sse = engine.sgdEpoch(coo, onMain, params);

    assert.is.not(result.threadId, threadId, "the kernel ran in another thread");
    assert.is(result.sse, sse);
    for (const key of ["P", "Q", "bu", "bi"] as const) {
      const main = arena.u32(onMain[key].ptr, onMain[key].length);
      const worker = arena.u32(onWorker[key].ptr, onWorker[key].length);
      assert.equal(worker, main, `${key} differs`);
    }
    assert.is.not(arena.view(onWorker.P)[0], P[0], "the worker's updates are visible");
  } finally {
    await pool.destroy();
  }
});

test.run();
