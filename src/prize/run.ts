/**
 * The Netflix Prize protocol, end to end and resumable (`movierec prize`).
 *
 *   ingest       the folder's training ratings (probe included) → <out>/dataset; probe.txt and
 *                qualifying.txt are checked against them before anything is kept
 *   probe-train  the probe ratings are taken out of training (matched by customer and movie), the
 *                model is trained on the rest and scored on the probe → <out>/probe.model, probe.json
 *   full-train   the model is trained again on all training ratings, probe included, and predicts
 *                qualifying.txt → <out>/full.model, qualifying-predictions.txt, result.json
 *
 * Each stage ends with a marker (see state.ts); running the same command again continues at the
 * first unfinished stage, and an out folder made from other inputs or settings is refused.
 */
import { resolve } from "node:path";
import { readDataset, writeDataset } from "../data/dataset.js";
import { loadRatings } from "../data/ingest.js";
import { noiseFloor } from "../data/planted.js";
import { DataError, type Dataset } from "../data/types.js";
import { evaluateModel } from "../eval/evaluate.js";
import type { Model } from "../models/model.js";
import type { Params } from "../models/params.js";
import { createModel } from "../models/registry.js";
import { fingerprint, fingerprintChanges, locatePrizeFolder, type FolderFingerprint, type PrizeFolder } from "./folder.js";
import { describeSpec, prizeModelSpec, specChanges, type ModelSpec } from "./models.js";
import { probeRatings, readProbe, readQualifying, withoutProbe } from "./queries.js";
import { standing, type PrizeStanding } from "./reference.js";
import { readJson, RunFolder, writeFileAtomic, type RunState, type StageMarker } from "./state.js";
import { writeSubmission } from "./submission.js";

export const PRIZE_STAGES = ["ingest", "probe-train", "full-train"] as const;
export type PrizeStage = (typeof PRIZE_STAGES)[number];

/** Files of the out folder. */
export const PRIZE_OUT = {
  dataset: "dataset",
  probeModel: "probe.model",
  probe: "probe.json",
  fullModel: "full.model",
  predictions: "qualifying-predictions.txt",
  result: "result.json",
} as const;

/** Fits a model on a training set; `label` names the stage and the model ("probe mf"). */
export type FitFn = (model: Model, train: Dataset, label: string) => Promise<void>;

export interface PrizeEvents {
  /** A stage starts, ends, or is skipped because an earlier run finished it (`marker` then says when). */
  stage?(stage: PrizeStage, status: "start" | "done" | "skip", marker?: StageMarker): void;
  /** Work inside a stage: `task` ("ingest", "predict"), `done` of `total` in `unit`. */
  progress?(task: string, done: number, total: number, unit: string): void;
  /** A line for people (counts, what was removed). */
  note?(text: string): void;
  /** Fits the model (default: plain `model.fit`); the CLI draws an epoch bar. */
  fit?: FitFn;
}

export interface PrizeOptions {
  /** The Netflix Prize folder (see folder.ts). */
  folder: string;
  out: string;
  /** A registered algorithm (default mf), or `blend` with the models to blend. */
  algo?: string;
  blend?: string[];
  /** Hyperparameters by name (see prizeModelSpec for how they reach a blend's models). */
  params?: Params;
  /** Start over in an out folder made by an earlier run with other inputs or settings. */
  force?: boolean;
  events?: PrizeEvents;
}

/** What the registry's blend model reports about its fit. */
export interface BlendWeights {
  intercept: number;
  bases: { algo: string; params: Params; weight: number }[];
}

/** probe.json: the model's probe RMSE beside the Prize's reference points. */
export interface ProbeReport extends PrizeStanding {
  model: string;
  rmse: number;
  mae: number;
  n: number;
  /** Ratings trained on: the training set without the probe. */
  trainRatings: number;
  fitSeconds: number;
  /** A blend's fitted intercept and weights; null for other models. */
  blend: BlendWeights | null;
  /** Generated data only: the planted model's RMSE on the probe, the floor no model beats on average. */
  noiseFloorRmse: number | null;
}

/** result.json, also what `movierec prize --json` prints. */
export interface PrizeResult {
  format: "movierec-prize-result";
  version: 1;
  folder: string;
  out: string;
  spec: ModelSpec;
  data: { trainingRatings: number; users: number; movies: number; probe: number; qualifying: number };
  probe: ProbeReport;
  qualifying: { n: number; predictions: string; fitSeconds: number; meanPrediction: number };
  stages: Record<PrizeStage, StageMarker>;
  /** Stages the run that wrote this result found already finished by an earlier run. */
  resumed: PrizeStage[];
}

type State = RunState<FolderFingerprint, ModelSpec>;
const STATE_FORMAT = "movierec-prize-run";

/** Runs (or resumes) the Prize protocol; returns the result also written to <out>/result.json. */
export async function runPrize(opts: PrizeOptions): Promise<PrizeResult> {
  const ev = opts.events ?? {};
  const spec = prizeModelSpec(opts);
  const folder = locatePrizeFolder(opts.folder);
  const state: State = { format: STATE_FORMAT, version: 1, inputs: fingerprint(folder), settings: spec, createdAt: new Date().toISOString() };
  const run = await RunFolder.open(opts.out, PRIZE_STAGES, state, {
    force: opts.force ?? false,
    command: "movierec prize",
    describeChanges: (was, now) => [...fingerprintChanges(was.inputs, now.inputs), ...specChanges(was.settings, now.settings)],
  });
  const resumed = run.finished() as PrizeStage[];
  const ctx: StageContext = { run, folder, spec, ev, fit: ev.fit ?? plainFit };
  const stages = {} as Record<PrizeStage, StageMarker>;
  for (const stage of PRIZE_STAGES) {
    const earlier = run.marker(stage);
    if (earlier) {
      ev.stage?.(stage, "skip", earlier);
      stages[stage] = earlier;
      continue;
    }
    await run.reopenFrom(stage);
    ev.stage?.(stage, "start");
    const t0 = performance.now();
    await STAGE_RUNNERS[stage](ctx, { stages, resumed, t0 });
    stages[stage] = await run.markDone(stage, (performance.now() - t0) / 1000);
    ev.stage?.(stage, "done", stages[stage]);
  }
  return readJson<PrizeResult>(run.path(PRIZE_OUT.result));
}

interface StageContext {
  run: RunFolder<FolderFingerprint, ModelSpec>;
  folder: PrizeFolder;
  spec: ModelSpec;
  ev: PrizeEvents;
  fit: FitFn;
}

/** What the last stage puts in result.json: the earlier stages' markers, and when this one started. */
interface RunSoFar {
  stages: Record<PrizeStage, StageMarker>;
  resumed: PrizeStage[];
  t0: number;
}

const STAGE_RUNNERS: Record<PrizeStage, (ctx: StageContext, soFar: RunSoFar) => Promise<void>> = {
  ingest: ingestStage,
  "probe-train": probeStage,
  "full-train": fullStage,
};

const plainFit: FitFn = async (model, train) => {
  await model.fit(train);
};

async function ingestStage({ run, folder, ev }: StageContext): Promise<void> {
  const ds = await loadRatings(folder.dir, { onProgress: (done, total) => ev.progress?.("ingest", done, total, "bytes") });
  const expected = [...folder.training, ...(folder.titles ? [folder.titles] : [])];
  const read = ds.meta.sources.map((s) => s.path);
  if (read.length !== expected.length || read.some((p, k) => resolve(p) !== resolve(expected[k]!))) {
    throw new DataError(`${folder.dir}: the files read (${read.length}) are not the Prize folder's training files and titles (${expected.length})`);
  }
  // Both query files are checked now, so a bad one is refused before anything is kept.
  const probe = await readProbe(folder.probe, ds);
  const qualifying = await readQualifying(folder.qualifying, ds);
  ev.note?.(
    `${count(ds.meta.nRatings)} training ratings (${count(ds.meta.nUsers)} users, ${count(ds.meta.nMovies)} movies); ` +
      `probe ${count(probe.u.length)} rows, qualifying ${count(qualifying.u.length)} rows`,
  );
  await writeDataset(run.path(PRIZE_OUT.dataset), ds, { force: true });
}

async function probeStage({ run, folder, spec, ev, fit }: StageContext): Promise<void> {
  const ds = await readDataset(run.path(PRIZE_OUT.dataset));
  const probe = await readProbe(folder.probe, ds);
  const train = withoutProbe(ds, probe);
  const test = probeRatings(ds, probe);
  ev.note?.(`removed ${count(test.meta.nRatings)} probe ratings from ${count(ds.meta.nRatings)} training ratings: training on ${count(train.meta.nRatings)}`);
  const { model, seconds } = await fitSpec(spec, train, "probe", fit);
  const s = evaluateModel(model, test);
  const report: ProbeReport = {
    model: describeSpec(spec),
    rmse: s.rmse,
    mae: s.mae,
    n: s.n,
    ...standing(s.rmse),
    trainRatings: train.meta.nRatings,
    fitSeconds: round(seconds, 3),
    blend: blendWeights(model),
    noiseFloorRmse: noiseFloor(test),
  };
  await model.save(run.path(PRIZE_OUT.probeModel));
  await writeFileAtomic(run.path(PRIZE_OUT.probe), JSON.stringify(report, null, 2) + "\n");
}

async function fullStage({ run, folder, spec, ev, fit }: StageContext, { stages, resumed, t0 }: RunSoFar): Promise<void> {
  const ds = await readDataset(run.path(PRIZE_OUT.dataset));
  const qualifying = await readQualifying(folder.qualifying, ds);
  const probe = readJson<ProbeReport>(run.path(PRIZE_OUT.probe));
  const { model, seconds } = await fitSpec(spec, ds, "full", fit);
  const pred = new Float32Array(qualifying.u.length);
  model.predictDense(qualifying.u, qualifying.i, pred);
  await model.save(run.path(PRIZE_OUT.fullModel));
  await writeSubmission(run.path(PRIZE_OUT.predictions), qualifying.movieIds, pred, (done, total) => ev.progress?.("predict", done, total, "rows"));
  const result: PrizeResult = {
    format: "movierec-prize-result",
    version: 1,
    folder: resolve(folder.dir),
    out: resolve(run.dir),
    spec,
    data: { trainingRatings: ds.meta.nRatings, users: ds.meta.nUsers, movies: ds.meta.nMovies, probe: probe.n, qualifying: qualifying.u.length },
    probe,
    qualifying: { n: pred.length, predictions: PRIZE_OUT.predictions, fitSeconds: round(seconds, 3), meanPrediction: round(mean(pred), 4) },
    // This stage's marker is written once result.json is in place; until then, its time so far.
    stages: { ...stages, "full-train": { stage: "full-train", finishedAt: new Date().toISOString(), seconds: round((performance.now() - t0) / 1000, 3) } },
    resumed,
  };
  await writeFileAtomic(run.path(PRIZE_OUT.result), JSON.stringify(result, null, 2) + "\n");
}

/**
 * A fresh model of `spec` fitted on `train`. Every training set here shares the ingested
 * dataset's id tables, so the model's dense indices are the queries' dense indices.
 */
async function fitSpec(spec: ModelSpec, train: Dataset, stage: string, fit: FitFn): Promise<{ model: Model; seconds: number }> {
  const t0 = performance.now();
  const model = createModel(spec.algo, spec.params);
  await fit(model, train, `${stage} ${spec.algo}`);
  return { model, seconds: (performance.now() - t0) / 1000 };
}

/** The fitted weights of a blend model (it reports them as `weights`), or null. */
function blendWeights(model: Model): BlendWeights | null {
  const w = (model as Model & { weights?: BlendWeights }).weights;
  return w && typeof w.intercept === "number" && Array.isArray(w.bases) ? w : null;
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}

function mean(a: Float32Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k]!;
  return a.length ? s / a.length : NaN;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
