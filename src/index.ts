/** The public library API of movierec. */
export type { Dataset, DatasetMeta, Ratings, RawId, RawIds } from "./data/types.js";
export { DataError, ParseError } from "./data/types.js";
export { readDataset, writeDataset, makeDataset, isDatasetDir } from "./data/dataset.js";
export { ingest, loadRatings } from "./data/ingest.js";
export { loadMovieLensFolds } from "./data/readers/movielens.js";
export { generate, noiseFloor } from "./data/generate.js";
export { split, writeSplit } from "./data/split.js";
export { Rng } from "./data/rng.js";
export { Model } from "./models/model.js";
export type { Estimate, EpochInfo, FitOptions, Recommendation, RecommendOptions } from "./models/model.js";
export { algorithmNames, algorithmSpecs, createModel, loadModel } from "./models/registry.js";
export { evaluateModel, crossValidate } from "./eval/evaluate.js";
export { scorePredictions } from "./eval/metrics.js";
export type { Scores } from "./eval/metrics.js";
export { execute } from "./cli/program.js";
