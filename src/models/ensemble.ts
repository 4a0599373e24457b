/**
 * Base models inside a combining model (`blend`, `gbdt-stack`): the `bases` list, fitting and
 * predicting them, the held-out parts a combination is fitted on, support counts, and the
 * CombiningModel class that nests the fitted base models in the combining model's file.
 *
 * A `bases` list names registered algorithms, comma-separated, each with optional parameters
 * after colons: "baseline,mf:factors=50:epochs=40,knn-item". Each base model otherwise uses its
 * defaults. (`compare --algos` takes the same syntax.) The registry is imported lazily: registry
 * → blend → registry would otherwise be an import cycle that breaks whichever module loads first.
 */
import { promises as fsp } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { split } from "../data/split.js";
import { DataError, type Dataset } from "../data/types.js";
import { readModelFile, type ArrayData, type ModelHeader } from "./io.js";
import { StopRequested } from "../engine/scheduler.js";
import { Model, type FitOptions } from "./model.js";
import type { Params } from "./params.js";

/** An algorithm and the parameters given for it (the rest take their defaults). */
export interface BaseSpec {
  algo: string;
  params: Params;
}

/**
 * Parses a list of models such as a `bases` list or `compare --algos` (syntax only; names and
 * values are checked when the models are made). `owner` names the list in error messages.
 */
export function parseModelList(owner: string, text: string): BaseSpec[] {
  const entries = text.split(",").map((e) => e.trim());
  if (entries.length === 0 || entries.some((e) => e === "")) {
    throw new DataError(`${owner}: "${text}" has an empty entry`, 'list algorithms separated by commas, e.g. "baseline,mf:factors=50"');
  }
  return entries.map((entry) => {
    const [algo, ...pairs] = entry.split(":").map((s) => s.trim());
    const params: Params = {};
    for (const pair of pairs) {
      const eq = pair.indexOf("=");
      if (eq <= 0 || eq === pair.length - 1) {
        throw new DataError(`${owner}: entry "${entry}" has "${pair}" where name=value was expected`, 'e.g. "mf:factors=50:epochs=40"');
      }
      params[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
    }
    return { algo: algo!, params };
  });
}

/** Fresh (unfitted) base models; unknown algorithms or parameters are refused naming the owner. */
export async function createBases(owner: string, specs: BaseSpec[]): Promise<Model[]> {
  const { createModel } = await import("./registry.js");
  return specs.map((s) => {
    try {
      return createModel(s.algo, s.params);
    } catch (err) {
      if (err instanceof DataError) throw new DataError(`${owner}: ${err.message}`, err.hint);
      throw err;
    }
  });
}

/**
 * Fits each base model on `train` in turn, with the combining model's training options (threads,
 * deterministic, early stopping, the stop signal) but not its progress callback or validation set.
 */
export async function fitBases(models: Model[], train: Dataset, opts: FitOptions = {}): Promise<void> {
  const { onEpoch: _progress, valid: _valid, ...training } = opts;
  for (const m of models) {
    if (training.signal?.aborted) throw new StopRequested();
    await m.fit(train, training);
  }
}

/**
 * Each base model's estimates for the ratings of `ds`, on their days (time-aware models use the
 * day of each rating; prefer this over `basePredictions` whenever a dataset is at hand).
 */
export function datasetPredictions(models: Model[], ds: Dataset): Float32Array[] {
  return models.map((m) => m.predictDataset(ds));
}

/** Each base model's clipped estimates for dense pairs (u[k], i[k]) without days, one array per model. */
export function basePredictions(models: Model[], u: Int32Array, i: Int32Array): Float32Array[] {
  return models.map((m) => {
    const out = new Float32Array(u.length);
    m.predictDense(u, i, out);
    return out;
  });
}

/** log(1 + training ratings) of each user and movie: how much data a prediction for them rests on. */
export interface Support {
  user: Float32Array;
  movie: Float32Array;
}

export function supportOf(train: Dataset): Support {
  const user = new Float32Array(train.users.length);
  const movie = new Float32Array(train.movies.length);
  const r = train.ratings;
  for (let k = 0; k < r.user.length; k++) {
    user[r.user[k]!]++;
    movie[r.movie[k]!]++;
  }
  for (let u = 0; u < user.length; u++) user[u] = Math.log1p(user[u]!);
  for (let i = 0; i < movie.length; i++) movie[i] = Math.log1p(movie[i]!);
  return { user, movie };
}

/** Splits (meta.split.method) that hold out later ratings: training data cut by one of them gets the probe holdout under "auto". */
const DATE_SPLITS = ["temporal", "probe", "netflix-probe"];

export interface HoldoutOptions {
  /**
   * probe: each user's latest `last` ratings; random: one of `folds` random parts; kfold: each of
   * `folds` random parts in turn; auto: probe when `train` was itself cut by date (a temporal,
   * probe or Netflix probe split), else random.
   */
  method: "auto" | "probe" | "random" | "kfold";
  last: number;
  folds: number;
  seed: number;
}

/**
 * Cuts `train` into parts to fit base models on and held-out parts to fit their combination on
 * (one pair, or `folds` pairs for kfold, whose held-out parts cover every rating once): each
 * user's latest ratings by date (as the Netflix probe set was built), one random part, or every
 * random part in turn. Data without dates never gets the probe cut. The held-out ratings should
 * resemble the test set: "auto" takes the latest ratings when the training data was itself cut
 * from its parent by date, and a random part otherwise (e.g. in k-fold cross-validation).
 */
export function heldOutParts(train: Dataset, o: HoldoutOptions): { fit: Dataset; held: Dataset }[] {
  const byDate = DATE_SPLITS.includes(String(train.meta.split?.method));
  let method = o.method === "auto" ? (byDate ? "probe" : "random") : o.method;
  if (method === "probe" && train.meta.dayRange === null) method = "random";
  const parts =
    method === "probe"
      ? split(train, { method: "probe", last: o.last, seed: 1 })
      : split(train, { method: "kfold", folds: o.folds, seed: o.seed }).slice(0, method === "random" ? 1 : undefined);
  if (parts.some((p) => p.test.meta.nRatings === 0)) {
    throw new DataError("a held-out part of the training data is empty", "the training data needs more ratings (or users with at least two ratings)");
  }
  return parts.map((p) => ({ fit: p.train, held: p.test }));
}

/**
 * Base models as arrays for the combining model's file: base k's file header (UTF-8 JSON) as
 * `base{k}.header` and its arrays as `base{k}.<name>`. Each is written with its own `save` (to a
 * temporary file, removed afterwards), so every algorithm nests without knowing about nesting.
 */
export async function packBases(models: Model[]): Promise<Record<string, ArrayData>> {
  const dir = await fsp.mkdtemp(join(tmpdir(), "movierec-bases-"));
  const out: Record<string, ArrayData> = {};
  try {
    for (let k = 0; k < models.length; k++) {
      const file = join(dir, `base${k}.model`);
      await models[k]!.save(file);
      const { header, arrays } = await readModelFile(file);
      out[`base${k}.header`] = new Uint8Array(Buffer.from(JSON.stringify(header), "utf8"));
      for (const [name, a] of Object.entries(arrays)) out[`base${k}.${name}`] = a;
    }
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
  return out;
}

export interface PackedBase {
  header: ModelHeader;
  arrays: Record<string, ArrayData>;
}

/** The `count` base models packed by `packBases` (not yet restored: see `restoreBases`). */
export function unpackBases(arrays: Record<string, ArrayData>, count: number): PackedBase[] {
  return Array.from({ length: count }, (_, k) => {
    const head = arrays[`base${k}.header`];
    if (!(head instanceof Uint8Array)) throw new DataError(`the model file has no base model ${k}`, "the file is damaged; train the model again");
    const prefix = `base${k}.`;
    const own: Record<string, ArrayData> = {};
    for (const [name, a] of Object.entries(arrays)) if (name.startsWith(prefix) && name !== `${prefix}header`) own[name.slice(prefix.length)] = a;
    return { header: JSON.parse(Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString("utf8")) as ModelHeader, arrays: own };
  });
}

/** Base models back from their packed form, ready to predict. */
export async function restoreBases(packed: PackedBase[]): Promise<Model[]> {
  const { createModel } = await import("./registry.js");
  const models: Model[] = [];
  for (const p of packed) {
    const m = createModel(p.header.algo, p.header.params).restoreFrom(p.header, p.arrays);
    await m.ready();
    models.push(m);
  }
  return models;
}

/**
 * A model built over base models named by its `bases` parameter: checks the list's syntax when
 * made, and saves and loads the fitted base models inside its own file (its own arrays beside
 * `base{k}.*`; see packBases). Subclasses fit `this.bases` and describe only their own state.
 */
export abstract class CombiningModel extends Model {
  protected bases: Model[] = [];
  private packed: Record<string, ArrayData> | null = null;
  private unpacked: PackedBase[] | null = null;

  constructor(params: Params = {}) {
    super(params);
    this.baseSpecs();
  }

  /** The `bases` list, parsed. */
  protected baseSpecs(): BaseSpec[] {
    return parseModelList(this.basesOwner(), this.params.bases as string);
  }

  /** Fresh base models of the `bases` list. */
  protected newBases(): Promise<Model[]> {
    return createBases(this.basesOwner(), this.baseSpecs());
  }

  private basesOwner(): string {
    return `${this.spec().algo} bases`;
  }

  /** The combining model's own arrays and scalars (without the base models). */
  protected abstract ownState(): { arrays: Record<string, ArrayData>; scalars: Record<string, number> };
  protected abstract restoreOwn(arrays: Record<string, ArrayData>, scalars: Record<string, number>): void;

  override async save(path: string): Promise<void> {
    this.packed = await packBases(this.bases);
    try {
      await super.save(path);
    } finally {
      this.packed = null;
    }
  }

  protected state() {
    const own = this.ownState();
    return { arrays: { ...own.arrays, ...this.packed }, scalars: { ...own.scalars, bases: this.bases.length } };
  }

  protected restore(arrays: Record<string, ArrayData>, scalars: Record<string, number>): void {
    this.restoreOwn(arrays, scalars);
    this.unpacked = unpackBases(arrays, scalars.bases!);
  }

  override async ready(): Promise<void> {
    if (this.unpacked) this.bases = await restoreBases(this.unpacked);
    this.unpacked = null;
  }
}
