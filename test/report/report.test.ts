/**
 * The data report: every chart is an inline SVG with marks, and the numbers on the page agree
 * with the dataset (recomputed here the plain way); the page is self-contained; inputs are
 * checked. The browser's view of the same page is in chromium.test.ts.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { recordingIO } from "../../src/cli/io.js";
import { execute } from "../../src/cli/program.js";
import { makeDataset } from "../../src/data/dataset.js";
import { DataError, ParseError, type Dataset } from "../../src/data/types.js";
import { parseComparison } from "../../src/report/compare.js";
import { buildReport, writeReport } from "../../src/report/report.js";
import { computeStats } from "../../src/report/stats.js";
import { ALL_CHARTS, makeReportFixture } from "./fixture.js";

const fx = await makeReportFixture("report");
test.after(() => fx.remove());

const out = join(fx.dir, "report.html");
const warnings: string[] = [];
const result = await writeReport(out, {
  dataset: fx.datasetDir,
  split: fx.splitDir,
  compare: fx.compareFile,
  onWarning: (w) => warnings.push(w),
});
const html = readFileSync(out, "utf8");
const fmt = (x: number) => x.toLocaleString("en-US");

/** The inline SVG of a chart's figure. */
function chartSvg(id: string): string {
  const m = new RegExp(`<figure class="chart" id="${id}" data-chart="${id}">([\\s\\S]*?)</figure>`).exec(html);
  assert.ok(m, `figure ${id} present`);
  const svgs = m![1]!.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
  assert.is(svgs.length, 1, `${id}: one inline <svg>`);
  return svgs[0]!;
}

/** The rendered text labels of an SVG. */
const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);

/** Table rows (cell texts) of the table with data-table="id". */
function tableRows(id: string): string[][] {
  const m = new RegExp(`<table class="data" data-table="${id}">([\\s\\S]*?)</table>`).exec(html);
  assert.ok(m, `table ${id} present`);
  return [...m![1]!.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) => [...r[1]!.matchAll(/<t[dh][^>]*>([^<]*)<\/t[dh]>/g)].map((c) => c[1]!));
}

test("the report holds every chart as inline SVG with marks, and no vega warnings", () => {
  assert.equal(result.charts, ALL_CHARTS);
  assert.equal(warnings, []);
  const marksOf: Record<string, string[]> = {
    "rating-distribution": ["rect", "text"],
    "ratings-per-month": ["rect"],
    "ratings-per-weekday": ["rect", "text"],
    "ratings-per-user": ["line", "symbol", "rule"],
    "ratings-per-movie": ["line", "symbol", "rule"],
    "average-ratings": ["rect", "rule"],
    "cold-start": ["rect", "text"],
    "model-comparison": ["symbol", "text"],
  };
  for (const id of ALL_CHARTS) {
    const svg = chartSvg(id);
    assert.match(svg, /^<svg [^>]*width="\d+" height="\d+"/, `${id}: sized svg`);
    for (const mark of marksOf[id]!) {
      const group = new RegExp(`<g class="mark-${mark} role-mark[^"]*"[^>]*>([\\s\\S]*?)</g>`).exec(svg);
      assert.ok(group, `${id}: has ${mark} marks`);
      assert.match(group![1]!, /<(path|line|text)\b/, `${id}: ${mark} marks drawn`);
    }
  }
});

test("the page is self-contained: no scripts, no external URLs, only in-page links", () => {
  assert.not.match(html, /<script/i);
  assert.not.match(html, /\bsrc=/i);
  assert.not.match(html, /url\(/i);
  const hrefs = [...html.matchAll(/\bhref="([^"]*)"/g)].map((m) => m[1]!);
  assert.ok(hrefs.length > 0);
  for (const h of hrefs) assert.ok(h.startsWith("#"), `in-page link: ${h}`);
  assert.ok(result.bytes === Buffer.byteLength(html));
  assert.equal(readdirSync(fx.dir).filter((f) => f.includes(".tmp-")), [], "no temporary file left");
});

test("summary numbers and the rating distribution match the dataset", () => {
  const r = fx.ds.ratings;
  const stat = (key: string) => new RegExp(`<tr data-stat="${key}"><th>[^<]*</th><td>([^<]*)</td></tr>`).exec(html)?.[1];
  assert.is(stat("ratings"), fmt(r.user.length));
  assert.is(stat("users"), fmt(new Set(r.user).size));
  assert.is(stat("movies"), fmt(new Set(r.movie).size));
  const mean = r.rating.reduce((s, v) => s + v, 0) / r.user.length;
  assert.is(stat("mean"), mean.toFixed(4));
  const days = [...r.day].sort((a, b) => a - b);
  const iso = (d: number) => new Date(d * 86_400_000).toISOString().slice(0, 10);
  assert.is(stat("dates"), `${iso(days[0]!)} to ${iso(days[days.length - 1]!)}`);

  const perValue = new Map<number, number>();
  for (const v of r.rating) perValue.set(v, (perValue.get(v) ?? 0) + 1);
  const labels = texts(chartSvg("rating-distribution"));
  for (const [value, count] of perValue) {
    assert.ok(labels.includes(fmt(count)), `bar label ${fmt(count)} for rating ${value}`);
    assert.ok(labels.includes(String(value)), `axis label ${value}`);
  }
});

test("weekday shares, per-user quantiles and sparsity match the dataset", () => {
  const r = fx.ds.ratings;
  const perWeekday = new Array(7).fill(0);
  for (const d of r.day) perWeekday[new Date(d * 86_400_000).getUTCDay()]++;
  const labels = texts(chartSvg("ratings-per-weekday"));
  for (const c of perWeekday) assert.ok(labels.includes(`${((c / r.user.length) * 100).toFixed(1)}%`), `weekday share ${c}`);

  const perUser = new Map<number, number>();
  for (const u of r.user) perUser.set(u, (perUser.get(u) ?? 0) + 1);
  const counts = [...perUser.values()].sort((a, b) => a - b);
  const [users] = tableRows("count-quantiles").slice(1);
  assert.is(users![0], "user");
  assert.is(users![1], fmt(counts.length));
  assert.is(users![2], fmt(counts[0]!), "min");
  assert.is(users![5], fmt(counts[Math.ceil(0.5 * counts.length) - 1]!), "median");
  assert.is(users![9], fmt(counts[counts.length - 1]!), "max");

  const density = r.user.length / (perUser.size * new Set(r.movie).size);
  assert.match(html, `<p class="big" data-stat="sparsity">${((1 - density) * 100).toPrecision(4)}% empty</p>`);
});

test("cold start: test users and movies grouped by their train ratings", () => {
  const { train, test: testPart } = fx.part;
  const group = (n: number) => (n === 0 ? 0 : n < 5 ? 1 : n < 20 ? 2 : 3);
  const expected = [0, 1, 2, 3].map(() => [0, 0, 0, 0]);
  for (const [col, off] of [["user", 0], ["movie", 2]] as const) {
    const inTrain = new Map<number, number>();
    for (const x of train.ratings[col]) inTrain.set(x, (inTrain.get(x) ?? 0) + 1);
    const inTest = new Map<number, number>();
    for (const x of testPart.ratings[col]) inTest.set(x, (inTest.get(x) ?? 0) + 1);
    for (const [x, k] of inTest) {
      const g = expected[group(inTrain.get(x) ?? 0)]!;
      g[off]! += 1;
      g[off + 1]! += k;
    }
  }
  const rows = tableRows("cold-start").slice(1);
  assert.equal(rows.map((row) => row[0]), ["0", "1–4", "5–19", "20+"]);
  assert.equal(rows.map((row) => row.slice(1)), expected.map((g) => g.map(fmt)));
  assert.ok(expected[0]![0]! > 0, "the temporal split has new users in test");
  const labels = texts(chartSvg("cold-start"));
  for (const g of expected) assert.ok(labels.includes(fmt(g[0]!)), `bar label ${g[0]}`);
});

test("model comparison: every result shape read, same-algorithm rows told apart, sorted by RMSE", () => {
  const rows = tableRows("model-comparison").slice(1);
  assert.equal(
    rows.map((row) => [row[0], row[1]]),
    [
      ["mf (factors 100)", "0.9121"],
      ["mf (factors 50)", "0.9185"],
      ["baseline", "0.9441"],
      ["global-mean", "1.1257"],
    ],
  );
  const labels = texts(chartSvg("model-comparison"));
  for (const l of ["mf (factors 100)", "baseline", "global-mean", "0.9121", "1.1257", "0.7181", "RMSE", "MAE"]) assert.ok(labels.includes(l), l);
});

test("parseComparison: cv / evaluate JSON, arrays, {rows}, NDJSON; clear errors", () => {
  const cv = JSON.stringify({ algo: "mf", params: {}, folds: [{ name: "u1", rmse: 0.9, mae: 0.7, mape: 28 }], mean: { rmse: 0.91, mae: 0.72, mape: 28.5 } });
  assert.equal(parseComparison(cv, "cv.json"), [{ label: "mf", algo: "mf", rmse: 0.91, mae: 0.72, mape: 28.5, n: null }]);
  const arr = parseComparison(JSON.stringify([{ algo: "a", rmse: 1 }, { algo: "a", rmse: 2 }]), "a.json");
  assert.equal(arr.map((r) => r.label), ["a #1", "a #2"]);
  assert.equal(parseComparison('{"rows":[{"algo":"svdpp","rmse":0.9,"mae":null}]}', "t.json")[0], { label: "svdpp", algo: "svdpp", rmse: 0.9, mae: null, mape: null, n: null });
  const nd = parseComparison('{"algo":"x","rmse":1.5}\n\n{"algo":"y","rmse":1.2}\n', "r.ndjson");
  assert.equal(nd.map((r) => r.algo), ["x", "y"]);
  try {
    parseComparison('{"algo":"x","rmse":1}\n{oops\n', "bad.ndjson");
    assert.unreachable();
  } catch (err) {
    assert.ok(err instanceof ParseError);
    assert.match((err as Error).message, /^bad\.ndjson:2: not JSON/);
  }
  for (const text of ["[]", '{"algo":"x"}', '{"rmse":0.9}', '{"algo":"x","rmse":"0.9"}']) {
    try {
      parseComparison(text, "none.json");
      assert.unreachable(text);
    } catch (err) {
      assert.ok(err instanceof DataError, text);
      assert.match((err as Error).message, "holds no model results");
    }
  }
});

test("a dataset without dates, on a half-star scale with string ids: no time charts, a bar per half star", async () => {
  const n = 400;
  const ds: Dataset = makeDataset({
    ratings: {
      user: Int32Array.from({ length: n }, (_, k) => k % 40),
      movie: Int32Array.from({ length: n }, (_, k) => (k * 7) % 30),
      rating: Float32Array.from({ length: n }, (_, k) => 0.5 + (k % 10) * 0.5),
      day: new Int32Array(n),
    },
    users: Array.from({ length: 40 }, (_, u) => `u${u}`),
    movies: Array.from({ length: 30 }, (_, i) => `m${i}`),
    source: "csv",
    sources: [],
    ratingScale: { min: 0.5, max: 5 },
  });
  const stats = computeStats(ds);
  assert.is(stats.time, null);
  assert.equal(stats.ratingHistogram.map((b) => b.label), ["0.5", "1", "1.5", "2", "2.5", "3", "3.5", "4", "4.5", "5"]);
  assert.ok(stats.ratingHistogram.every((b) => b.count === 40));
  const warned: string[] = [];
  const { html: page, charts } = await buildReport({ dataset: ds, name: "<half & stars>", onWarning: (w) => warned.push(w) });
  assert.equal(charts, ["rating-distribution", "ratings-per-user", "ratings-per-movie", "average-ratings"]);
  assert.equal(warned, []);
  assert.match(page, "This dataset has no dates");
  assert.match(page, "<title>Data report: &lt;half &amp; stars&gt;</title>");
});

test("an empty dataset is refused with a clear message", async () => {
  const empty = makeDataset({
    ratings: { user: new Int32Array(0), movie: new Int32Array(0), rating: new Float32Array(0), day: new Int32Array(0) },
    users: Int32Array.from([1]),
    movies: Int32Array.from([1]),
    source: "csv",
    sources: [],
    ratingScale: { min: 1, max: 5 },
  });
  try {
    await buildReport({ dataset: empty, name: "empty" });
    assert.unreachable();
  } catch (err) {
    assert.ok(err instanceof DataError);
    assert.match((err as Error).message, "empty has no ratings");
  }
});

test("CLI: movierec report writes the page; bad inputs exit 2 with a message and write nothing", async () => {
  const run = async (...argv: string[]) => {
    const io = recordingIO();
    return { code: await execute(argv, io), out: io.stdout, err: io.stderr };
  };
  const page = join(fx.dir, "cli.html");
  const ok = await run("report", fx.datasetDir, "--out", page);
  assert.is(ok.code, 0, ok.err);
  assert.match(ok.out, `wrote ${page}: 6 charts`);
  assert.match(ok.err, "report: rendering");
  const again = await run("report", fx.datasetDir, "--out", page);
  assert.is(again.code, 2);
  assert.match(again.err, "already exists");
  const noOut = await run("report", fx.datasetDir);
  assert.is(noOut.code, 2);
  assert.match(noOut.err, "--out");
  const bad = join(fx.dir, "bad.json");
  writeFileSync(bad, '{"hello":1}');
  const target = join(fx.dir, "never.html");
  for (const [flag, value, message] of [
    ["--compare", bad, "holds no model results"],
    ["--compare", join(fx.dir, "missing.json"), "cannot read"],
    ["--split", fx.datasetDir, "is not a split folder"],
  ] as const) {
    const r = await run("report", fx.datasetDir, flag, value, "--out", target);
    assert.is(r.code, 2, `${flag} ${value}`);
    assert.match(r.err, message);
  }
  const noDataset = await run("report", join(fx.dir, "nope"), "--out", target);
  assert.is(noDataset.code, 2);
  assert.match(noDataset.err, "is not a dataset folder");
  assert.not.ok(existsSync(target));
});

test.run();
