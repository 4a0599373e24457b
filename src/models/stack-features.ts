/**
 * The 13 hand-made features of the stacking case study, for a (user, movie) pair, computed from a
 * set of training ratings (the "source"):
 *
 *   gAvg            global average rating
 *   uAvg            the user's average rating (gAvg for an unknown user)
 *   mAvg            the movie's average rating (gAvg for an unknown movie)
 *   sur1 .. sur5    the movie's ratings by the user's most similar users who rated it, most similar
 *                   first, padded with mAvg
 *   smr1 .. smr5    the user's ratings of the movies most similar to this movie that the user rated,
 *                   most similar first, padded with uAvg
 *
 * and, optionally, the support behind them: log n_u and log n_i, log(1 + rating count) of the user
 * and of the movie (0 when unknown).
 *
 * "Most similar" walks each user's (movie's) top-`neighbours` list of the source's similarity
 * (similarity.ts: Pearson-baseline by default), so a feature is padded when fewer than 5 of those
 * neighbours rated the movie (were rated by the user). Pairs are processed user by user: the
 * user's neighbours' ratings are spread once into per-movie slots, so a user's cost is Σ over
 * neighbours of their rating counts plus the movie's list length per pair.
 */
import { csrByUser, type Csr } from "../data/csr.js";
import type { Dataset } from "../data/types.js";
import { supportOf, type Support } from "./ensemble.js";
import type { ArrayData } from "./io.js";
import { Similarity, type Neighbours, type SimilarityKind } from "./similarity.js";

export const HAND_FEATURES = ["gAvg", "uAvg", "mAvg", "sur1", "sur2", "sur3", "sur4", "sur5", "smr1", "smr2", "smr3", "smr4", "smr5"];
/** Optional support features: log(1 + rating count) of the user and of the movie in the source. */
export const SUPPORT_FEATURES = ["log n_u", "log n_i"];
const TOP = 5;

/** Neighbour lists without scores: row x's neighbours are idx[ptr[x] .. ptr[x+1]), most similar first. */
export type NeighbourLists = Pick<Neighbours, "ptr" | "idx">;

/** What the features are computed from. */
export interface FeatureSource {
  gAvg: number;
  uAvg: Float32Array;
  mAvg: Float32Array;
  /** The source ratings by user, movies ascending. */
  byUser: Csr;
  userNbr: NeighbourLists;
  movieNbr: NeighbourLists;
  support: Support;
}

export interface NeighbourOptions {
  /** Neighbours kept per user and per movie. */
  k: number;
  sim: SimilarityKind;
  shrinkage: number;
  minSupport: number;
}

/** Averages, ratings by user and top-k neighbour lists of every user and movie of `train`. */
export async function featureSource(train: Dataset, o: NeighbourOptions): Promise<FeatureSource> {
  const { user, movie, rating } = train.ratings;
  const nU = train.users.length;
  const nM = train.movies.length;
  const byUser = csrByUser(user, movie, rating, nU, nM);
  let sum = 0;
  for (let r = 0; r < rating.length; r++) sum += rating[r]!;
  const gAvg = rating.length ? sum / rating.length : 0;
  const sim = await Similarity.fromDataset(train, { sim: o.sim, shrinkage: o.shrinkage, minSupport: o.minSupport });
  try {
    const movieNbr = await sim.topMovies(o.k);
    const userNbr = sim.topUsers(Int32Array.from({ length: nU }, (_, u) => u), o.k);
    return {
      gAvg, uAvg: rowMeans(user, rating, nU, gAvg), mAvg: rowMeans(movie, rating, nM, gAvg), byUser,
      userNbr: lists(userNbr), movieNbr: lists(movieNbr), support: supportOf(train),
    };
  } finally {
    await sim.close();
  }
}

const lists = (nb: Neighbours): NeighbourLists => ({ ptr: nb.ptr, idx: nb.idx });

function rowMeans(key: Int32Array, rating: Float32Array, n: number, fallback: number): Float32Array {
  const sum = new Float64Array(n);
  const cnt = new Float64Array(n);
  for (let r = 0; r < key.length; r++) {
    sum[key[r]!] += rating[r]!;
    cnt[key[r]!]++;
  }
  return Float32Array.from(sum, (s, j) => (cnt[j]! > 0 ? s / cnt[j]! : fallback));
}

/**
 * Writes the 13 features of pairs (u[q], i[q]) into X at X[q·stride + offset + f]; u or i may be −1
 * (unknown to the source), and then the averages stand in.
 */
export function handFeatures(src: FeatureSource, u: Int32Array, i: Int32Array, X: Float32Array, stride: number, offset = 0): void {
  const nM = src.mAvg.length;
  const { ptr, idx, val } = src.byUser;
  const ur = new Float32Array(nM).fill(NaN);
  const slot = new Float32Array(nM * TOP);
  const cnt = new Uint8Array(nM);
  const { userNbr, movieNbr } = src;
  for (const [uu, queries] of groupByUser(u)) {
    const uAvg = uu >= 0 ? src.uAvg[uu]! : src.gAvg;
    const touched: number[] = [];
    if (uu >= 0) {
      for (let e = ptr[uu]!; e < ptr[uu + 1]!; e++) ur[idx[e]!] = val[e]!;
      for (let n = userNbr.ptr[uu]!; n < userNbr.ptr[uu + 1]!; n++) {
        const v = userNbr.idx[n]!;
        for (let e = ptr[v]!; e < ptr[v + 1]!; e++) {
          const j = idx[e]!;
          const c = cnt[j]!;
          if (c === 0) touched.push(j);
          if (c < TOP) {
            slot[j * TOP + c] = val[e]!;
            cnt[j] = c + 1;
          }
        }
      }
    }
    for (const q of queries) {
      const ii = i[q]!;
      const mAvg = ii >= 0 ? src.mAvg[ii]! : src.gAvg;
      const o = q * stride + offset;
      X[o] = src.gAvg;
      X[o + 1] = uAvg;
      X[o + 2] = mAvg;
      const have = ii >= 0 ? cnt[ii]! : 0;
      for (let t = 0; t < TOP; t++) X[o + 3 + t] = t < have ? slot[ii * TOP + t]! : mAvg;
      let found = 0;
      if (ii >= 0 && uu >= 0) {
        for (let n = movieNbr.ptr[ii]!; n < movieNbr.ptr[ii + 1]! && found < TOP; n++) {
          const r = ur[movieNbr.idx[n]!]!;
          if (r === r) X[o + 8 + found++] = r;
        }
      }
      for (; found < TOP; found++) X[o + 8 + found] = uAvg;
    }
    if (uu >= 0) for (let e = ptr[uu]!; e < ptr[uu + 1]!; e++) ur[idx[e]!] = NaN;
    for (const j of touched) cnt[j] = 0;
  }
}

/** Writes SUPPORT_FEATURES of pairs (u[q], i[q]) into X at X[q·stride + offset + f] (0 for unknown users or movies). */
export function supportFeatures(src: FeatureSource, u: Int32Array, i: Int32Array, X: Float32Array, stride: number, offset: number): void {
  const { user, movie } = src.support;
  for (let q = 0; q < u.length; q++) {
    X[q * stride + offset] = u[q]! >= 0 ? user[u[q]!]! : 0;
    X[q * stride + offset + 1] = i[q]! >= 0 ? movie[i[q]!]! : 0;
  }
}

/** Query indices grouped by user (−1, unknown users, included), users in order of first appearance. */
function groupByUser(u: Int32Array): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (let q = 0; q < u.length; q++) {
    const g = groups.get(u[q]!);
    if (g) g.push(q);
    else groups.set(u[q]!, [q]);
  }
  return groups;
}

/** The source as named arrays for a model file, and back. */
export function sourceArrays(s: FeatureSource): Record<string, ArrayData> {
  return {
    uAvg: s.uAvg, mAvg: s.mAvg, gAvg: Float64Array.of(s.gAvg),
    ptr: s.byUser.ptr, idx: s.byUser.idx, val: s.byUser.val,
    userNbrPtr: s.userNbr.ptr, userNbrIdx: s.userNbr.idx, movieNbrPtr: s.movieNbr.ptr, movieNbrIdx: s.movieNbr.idx,
    supportUser: s.support.user, supportMovie: s.support.movie,
  };
}

export function sourceFromArrays(a: Record<string, ArrayData>): FeatureSource {
  const uAvg = a.uAvg as Float32Array;
  const mAvg = a.mAvg as Float32Array;
  return {
    gAvg: a.gAvg![0]!,
    uAvg,
    mAvg,
    byUser: { nRows: uAvg.length, nCols: mAvg.length, ptr: a.ptr as Int32Array, idx: a.idx as Int32Array, val: a.val as Float32Array },
    userNbr: { ptr: a.userNbrPtr as Int32Array, idx: a.userNbrIdx as Int32Array },
    movieNbr: { ptr: a.movieNbrPtr as Int32Array, idx: a.movieNbrIdx as Int32Array },
    support: { user: a.supportUser as Float32Array, movie: a.supportMovie as Float32Array },
  };
}
