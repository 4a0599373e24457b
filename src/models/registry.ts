/** Algorithms by name: the only place that maps `--algo <name>` to a class. */
import { DataError } from "../data/types.js";
import { Baseline } from "./baseline.js";
import { Blend } from "./blend.js";
import { readModelFile } from "./io.js";
import { GlobalMean, MovieMean, UserMean } from "./means.js";
import { KnnItem, KnnUser } from "./knn.js";
import { MF } from "./mf.js";
import { SlopeOne } from "./slopeone.js";
import { SVDpp } from "./svdpp.js";
import { TimeSVDpp } from "./timesvdpp.js";
import { GbdtStack } from "./stack.js";
import type { Model } from "./model.js";
import type { Params } from "./params.js";

type ModelClass = new (params?: Params) => Model;

const REGISTRY: Record<string, ModelClass> = {
  "global-mean": GlobalMean,
  "user-mean": UserMean,
  "movie-mean": MovieMean,
  baseline: Baseline,
  mf: MF,
  "knn-user": KnnUser,
  "knn-item": KnnItem,
  slopeone: SlopeOne,
  svdpp: SVDpp,
  timesvdpp: TimeSVDpp,
  blend: Blend,
  "gbdt-stack": GbdtStack,
};

export function algorithmNames(): string[] {
  return Object.keys(REGISTRY);
}

export function createModel(algo: string, params: Params = {}): Model {
  const C = REGISTRY[algo];
  if (!C) throw new DataError(`unknown algorithm "${algo}"`, `choose one of: ${algorithmNames().join(", ")}`);
  return new C(params);
}

/** Reads a model file written by `Model.save` and restores the model it holds. */
export async function loadModel(path: string): Promise<Model> {
  const { header, arrays } = await readModelFile(path);
  const C = REGISTRY[header.algo];
  if (!C) throw new DataError(`${path} holds a "${header.algo}" model, which this movierec does not know`, `known: ${algorithmNames().join(", ")}`);
  const model = new C(header.params).restoreFrom(header, arrays);
  await model.ready();
  return model;
}

/** Every algorithm's name, description and parameter declarations (for --help and docs). */
export function algorithmSpecs() {
  return algorithmNames().map((name) => createModel(name).spec());
}
