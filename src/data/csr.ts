/**
 * Ratings in compressed sparse rows, by user and by movie, built with counting sorts (O(n + rows)).
 *
 * Row r's entries are `idx[ptr[r] .. ptr[r+1])` in ascending column order, with `val` beside them
 * (the rating, or any per-rating value such as a residual from a baseline). A `CsrPair` holds both
 * layouts of the same ratings and, for every entry of one, where the same rating sits in the other
 * (`cross`): the similarity kernels walk a movie's raters in the by-movie layout and jump from each
 * into that user's row of the by-user layout.
 */
import { DataError } from "./types.js";

export interface Csr {
  nRows: number;
  nCols: number;
  /** nRows + 1 offsets: row r is entries ptr[r] .. ptr[r+1). */
  ptr: Int32Array;
  /** Column of each entry, ascending within a row. */
  idx: Int32Array;
  /** Value of each entry. */
  val: Float32Array;
}

export interface CsrPair {
  byUser: Csr;
  byMovie: Csr;
  /** For each by-user entry, the index of the same rating in byMovie. */
  userToMovie: Int32Array;
  /** For each by-movie entry, the index of the same rating in byUser. */
  movieToUser: Int32Array;
}

/**
 * Both layouts of (user[k], movie[k], value[k]). A pair rated twice is kept twice (both entries);
 * datasets from the readers never hold duplicates.
 */
export function buildCsrPair(user: Int32Array, movie: Int32Array, value: Float32Array, nUsers: number, nMovies: number): CsrPair {
  return csrPair(csrByUser(user, movie, value, nUsers, nMovies));
}

/** Both layouts from the by-user one (rows ascending), with the cross indices. */
export function csrPair(byUser: Csr): CsrPair {
  const { csr: byMovie, moved: userToMovie } = transposeTracked(byUser);
  const movieToUser = new Int32Array(userToMovie.length);
  for (let e = 0; e < userToMovie.length; e++) movieToUser[userToMovie[e]!] = e;
  return { byUser, byMovie, userToMovie, movieToUser };
}

/** The by-user layout only (each user's movies ascending). */
export function csrByUser(user: Int32Array, movie: Int32Array, value: Float32Array, nUsers: number, nMovies: number): Csr {
  // Ratings already in movie order (generated and Netflix data) need only the sort by user.
  const byMovie = ascendingWithin(movie, nMovies) ? null : countingOrder(movie, nMovies, null).order;
  const order = countingOrder(user, nUsers, byMovie);
  return gather(nUsers, nMovies, order, movie, value);
}

/** The transpose, and where each entry of `m` moved to in it. */
function transposeTracked(m: Csr): { csr: Csr; moved: Int32Array } {
  const nnz = m.idx.length;
  const ptr = new Int32Array(m.nCols + 1);
  for (let e = 0; e < nnz; e++) ptr[m.idx[e]! + 1]!++;
  for (let c = 0; c < m.nCols; c++) ptr[c + 1]! += ptr[c]!;
  const fill = ptr.slice(0, m.nCols);
  const idx = new Int32Array(nnz);
  const val = new Float32Array(nnz);
  const moved = new Int32Array(nnz);
  // Rows are visited in ascending order, so each new row receives its columns ascending.
  for (let r = 0; r < m.nRows; r++) {
    for (let e = m.ptr[r]!; e < m.ptr[r + 1]!; e++) {
      const at = fill[m.idx[e]!]!++;
      idx[at] = r;
      val[at] = m.val[e]!;
      moved[e] = at;
    }
  }
  return { csr: { nRows: m.nCols, nCols: m.nRows, ptr, idx, val }, moved };
}

/** A copy of `m` with every value replaced by f(row, col, value). */
export function mapValues(m: Csr, f: (row: number, col: number, value: number) => number): Csr {
  const val = new Float32Array(m.val.length);
  for (let r = 0; r < m.nRows; r++) {
    for (let e = m.ptr[r]!; e < m.ptr[r + 1]!; e++) val[e] = f(r, m.idx[e]!, m.val[e]!);
  }
  return { ...m, val };
}

/** Whether a is ascending with every value in 0..n−1 (else the counting sort checks and reports). */
function ascendingWithin(a: Int32Array, n: number): boolean {
  for (let k = 1; k < a.length; k++) if (a[k]! < a[k - 1]!) return false;
  return a.length === 0 || (a[0]! >= 0 && a[a.length - 1]! < n);
}

interface Ordering {
  /** Rating indices sorted by key (stable with respect to the input order). */
  order: Int32Array;
  /** Row offsets: key r is order[ptr[r] .. ptr[r+1]). */
  ptr: Int32Array;
}

/** Stable counting sort of rating indices by key[k] (in the order `within`, or 0..n-1). */
function countingOrder(key: Int32Array, nKeys: number, within: Int32Array | null): Ordering {
  const n = key.length;
  const ptr = new Int32Array(nKeys + 1);
  for (let k = 0; k < n; k++) {
    const r = key[k]!;
    if (!(r >= 0 && r < nKeys)) throw new DataError(`index ${r} of rating ${k} is outside 0..${nKeys - 1}`);
    ptr[r + 1]!++;
  }
  for (let r = 0; r < nKeys; r++) ptr[r + 1]! += ptr[r]!;
  const fill = ptr.slice(0, nKeys);
  const order = new Int32Array(n);
  for (let p = 0; p < n; p++) {
    const k = within === null ? p : within[p]!;
    order[fill[key[k]!]!++] = k;
  }
  return { order, ptr };
}

function gather(nRows: number, nCols: number, o: Ordering, col: Int32Array, value: Float32Array): Csr {
  const n = o.order.length;
  const idx = new Int32Array(n);
  const val = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    const k = o.order[p]!;
    idx[p] = col[k]!;
    val[p] = value[k]!;
  }
  return { nRows, nCols, ptr: o.ptr, idx, val };
}
