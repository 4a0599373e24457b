/**
 * Ranking metrics for `recommend`: how well each test user's top-k list (training movies
 * excluded) finds the movies they rated highly in the test set.
 *
 * For a user with relevant test movies Rel (test rating ≥ `relevant`, 4 by default) and a
 * recommended list L of length k (positions j = 1..k, rel_j = 1 when L_j ∈ Rel):
 *
 *   precision@k = |L ∩ Rel| / k                 recall@k = |L ∩ Rel| / |Rel|
 *   NDCG@k      = Σ_j rel_j / log2(j + 1)  ÷  Σ_{j ≤ min(k, |Rel|)} 1 / log2(j + 1)
 *   AP@k        = Σ_j rel_j · precision@j  ÷  min(k, |Rel|)         (MAP@k: mean over users)
 *   coverage@k  = |∪_u L_u| / number of movies in the model's catalogue
 *
 * Each is the mean over the evaluated users. Test users with no relevant movie are skipped and
 * counted; many users are sampled (seeded) down to `maxUsers` to bound the time. Relevant movies
 * the model never saw stay in Rel: a model cannot score well by ignoring them.
 */
import { Rng } from "../data/rng.js";
import { DataError, type Dataset } from "../data/types.js";
import type { Model } from "../models/model.js";

export interface RankingOptions {
  /** List length (default 10). */
  k?: number;
  /** A test rating at least this high makes the movie relevant (default 4). */
  relevant?: number;
  /** Evaluate at most this many users, a seeded random sample (default 1000; 0 = all). */
  maxUsers?: number;
  /** Seed of the user sample (default 1). */
  seed?: number;
  /** Users per `recommend` call; progress is reported after each batch. */
  batch?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface RankingScores {
  k: number;
  precision: number;
  recall: number;
  ndcg: number;
  map: number;
  coverage: number;
  /** Users evaluated. */
  users: number;
  /** Test users with at least one relevant movie who were left out of the sample. */
  sampledOut: number;
  /** Test users skipped because none of their test ratings is relevant. */
  skippedUsers: number;
}

export const RANKING_DEFAULTS = { k: 10, relevant: 4, maxUsers: 1000, seed: 1, batch: 64 } as const;

/** Per-user precision, recall, NDCG and AP of one top-k list (movie keys of any kind). */
export function rankListScores<T>(list: readonly T[], relevant: ReadonlySet<T>, k: number): { precision: number; recall: number; ndcg: number; ap: number } {
  if (relevant.size === 0) throw new DataError("a ranked list needs at least one relevant movie to be scored");
  let hits = 0;
  let dcg = 0;
  let apSum = 0;
  const top = Math.min(k, list.length);
  for (let j = 0; j < top; j++) {
    if (!relevant.has(list[j]!)) continue;
    hits++;
    dcg += 1 / Math.log2(j + 2);
    apSum += hits / (j + 1);
  }
  const ideal = Math.min(k, relevant.size);
  let idcg = 0;
  for (let j = 0; j < ideal; j++) idcg += 1 / Math.log2(j + 2);
  return { precision: hits / k, recall: hits / relevant.size, ndcg: dcg / idcg, ap: apSum / ideal };
}

/** Mean ranking scores of `lists[u]` against `relevant[u]`, and the catalogue coverage of the lists. */
export function scoreRankings<T>(lists: readonly (readonly T[])[], relevant: readonly ReadonlySet<T>[], k: number, catalogue: number): Omit<RankingScores, "sampledOut" | "skippedUsers"> {
  if (lists.length !== relevant.length) throw new DataError(`${lists.length} lists for ${relevant.length} users`);
  let precision = 0;
  let recall = 0;
  let ndcg = 0;
  let map = 0;
  const shown = new Set<T>();
  for (let u = 0; u < lists.length; u++) {
    const s = rankListScores(lists[u]!, relevant[u]!, k);
    precision += s.precision;
    recall += s.recall;
    ndcg += s.ndcg;
    map += s.ap;
    for (let j = 0; j < Math.min(k, lists[u]!.length); j++) shown.add(lists[u]![j]!);
  }
  const n = lists.length;
  const mean = (x: number) => (n ? x / n : NaN);
  return { k, precision: mean(precision), recall: mean(recall), ndcg: mean(ndcg), map: mean(map), coverage: catalogue ? shown.size / catalogue : NaN, users: n };
}

/**
 * Ranking metrics of `model` over the users of `test`: each user's top-k among the movies they did
 * not rate in training, scored against their relevant test movies. Movies are compared in the
 * model's dense index space (test movies unknown to the model get their own keys, never hit).
 */
export function rankingMetrics(model: Model, test: Dataset, opts: RankingOptions = {}): RankingScores {
  const k = opts.k ?? RANKING_DEFAULTS.k;
  const threshold = opts.relevant ?? RANKING_DEFAULTS.relevant;
  const maxUsers = opts.maxUsers ?? RANKING_DEFAULTS.maxUsers;
  const batch = opts.batch ?? RANKING_DEFAULTS.batch;
  if (!Number.isInteger(k) || k < 1) throw new DataError(`k must be a whole number ≥ 1 (got ${k})`);
  if (!Number.isInteger(maxUsers) || maxUsers < 0) throw new DataError(`the user cap must be a whole number ≥ 0 (got ${maxUsers})`);

  // Relevant movies per test user, as model movie indices (unknown movies: −1 − test index).
  const { user, movie, rating } = test.ratings;
  const movieKey = Int32Array.from({ length: test.movies.length }, (_, i) => {
    const m = model.movieIndexOf(test.movies[i]!);
    return m >= 0 ? m : -1 - i;
  });
  const hasTest = new Uint8Array(test.users.length);
  const rel = new Map<number, Set<number>>();
  for (let r = 0; r < user.length; r++) {
    hasTest[user[r]!] = 1;
    if (rating[r]! < threshold) continue;
    let s = rel.get(user[r]!);
    if (!s) rel.set(user[r]!, (s = new Set()));
    s.add(movieKey[movie[r]!]!);
  }
  let skippedUsers = 0;
  for (let u = 0; u < hasTest.length; u++) if (hasTest[u] && !rel.has(u)) skippedUsers++;

  let users = Int32Array.from(rel.keys()).sort();
  const eligible = users.length;
  if (maxUsers > 0 && users.length > maxUsers) {
    const perm = new Rng(opts.seed ?? RANKING_DEFAULTS.seed).permutation(users.length);
    users = Int32Array.from(perm.subarray(0, maxUsers), (p) => users[p]!).sort();
  }

  const lists: number[][] = [];
  const relevant: Set<number>[] = [];
  for (let at = 0; at < users.length; at += batch) {
    const chunk = Array.from(users.subarray(at, at + batch));
    const recs = model.recommend(chunk.map((u) => test.users[u]!), { n: k, excludeSeen: true });
    recs.forEach((rec, j) => {
      lists.push(rec.movieIds.map((id) => model.movieIndexOf(id)));
      relevant.push(rel.get(chunk[j]!)!);
    });
    opts.onProgress?.(Math.min(at + batch, users.length), users.length);
  }
  return { ...scoreRankings(lists, relevant, k, model.nMovies), sampledOut: eligible - users.length, skippedUsers };
}
