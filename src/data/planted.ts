/**
 * The planted rating model behind the synthetic generator, and the noise floor it implies.
 *
 *   r̂(u, i) = mu + b_u + b_i + p_u·q_i                      (p_u, q_i ∈ R^rank)
 *   r(u, i)  = clip(round(r̂(u, i) + noise·ε), 1, 5),         ε ~ N(0, 1)
 *
 * b_u ~ N(0, userBiasStd²), b_i ~ N(0, movieBiasStd²), and every factor component ~ N(0, s²) with
 * s = (interactionStd² / rank)^(1/4), so p_u·q_i has standard deviation interactionStd whatever the
 * rank. The parameters come from their own seeded streams and depend only on the seed, the shapes
 * and these scales, all recorded in `meta.generator`: `plantedModel` re-creates them from that
 * record alone. No model can beat the planted one on average, so its RMSE on any part of a
 * generated dataset — `noiseFloor` — is the floor a trained model's RMSE should approach.
 */
import { Rng } from "./rng.js";
import { DataError, type Dataset } from "./types.js";

/** The generator's record in `meta.generator` (and `generator.json` beside Netflix text output). */
export interface GeneratorRecord {
  format: "movierec-generator";
  version: 1;
  seed: number;
  users: number;
  movies: number;
  ratings: number;
  rank: number;
  noise: number;
  mu: number;
  userBiasStd: number;
  movieBiasStd: number;
  interactionStd: number;
  /** Raw user ids are a sorted random subset of 1..userIdRange (Netflix: 480,189 ids in 1..2,649,429). */
  userIdRange: number;
  /** RMSE of the planted prediction (clipped to 1..5) against the integer ratings on the held-out part. */
  noiseFloorRmse: number;
  /** The same over all ratings. */
  noiseFloorRmseAll: number;
  /** Definition of the held-out part `noiseFloorRmse` is measured on. */
  heldOut: string;
}

/** The planted model's scales (rank and noise are options of the generator). */
export interface PlantedScales {
  mu: number;
  userBiasStd: number;
  movieBiasStd: number;
  interactionStd: number;
}

/** Scales that make the integer ratings look like Netflix's: mean ≈ 3.6, 4 the most common, floor RMSE ≈ 0.85. */
export const NETFLIX_LIKE_SCALES: PlantedScales = { mu: 3.66, userBiasStd: 0.42, movieBiasStd: 0.42, interactionStd: 0.42 };

/** What the planted parameters are drawn from. */
export interface PlantedSpec extends PlantedScales {
  seed: number;
  users: number;
  movies: number;
  rank: number;
}

/** The planted parameters, dense-indexed like the generated dataset. Factor rows are row-major, stride `rank`. */
export interface PlantedParams {
  mu: number;
  rank: number;
  userBias: Float64Array;
  movieBias: Float64Array;
  userFactors: Float64Array;
  movieFactors: Float64Array;
}

/** Independent random streams of one generator seed, one per concern, so each can be re-created alone. */
export const Stream = { userParams: 1, movieParams: 2, shape: 3, sampling: 4, dates: 5, noise: 6, userIds: 7, titles: 8 } as const;

/** A seeded Rng for one stream of a generator seed. */
export function streamRng(seed: number, stream: number): Rng {
  return new Rng((seed ^ Math.imul(stream, 0x9e3779b1)) >>> 0);
}

/** Draws the planted parameters for a spec (deterministic). */
export function plantedParams(spec: PlantedSpec): PlantedParams {
  const k = spec.rank;
  const s = Math.pow((spec.interactionStd * spec.interactionStd) / k, 0.25);
  const draw = (n: number, biasStd: number, stream: number) => {
    const rng = streamRng(spec.seed, stream);
    const bias = new Float64Array(n);
    const factors = new Float64Array(n * k);
    for (let x = 0; x < n; x++) {
      bias[x] = biasStd * rng.normal();
      for (let f = 0; f < k; f++) factors[x * k + f] = s * rng.normal();
    }
    return { bias, factors };
  };
  const users = draw(spec.users, spec.userBiasStd, Stream.userParams);
  const movies = draw(spec.movies, spec.movieBiasStd, Stream.movieParams);
  return {
    mu: spec.mu,
    rank: k,
    userBias: users.bias,
    movieBias: movies.bias,
    userFactors: users.factors,
    movieFactors: movies.factors,
  };
}

/** The planted prediction r̂(u, i) before clipping. */
export function plantedScore(p: PlantedParams, u: number, i: number): number {
  const k = p.rank;
  const pu = u * k;
  const qi = i * k;
  let dot = 0;
  for (let f = 0; f < k; f++) dot += p.userFactors[pu + f]! * p.movieFactors[qi + f]!;
  return p.mu + p.userBias[u]! + p.movieBias[i]! + dot;
}

/** Clips to the 1..5 scale of generated ratings. */
export function clipRating(x: number): number {
  return x < 1 ? 1 : x > 5 ? 5 : x;
}

/**
 * Raw user ids: `users` distinct integers in 1..range, ascending by dense index, chosen by
 * selection sampling (Knuth's algorithm S) so they scatter like Netflix's CustomerIDs.
 */
export function generatedUserIds(users: number, range: number, seed: number): Int32Array {
  const rng = streamRng(seed, Stream.userIds);
  const ids = new Int32Array(users);
  let chosen = 0;
  for (let id = 1; id <= range && chosen < users; id++) {
    if ((range - id + 1) * rng.next() < users - chosen) ids[chosen++] = id;
  }
  return ids;
}

/** The range raw user ids are drawn from: Netflix's ratio of id range to users (2,649,429 / 480,189). */
export function userIdRange(users: number): number {
  return Math.max(users, Math.round((users * 2_649_429) / 480_189));
}

/** The planted model of a generated dataset, re-created from its generator record. */
export interface PlantedModel {
  record: GeneratorRecord;
  params: PlantedParams;
  /** Raw user id per generator dense index (ascending). Raw movie ids are dense index + 1. */
  userIds: Int32Array;
  /** The planted prediction clipped to 1..5 for generator dense indices. */
  predict(u: number, i: number): number;
}

/** Re-creates the planted model from `meta.generator` (or generator.json). Throws DataError on a malformed record. */
export function plantedModel(record: Record<string, unknown>): PlantedModel {
  const rec = checkRecord(record);
  const params = plantedParams(rec);
  return {
    record: rec,
    params,
    userIds: generatedUserIds(rec.users, rec.userIdRange, rec.seed),
    predict: (u, i) => clipRating(plantedScore(params, u, i)),
  };
}

/**
 * RMSE of the planted model's clipped prediction against the ratings of any dataset cut from a
 * generated one (a split's train or test part, a re-ingested text export...), or null when the
 * dataset carries no generator record. Users and movies are matched by raw id, so datasets whose
 * dense order differs from the generator's (re-ingested text) work too.
 */
export function noiseFloor(ds: Dataset): number | null {
  if (!ds.meta.generator) return null;
  const model = plantedModel(ds.meta.generator);
  const n = ds.ratings.user.length;
  if (n === 0) return null;
  const userMap = mapUsers(ds, model.userIds);
  const movieMap = mapMovies(ds, model.record.movies);
  const { user, movie, rating } = ds.ratings;
  let sse = 0;
  for (let r = 0; r < n; r++) {
    const e = model.predict(userMap[user[r]!]!, movieMap[movie[r]!]!) - rating[r]!;
    sse += e * e;
  }
  return Math.sqrt(sse / n);
}

/** Generator dense index per dataset dense user index, by raw id. */
function mapUsers(ds: Dataset, genIds: Int32Array): Int32Array {
  const map = new Int32Array(ds.users.length);
  for (let u = 0; u < ds.users.length; u++) {
    const id = Number(ds.users[u]);
    let lo = 0;
    let hi = genIds.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (genIds[mid]! < id) lo = mid + 1;
      else hi = mid;
    }
    if (genIds[lo] !== id) throw new DataError(`user ${ds.users[u]} is not one of the generator's users`, "was this dataset cut from a different generated one?");
    map[u] = lo;
  }
  return map;
}

/** Generator dense index per dataset dense movie index (raw movie ids are 1..movies). */
function mapMovies(ds: Dataset, movies: number): Int32Array {
  const map = new Int32Array(ds.movies.length);
  for (let i = 0; i < ds.movies.length; i++) {
    const id = Number(ds.movies[i]);
    if (!Number.isInteger(id) || id < 1 || id > movies) {
      throw new DataError(`movie ${ds.movies[i]} is not one of the generator's ${movies} movies`, "was this dataset cut from a different generated one?");
    }
    map[i] = id - 1;
  }
  return map;
}

function checkRecord(r: Record<string, unknown>): GeneratorRecord {
  const num = (k: string, integer: boolean, min: number): number => {
    const v = r[k];
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
      throw new DataError(`generator record: "${k}" is ${JSON.stringify(v)}, expected ${integer ? "an integer" : "a number"} ≥ ${min}`);
    }
    return v;
  };
  if (r.format !== "movierec-generator" || r.version !== 1) {
    throw new DataError(`generator record: unsupported format ${String(r.format)} v${String(r.version)}`, "expected movierec-generator v1");
  }
  for (const k of ["seed", "users", "movies", "ratings", "rank", "userIdRange"]) num(k, true, k === "seed" ? 0 : 1);
  for (const k of ["noise", "userBiasStd", "movieBiasStd", "interactionStd"]) num(k, false, 0);
  num("mu", false, -Infinity);
  return r as unknown as GeneratorRecord;
}
