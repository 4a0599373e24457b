import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  ABI_VERSION,
  AbiError,
  Engine,
  MAX_PAGES,
  PAGE_BYTES,
  WasmAbortError,
  createMemory,
  instantiate,
  loadModule,
  memoryPages,
} from "../../src/abi/index.js";

test("the module is compiled once and cached", async () => {
  const a = loadModule();
  const b = loadModule();
  assert.is(a, b);
  assert.instance(await a, WebAssembly.Module);
});

test("instances check the ABI version and report the heap base", async () => {
  const exports = instantiate(await loadModule(), createMemory(PAGE_BYTES));
  assert.is(exports.abiVersion(), ABI_VERSION);
  const base = exports.heapBase() >>> 0;
  assert.ok(base > 0 && base % 16 === 0, `heap base ${base}`);
});

test("memory sizes are whole pages; the maximum is never below the size and at most 4 GiB", () => {
  assert.equal(memoryPages(1), { initial: 1, maximum: 1 });
  assert.equal(memoryPages(PAGE_BYTES + 1), { initial: 2, maximum: 2 });
  assert.equal(memoryPages(PAGE_BYTES, 10 * PAGE_BYTES), { initial: 1, maximum: 10 });
  assert.equal(memoryPages(3 * PAGE_BYTES, PAGE_BYTES), { initial: 3, maximum: 3 });
  assert.equal(memoryPages(PAGE_BYTES, 2 ** 40), { initial: 1, maximum: MAX_PAGES });
  assert.throws(() => memoryPages(2 ** 33), (err: Error) => err instanceof AbiError && /does not fit in the 4 GiB/.test(err.message));
  assert.throws(() => memoryPages(-5), /byte count ≥ 0/);
  const memory = createMemory(PAGE_BYTES, 3 * PAGE_BYTES);
  assert.instance(memory.buffer, SharedArrayBuffer);
  memory.grow(2);
  assert.throws(() => memory.grow(1));
});

test("env.abort becomes a WasmAbortError with the message, file and line", async () => {
  for (const build of ["release", "debug"] as const) {
    const engine = await Engine.create({ build });
    try {
      engine.exports.abortProbe();
      assert.unreachable("abortProbe returned");
    } catch (err) {
      assert.instance(err, WasmAbortError);
      const abort = err as WasmAbortError;
      assert.is(abort.wasmMessage, "abort probe");
      assert.is(abort.file, "assembly/index.ts");
      assert.is(abort.line, 27);
      assert.match(abort.message, "abort probe (assembly/index.ts:27:3)");
    }
    // The instance stays usable after an abort.
    const a = engine.arena.copyIn(Float32Array.from([1, 1, 1, 1]));
    assert.is(engine.dot(a, a), 4);
  }
});

test.run();
