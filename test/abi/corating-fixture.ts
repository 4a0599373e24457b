/**
 * Tiny random rating matrices for the co-rating kernels (similarity, knn, slopeone) and plain
 * TypeScript references in f64 to check them against.
 */
import type { Arena } from "../../src/abi/arena.js";
import type { CsrRegions, KeyCsrRegions, SimilarityKind } from "../../src/abi/kernels.js";
import { buildCsrPair, type CsrPair } from "../../src/data/csr.js";
import { Rng } from "../../src/data/rng.js";

export interface Ratings {
  nUsers: number;
  nMovies: number;
  user: Int32Array;
  movie: Int32Array;
  rating: Float32Array;
}

/** Each (user, movie) rated with probability `density`, integer ratings 1..5. */
export function randomRatings(seed: number, nUsers: number, nMovies: number, density: number): Ratings {
  const rng = new Rng(seed);
  const user: number[] = [];
  const movie: number[] = [];
  const rating: number[] = [];
  for (let u = 0; u < nUsers; u++) {
    for (let i = 0; i < nMovies; i++) {
      if (rng.next() >= density) continue;
      user.push(u);
      movie.push(i);
      rating.push(1 + rng.int(5));
    }
  }
  return { nUsers, nMovies, user: Int32Array.from(user), movie: Int32Array.from(movie), rating: Float32Array.from(rating) };
}

/** Both CSR layouts of `r` (values `value`, default the ratings) copied into the arena. */
export function loadPair(arena: Arena, r: Ratings, value: Float32Array = r.rating): {
  pair: CsrPair;
  byUser: CsrRegions;
  byMovie: CsrRegions;
  movieKey: KeyCsrRegions;
  userKey: KeyCsrRegions;
} {
  const pair = buildCsrPair(r.user, r.movie, value, r.nUsers, r.nMovies);
  const u = pair.byUser;
  const m = pair.byMovie;
  const byUser: CsrRegions = { nRows: r.nUsers, nCols: r.nMovies, ptr: arena.copyIn(u.ptr), idx: arena.copyIn(u.idx), val: arena.copyIn(u.val) };
  const byMovie: CsrRegions = { nRows: r.nMovies, nCols: r.nUsers, ptr: arena.copyIn(m.ptr), idx: arena.copyIn(m.idx), val: arena.copyIn(m.val) };
  return {
    pair,
    byUser,
    byMovie,
    movieKey: { nRows: r.nMovies, nCols: r.nUsers, ptr: byMovie.ptr, idx: byMovie.idx, cross: arena.copyIn(pair.movieToUser) },
    userKey: { nRows: r.nUsers, nCols: r.nMovies, ptr: byUser.ptr, idx: byUser.idx, cross: arena.copyIn(pair.userToMovie) },
  };
}

/** value[x][c] for the rows × cols matrix (NaN where not rated). */
export function dense(r: Ratings, value: Float32Array, byMovie: boolean): Float64Array[] {
  const rows = byMovie ? r.nMovies : r.nUsers;
  const cols = byMovie ? r.nUsers : r.nMovies;
  const m = Array.from({ length: rows }, () => new Float64Array(cols).fill(NaN));
  for (let k = 0; k < r.user.length; k++) {
    const [x, c] = byMovie ? [r.movie[k]!, r.user[k]!] : [r.user[k]!, r.movie[k]!];
    m[x]![c] = value[k]!;
  }
  return m;
}

/** The (x, y) value pairs of rows a and b over the columns both have. */
export function coRatings(m: Float64Array[], a: number, b: number): [number, number][] {
  const out: [number, number][] = [];
  for (let c = 0; c < m[a]!.length; c++) if (!Number.isNaN(m[a]![c]!) && !Number.isNaN(m[b]![c]!)) out.push([m[a]![c]!, m[b]![c]!]);
  return out;
}

/** Surprise's similarity of rows a and b (0 below minSupport or for a zero denominator), in f64. */
export function referenceSimilarity(kind: SimilarityKind, pairs: [number, number][], minSupport: number, shrinkage: number): number {
  const n = pairs.length;
  if (n < minSupport || n === 0) return 0;
  let sx = 0, sy = 0, sxy = 0, sxx = 0, syy = 0, sd = 0;
  for (const [x, y] of pairs) {
    sx += x;
    sy += y;
    sxy += x * y;
    sxx += x * x;
    syy += y * y;
    sd += (x - y) ** 2;
  }
  if (kind === "msd") return 1 / (sd / n + 1);
  if (kind === "pearson") {
    const den = Math.sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
    return den > 0 ? (n * sxy - sx * sy) / den : 0;
  }
  const den = Math.sqrt(sxx * syy);
  if (!(den > 0)) return 0;
  return kind === "pearson-baseline" ? (sxy / den) * ((n - 1) / (n - 1 + shrinkage)) : sxy / den;
}

/** |a − b| ≤ tol·(1 + |b|) element by element. */
export function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} ≠ ${expected.length}`;
  for (let k = 0; k < expected.length; k++) {
    const a = actual[k]!;
    const b = expected[k]!;
    if (!(Math.abs(a - b) <= tol * (1 + Math.abs(b)))) return `[${k}]: got ${a}, expected ${b}`;
  }
  return null;
}
