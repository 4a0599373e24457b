import { test } from "uvu";
import * as assert from "uvu/assert";
import { IdIndex, IdMapBuilder, intKey, translate } from "../../src/data/ids.js";
import { Rng } from "../../src/data/rng.js";

test("dense indices follow first appearance; repeats get the same index", () => {
  const b = new IdMapBuilder();
  assert.equal([30, 10, 30, 20, 10, 0].map((id) => b.add(id)), [0, 1, 0, 2, 1, 3]);
  assert.is(b.size, 4);
  const ids = b.finish();
  assert.ok(ids instanceof Int32Array);
  assert.equal(Array.from(ids), [30, 10, 20, 0]);
});

test("huge, negative and sparse-then-direct ids agree with a Map reference", () => {
  const rng = new Rng(7);
  const b = new IdMapBuilder();
  const ref = new Map<number, number>();
  const order: number[] = [];
  const pick = (): number => {
    switch (rng.int(5)) {
      case 0:
        return rng.int(1000);
      case 1:
        return 5_000_000 + rng.int(1000); // beyond the always-direct range until many ids are known
      case 2:
        return 2_000_000_000 - rng.int(1000); // beyond the direct limit: Map path
      case 3:
        return -1 - rng.int(1000);
      default:
        return rng.int(400_000);
    }
  };
  for (let k = 0; k < 600_000; k++) {
    const id = pick();
    let expected = ref.get(id);
    if (expected === undefined) {
      expected = ref.size;
      ref.set(id, expected);
      order.push(id);
    }
    const got = b.add(id);
    if (got !== expected) assert.unreachable(`id ${id}: got ${got}, expected ${expected}`);
  }
  assert.equal(Array.from(b.finish() as Int32Array), order);
});

test("addAll maps a column in place exactly like add, one id at a time", () => {
  const rng = new Rng(3);
  const ids = Int32Array.from({ length: 50_000 }, () => (rng.int(2) === 0 ? rng.int(3000) : 10_000_000 + rng.int(3000)));
  const one = new IdMapBuilder();
  const expected = Array.from(ids, (id) => one.add(id));
  const all = new IdMapBuilder();
  const column = ids.slice();
  all.addAll(column, 0, 20_000);
  all.addAll(column, 20_000, column.length);
  assert.equal(Array.from(column), expected);
  assert.equal(Array.from(all.finish() as Int32Array), Array.from(one.finish() as Int32Array));
});

test("numeric strings are integer ids; other strings switch the table to strings, keeping order", () => {
  const b = new IdMapBuilder();
  assert.is(b.addKey("42"), 0);
  assert.is(b.add(42), 0);
  assert.is(b.addKey("0042"), 0);
  assert.is(b.addKey("7"), 1);
  assert.ok(b.finish() instanceof Int32Array);
  assert.is(b.addKey("alice"), 2);
  assert.is(b.add(7), 1);
  assert.is(b.addKey("42"), 0);
  assert.is(b.add(99), 3);
  assert.is(b.addKey("alice"), 2);
  assert.equal(b.finish(), ["42", "7", "alice", "99"]);
});

test("intKey accepts decimal int32 text only", () => {
  assert.is(intKey("123"), 123);
  assert.is(intKey("-5"), -5);
  assert.is(intKey("007"), 7);
  assert.is(intKey("2147483647"), 2147483647);
  assert.is(intKey("2147483648"), null);
  assert.is(intKey("1.5"), null);
  assert.is(intKey("1e3"), null);
  assert.is(intKey(""), null);
  assert.is(intKey("u1"), null);
});

test("IdIndex looks up numbers and numeric strings alike; unknown ids are -1", () => {
  const idx = new IdIndex(Int32Array.from([30, 10, 20]));
  assert.is(idx.size, 3);
  assert.is(idx.index(10), 1);
  assert.is(idx.index("20"), 2);
  assert.is(idx.index("020"), 2);
  assert.is(idx.index(11), -1);
  assert.is(idx.index(-3), -1);
  assert.is(idx.index(10.5), -1);
  assert.is(idx.index("ten"), -1);
  assert.is(idx.index(1e12), -1);
});

test("IdIndex over huge ids (Map path) and over string ids", () => {
  const big = new IdIndex(Int32Array.from([2_000_000_000, -7, 5]));
  assert.is(big.index(2_000_000_000), 0);
  assert.is(big.index("-7"), 1);
  assert.is(big.index(5), 2);
  assert.is(big.index(6), -1);
  const s = new IdIndex(["alice", "42", "bob"]);
  assert.is(s.index("bob"), 2);
  assert.is(s.index(42), 1);
  assert.is(s.index("0042"), 1);
  assert.is(s.index("carol"), -1);
});

test("translate maps dense indices between two tables", () => {
  const from = Int32Array.from([5, 6, 7, 8]);
  const to = new IdIndex(Int32Array.from([8, 5, 9]));
  assert.equal(Array.from(translate(from, to)), [1, -1, -1, 0]);
  assert.equal(Array.from(translate(["8", "x"], to)), [0, -1]);
  assert.equal(Array.from(translate(Int32Array.from([42]), new IdIndex(["a", "42"]))), [1]);
});

test.run();
