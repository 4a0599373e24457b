/**
 * The contract every model passes (run against every algorithm in the registry): unknown ids fall
 * back and say so; same seed → same result; every hyperparameter changes the result; save → load
 * gives identical predictions; recommend excludes seen movies.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { algorithmNames, createModel, loadModel } from "../../src/models/registry.js";
import { probeValue, type Params } from "../../src/models/params.js";
import { planted } from "./fixtures.js";

const { train, test: testSet } = planted();
const tmp = mkdtempSync(join(tmpdir(), "movierec-contract-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** Small settings so the suite stays quick; every value is still a valid, meaningful setting. */
const QUICK: Record<string, Params> = {
  mf: { epochs: 8, factors: 8 },
  svdpp: { epochs: 8, factors: 8 },
  timesvdpp: { epochs: 8, factors: 8 },
  baseline: {},
  blend: { bases: "baseline,mf:epochs=8:factors=8" },
  "gbdt-stack": { bases: "baseline,mf:epochs=8:factors=8", trees: 20, folds: 2 },
};

async function fitted(algo: string, params: Params = {}) {
  return createModel(algo, { ...QUICK[algo], ...params }).fit(train);
}

function preds(model: Awaited<ReturnType<typeof fitted>>): Float32Array {
  return model.predictDataset(testSet);
}

function differs(a: Float32Array, b: Float32Array): boolean {
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return true;
  return false;
}

for (const algo of algorithmNames()) {
  test(`${algo}: unknown users and movies fall back and say so`, async () => {
    const m = await fitted(algo);
    const known = m.predictOne(1000, 1000);
    assert.is(known.impossible, false);
    assert.is(known.reason, null);
    for (const [u, i, who] of [[999999, 1000, "user 999999"], [1000, 999999, "movie 999999"], [999999, 999998, "user 999999 and movie 999998"]] as const) {
      const e = m.predictOne(u, i);
      assert.is(e.impossible, true, `${u},${i}`);
      assert.ok(e.reason!.startsWith(who), e.reason!);
      assert.ok(e.est >= 1 && e.est <= 5 && Number.isFinite(e.est));
    }
    const [rec] = m.recommend([424242], { n: 5 });
    assert.is(rec!.fallback, true);
    assert.match(rec!.reason!, "user 424242");
    assert.is(rec!.movieIds.length, 5);
  });

  test(`${algo}: same seed, same result`, async () => {
    assert.not.ok(differs(preds(await fitted(algo)), preds(await fitted(algo))));
  });

  test(`${algo}: every hyperparameter changes the result`, async () => {
    const specs = createModel(algo).spec().params;
    for (const s of specs) {
      // Put the model in a setting where this parameter is used (e.g. lr needs method=sgd).
      const base: Params = { ...QUICK[algo] };
      if (s.when) base[s.when.param] = s.when.values[0]!;
      const ref = createModel(algo, base);
      const changed = { ...base, [s.name]: probeValue(s, ref.params[s.name]!) };
      const a = preds(await ref.fit(train));
      const b = preds(await createModel(algo, changed).fit(train));
      assert.ok(differs(a, b), `${algo}: changing ${s.name} from ${ref.params[s.name]} to ${changed[s.name]} changed nothing`);
    }
  });

  test(`${algo}: save → load gives identical predictions and recommendations`, async () => {
    const m = await fitted(algo);
    const path = join(tmp, `${algo}.model`);
    await m.save(path);
    const back = await loadModel(path);
    assert.is(back.algo, algo);
    assert.equal(back.params, m.params);
    assert.not.ok(differs(preds(m), preds(back)));
    const users = [1000, 1001, 1100, 999999];
    assert.equal(back.recommend(users, { n: 7 }), m.recommend(users, { n: 7 }));
    assert.equal(back.predictOne(999999, 1003), m.predictOne(999999, 1003));
  });

  test(`${algo}: recommend excludes seen movies unless asked not to`, async () => {
    const m = await fitted(algo);
    for (const userId of [1000, 1050, 1299]) {
      const u = m.userIndexOf(userId);
      const seen = new Set(Array.from(m.seenBy(u), (i) => m.rawMovieId(i)));
      assert.ok(seen.size > 0);
      const [rec] = m.recommend([userId], { n: 20 });
      assert.is(rec!.movieIds.length, 20);
      for (const id of rec!.movieIds) assert.not.ok(seen.has(id), `user ${userId} already rated ${id}`);
      for (let k = 1; k < rec!.scores.length; k++) assert.ok(rec!.scores[k - 1]! >= rec!.scores[k]!, "sorted best first");
      const [all] = m.recommend([userId], { n: m.nMovies, excludeSeen: false });
      assert.is(all!.movieIds.length, m.nMovies);
    }
  });
}

test.run();
