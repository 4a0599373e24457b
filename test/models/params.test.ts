import { test } from "uvu";
import * as assert from "uvu/assert";
import { DataError } from "../../src/data/types.js";
import { createModel } from "../../src/models/registry.js";

test("defaults fill in, per-term parameters inherit, overrides win", () => {
  const m = createModel("mf", { lr: "0.02", regQ: 0.5 });
  assert.is(m.params.lr, 0.02);
  assert.is(m.params.lrP, 0.02);
  assert.is(m.params.lrBu, 0.02);
  assert.is(m.params.regQ, 0.5);
  assert.is(m.params.regP, m.params.reg);
  assert.is(m.params.factors, 100);
});

test("bad values are refused naming the parameter and what is allowed", () => {
  const cases: [Record<string, string | number>, RegExp][] = [
    [{ factors: "ten" }, /factors must be a number/],
    [{ factors: 2.5 }, /factors must be a whole number/],
    [{ factors: 0 }, /factors must be ≥ 1/],
    [{ lr: 0 }, /lr must be > 0/],
    [{ decay: 1.5 }, /decay must be > 0 and ≤ 1/],
    [{ reg: "" }, /reg needs a number/],
    [{ wat: 1 }, /mf has no parameter "wat"/],
  ];
  for (const [params, msg] of cases) assert.throws(() => createModel("mf", params), (e: Error) => e instanceof DataError && msg.test(e.message), JSON.stringify(params));
  assert.throws(() => createModel("baseline", { method: "newton" }), /method must be one of als, sgd/);
});

test.run();
