import { test } from "uvu";
import * as assert from "uvu/assert";
import { AbiError, Arena, Engine, PAGE_BYTES, createMemory } from "../../src/abi/index.js";

const BASE = 1024;

function arena(pages: number, maximumPages = pages, owner = true): Arena {
  const memory = createMemory(pages * PAGE_BYTES, maximumPages * PAGE_BYTES);
  return new Arena(memory, BASE, maximumPages * PAGE_BYTES, owner);
}

function throwsAbi(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, AbiError);
    assert.match((err as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected an AbiError matching ${pattern}`);
}

test("allocations start at the base, are 16-byte aligned and do not overlap", () => {
  const a = arena(1);
  const p1 = a.alloc(3);
  const p2 = a.alloc(20);
  const p3 = a.alloc(0);
  const p4 = a.alloc(16);
  assert.equal([p1, p2, p3, p4], [BASE, BASE + 16, BASE + 48, BASE + 48]);
  assert.is(a.used, 64);
  const r = a.array("f64", 3);
  assert.is(r.ptr % 16, 0);
  assert.equal(r, { ptr: BASE + 64, length: 3, dtype: "f64" });
});

test("copyIn / view / copyOut / zeros round-trip, and copies are independent of the memory", () => {
  const a = arena(1);
  const src = Int32Array.from([5, -6, 7]);
  const region = a.copyIn(src);
  assert.is(region.dtype, "i32");
  assert.equal(Array.from(a.view(region)), [5, -6, 7]);
  const copy = a.copyOut(region);
  a.view(region).fill(0);
  assert.equal(Array.from(copy), [5, -6, 7], "the copy is not a view");
  assert.equal(Array.from(a.view(region)), [0, 0, 0]);
  const z = a.zeros("f32", 4);
  a.view(z).fill(9);
  const mark = a.mark();
  a.reset(mark);
  const again = a.zeros("u8", 5);
  assert.equal(Array.from(a.view(again)), [0, 0, 0, 0, 0]);
  assert.equal(Array.from(a.u8(region.ptr, 4)), [0, 0, 0, 0]);
});

test("mark / reset frees everything allocated after the mark, and only that", () => {
  const a = arena(1);
  a.alloc(100);
  const mark = a.mark();
  const p = a.alloc(1000);
  a.reset(mark);
  assert.is(a.alloc(8), p, "space is reused after reset");
  throwsAbi(() => a.reset(mark + 5000), /not a mark of this arena/);
  throwsAbi(() => a.reset(BASE - 16), /not a mark of this arena/);
});

test("the memory grows only when an allocation needs it; fresh views see the new size", () => {
  const a = arena(1, 8);
  assert.is(a.memory.buffer.byteLength, PAGE_BYTES);
  a.alloc(1000);
  assert.is(a.memory.buffer.byteLength, PAGE_BYTES, "no grow while it fits");
  const big = a.array("f32", 3 * PAGE_BYTES / 4);
  assert.is(a.memory.buffer.byteLength, 4 * PAGE_BYTES);
  const view = a.view(big);
  view[view.length - 1] = 42;
  assert.is(a.f32(big.ptr, big.length)[big.length - 1], 42);
});

test("no growth while a task runs; a clear message when the maximum or 4 GiB would be exceeded", () => {
  const a = arena(1, 4);
  a.beginTask();
  throwsAbi(() => a.alloc(2 * PAGE_BYTES), /cannot grow the memory while 1 task\(s\) run/);
  a.endTask();
  throwsAbi(() => a.endTask(), /without a matching beginTask/);
  a.alloc(2 * PAGE_BYTES);
  throwsAbi(() => a.alloc(3 * PAGE_BYTES),
    /cannot allocate 192\.0 KiB: with 128\.0 KiB in use, at most 127\.0 KiB more would fit below the memory's maximum of 256\.0 KiB/);
  throwsAbi(() => a.alloc(5 * 2 ** 30), /cannot allocate 5\.00 GiB: .* at most 4\.00 GiB more would fit in the 4 GiB a wasm32 memory/);
  throwsAbi(() => a.alloc(-1), /whole number of bytes/);
});

test("a non-owner arena (a worker's) makes views but never allocates", () => {
  const owner = arena(1);
  const region = owner.copyIn(Float32Array.from([1.5, 2.5]));
  const worker = new Arena(owner.memory, BASE, PAGE_BYTES, false);
  assert.equal(Array.from(worker.view(region)), [1.5, 2.5]);
  throwsAbi(() => worker.alloc(16), /only the thread that created the memory allocates/);
});

test("views are checked: alignment and bounds", () => {
  const a = arena(1);
  throwsAbi(() => a.f32(2, 1), /aligned to 4/);
  throwsAbi(() => a.f64(PAGE_BYTES - 8, 2), /does not fit in the 64\.0 KiB memory/);
});

test("regions above 2 GiB work end to end (offsets are arithmetic, never bit operations)", async () => {
  // Untouched pages cost no physical memory: only the few bytes written below are faulted in.
  const engine = await Engine.create({ bytes: 2 ** 31 + 4 * PAGE_BYTES });
  engine.arena.alloc(2 ** 31 - engine.arena.top);
  const a = engine.arena.copyIn(Float32Array.from([1, 2, 3, 4]));
  const b = engine.arena.copyIn(Float32Array.from([5, 6, 7, 8]));
  assert.ok(a.ptr >= 2 ** 31, `region at ${a.ptr}`);
  assert.is(engine.dot(a, b), 70);
  engine.axpy(2, a, b);
  assert.equal(Array.from(engine.arena.view(b)), [7, 10, 13, 16]);
});

test.run();
