/**
 * The block grid of ratings for SGD (LIBMF's FPSGD layout; Zhuang et al. 2013, "A fast parallel
 * SGD for matrix factorization in shared memory systems").
 *
 * Users and movies are shuffled by a seeded permutation and cut into `bins` equal bins each;
 * rating (u, i) belongs to block (userBin(u), movieBin(i)), block index userBin·bins + movieBin.
 * Two blocks that share neither a user bin nor a movie bin touch disjoint factor rows, so workers
 * can run them at once without locks. Inside a block, ratings are sorted by (user, movie): the
 * user's row stays in L1 across its run and the block's movie rows stay in L2.
 *
 * At small factor counts a run of one user makes every update wait for the previous one (same
 * p_u row); `interleave` > 1 deals the ratings of that many consecutive users round robin, which
 * breaks the chain and keeps the locality.
 *
 * Everything is counting sorts, O(n + nUsers + nMovies + bins²), and cache-friendly: one pass
 * groups ratings by block (sequential reads), then each block is sorted on its own, in cache.
 * Working memory: the returned order plus two transient n-entry key arrays (12 bytes per rating
 * in all), and buffers the size of the largest block.
 */
import { Rng } from "../data/rng.js";
import { DataError } from "../data/types.js";

export interface Grid {
  /** Rating indices in grid order: block 0's ratings, then block 1's, ... */
  order: Uint32Array;
  /** bins² + 1 offsets into `order`: block b is order[blockStart[b] .. blockStart[b+1]). */
  blockStart: Uint32Array;
  bins: number;
  /** Bin of each user (the block row). */
  userBin: Uint32Array;
  /** Bin of each movie (the block column). */
  movieBin: Uint32Array;
}

export interface GridOptions {
  /** Users whose ratings are dealt round robin within a block (default 1: plain (user, movie) order). */
  interleave?: number;
}

/** Largest bins accepted: bins² blocks of offsets must stay small next to the ratings. */
export const MAX_BINS = 1024;

export function buildGrid(
  user: Int32Array,
  movie: Int32Array,
  nUsers: number,
  nMovies: number,
  bins: number,
  seed: number,
  options: GridOptions = {},
): Grid {
  const n = user.length;
  const index = new Uint32Array(n);
  for (let j = 0; j < n; j++) index[j] = j;
  const order = new Uint32Array(n);
  const layout = arrangeGrid(user, movie, nUsers, nMovies, bins, seed, [[index, order]], options);
  return { order, ...layout };
}

/** A column to lay out: values read from `src` by rating, written to `dst` in grid order. */
export type GridColumn = [src: Int32Array | Uint32Array | Float32Array, dst: Int32Array | Uint32Array | Float32Array];

/**
 * Lays the given columns out in grid order, writing straight into their destinations (e.g. views
 * of the engine's shared memory), with scratch only of the largest block's size: no per-rating
 * index arrays, so a 100M-rating problem needs no memory beyond the destination columns.
 * The user and movie columns are read for the layout; pass them among `columns` to move them too.
 */
export function arrangeGrid(
  user: Int32Array,
  movie: Int32Array,
  nUsers: number,
  nMovies: number,
  bins: number,
  seed: number,
  columns: GridColumn[],
  options: GridOptions = {},
): Omit<Grid, "order"> {
  const n = user.length;
  if (movie.length !== n) throw new DataError(`user has ${n} entries but movie has ${movie.length}`);
  checkCount("nUsers", nUsers);
  checkCount("nMovies", nMovies);
  if (!Number.isInteger(bins) || bins < 1 || bins > MAX_BINS) {
    throw new DataError(`bins must be a whole number in 1..${MAX_BINS}, got ${bins}`);
  }
  const interleave = options.interleave ?? 1;
  if (!Number.isInteger(interleave) || interleave < 1) {
    throw new DataError(`interleave must be a whole number ≥ 1, got ${interleave}`);
  }
  if (n > 0xffffffff) throw new DataError(`${n} ratings: a grid holds at most 2^32 − 1`);
  for (const [src, dst] of columns) {
    if (src.length !== n || dst.length !== n) throw new DataError(`a grid column holds ${src.length} → ${dst.length} entries for ${n} ratings`);
  }

  const rng = new Rng(seed);
  const userBin = binsOf(rng.permutation(nUsers), bins);
  const movieBin = binsOf(rng.permutation(nMovies), bins);
  const userRank = ranksWithinBins(userBin, bins);
  const movieRank = ranksWithinBins(movieBin, bins);

  // Pass 1: ratings per block.
  const nBlocks = bins * bins;
  const blockStart = new Uint32Array(nBlocks + 1);
  for (let j = 0; j < n; j++) {
    const u = user[j]!;
    const i = movie[j]!;
    if (u < 0 || u >= nUsers) throw new DataError(`rating ${j}: user index ${u} is outside 0..${nUsers - 1}`);
    if (i < 0 || i >= nMovies) throw new DataError(`rating ${j}: movie index ${i} is outside 0..${nMovies - 1}`);
    blockStart[userBin[u]! * bins + movieBin[i]! + 1]!++;
  }
  let largest = 0;
  for (let b = 0; b < nBlocks; b++) {
    largest = Math.max(largest, blockStart[b + 1]!);
    blockStart[b + 1]! += blockStart[b]!;
  }

  // Pass 2 (sequential reads, bins² write streams): every column scattered to its block, stably.
  // The user and movie ranks of a block's ratings go to the keys' scratch block by block below.
  const next = blockStart.slice(0, nBlocks);
  const blockOf = new Uint32Array(Math.min(n, 1 << 16));
  for (let from = 0; from < n; from += blockOf.length) {
    const to = Math.min(n, from + blockOf.length);
    for (let j = from; j < to; j++) blockOf[j - from] = userBin[user[j]!]! * bins + movieBin[movie[j]!]!;
    const start = next.slice();
    for (const [src, dst] of columns) {
      const cursor = start.slice();
      for (let j = from; j < to; j++) dst[cursor[blockOf[j - from]!]!++] = src[j]!;
    }
    for (let j = from; j < to; j++) next[blockOf[j - from]!]!++;
  }

  // Pass 3, block by block (in cache): by (user rank, movie rank) — (user, movie) order, since
  // ranks follow index order within a bin — optionally dealing users round robin. The keys are
  // recomputed from the block's own ratings, located through a first column that carries the
  // rating index when the caller moved no user/movie column: see blockKeys.
  const sorter = new BlockSorter(largest, userRank.largestBin, movieRank.largestBin);
  const keysOf = blockKeys(user, movie, columns);
  for (let b = 0; b < nBlocks; b++) {
    const from = blockStart[b]!;
    const to = blockStart[b + 1]!;
    if (to - from < 2) continue;
    keysOf(from, to, sorter.userKeyIn, sorter.movieKeyIn, userRank.rank, movieRank.rank);
    const perm = sorter.sort(to - from);
    if (interleave > 1) dealUsers(perm, sorter.userKeys, 0, to - from, interleave, sorter.scratch);
    for (const [, dst] of columns) sorter.apply(dst, from, to);
  }
  return { blockStart, bins, userBin, movieBin };
}

/**
 * How pass 3 finds each placed rating's user and movie: from destination columns that are the
 * user and movie columns themselves (the trainer moves them), or else through a destination that
 * holds rating indices (buildGrid's order).
 */
function blockKeys(user: Int32Array, movie: Int32Array, columns: GridColumn[]) {
  const uCol = columns.find(([src]) => src === user)?.[1];
  const mCol = columns.find(([src]) => src === movie)?.[1];
  const indexCol = columns.find(([src]) => src instanceof Uint32Array)?.[1];
  if ((!uCol || !mCol) && !indexCol) {
    throw new DataError("arrangeGrid needs the user and movie columns, or a rating-index column, among its columns");
  }
  return (from: number, to: number, uk: Uint32Array, mk: Uint32Array, uRank: Uint32Array, mRank: Uint32Array) => {
    for (let x = from; x < to; x++) {
      const u = uCol ? uCol[x]! : user[indexCol![x]!]!;
      const i = mCol ? mCol[x]! : movie[indexCol![x]!]!;
      uk[x - from] = uRank[u]!;
      mk[x - from] = mRank[i]!;
    }
  };
}

/** dst[j] = src[order[j]] for every j: a column laid out in grid order. */
export function gatherInto<T extends Int32Array | Uint32Array | Float32Array>(src: T, order: Uint32Array, dst: T): T {
  if (dst.length !== order.length) throw new DataError(`destination holds ${dst.length} entries, order has ${order.length}`);
  for (let j = 0; j < order.length; j++) dst[j] = src[order[j]!]!;
  return dst;
}

function checkCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
    throw new DataError(`${name} must be a whole number in 0..2147483647, got ${value}`);
  }
}

/** Bin of each entity from its position in a random permutation: equal-sized bins (±1). */
function binsOf(permutation: Uint32Array, bins: number): Uint32Array {
  const n = permutation.length;
  const out = new Uint32Array(n);
  for (let x = 0; x < n; x++) out[x] = Math.floor((permutation[x]! * bins) / n);
  return out;
}

/** Each entity's rank among the entities of its bin, in index order, and the largest bin's size. */
function ranksWithinBins(binOf: Uint32Array, bins: number): { rank: Uint32Array; largestBin: number } {
  const size = new Uint32Array(bins);
  const rank = new Uint32Array(binOf.length);
  for (let x = 0; x < binOf.length; x++) rank[x] = size[binOf[x]!]!++;
  return { rank, largestBin: Math.max(0, ...size) };
}

/** Sorts one block at a time by (user key, movie key); its buffers are sized once for the largest block. */
class BlockSorter {
  readonly userKeyIn: Uint32Array;
  readonly movieKeyIn: Uint32Array;
  /** The block's user keys in sorted order (after sort). */
  readonly userKeys: Uint32Array;
  private readonly byMovie: Uint32Array;
  private readonly perm: Uint32Array;
  private readonly values: Float64Array;
  private readonly userCounts: Uint32Array;
  private readonly movieCounts: Uint32Array;

  constructor(largestBlock: number, usersPerBin: number, moviesPerBin: number) {
    this.userKeyIn = new Uint32Array(largestBlock);
    this.movieKeyIn = new Uint32Array(largestBlock);
    this.userKeys = new Uint32Array(largestBlock);
    this.byMovie = new Uint32Array(largestBlock);
    this.perm = new Uint32Array(largestBlock);
    this.values = new Float64Array(largestBlock);
    this.userCounts = new Uint32Array(usersPerBin + 1);
    this.movieCounts = new Uint32Array(moviesPerBin + 1);
  }

  /** Free space of the largest block's size once a sort has returned. */
  get scratch(): Uint32Array {
    return this.byMovie;
  }

  /** The permutation (block-local positions) that sorts the keys by (user, movie). */
  sort(len: number): Uint32Array {
    const { userKeyIn, movieKeyIn, byMovie, perm, userKeys } = this;
    const m = prefixCounts(this.movieCounts, movieKeyIn, 0, len);
    for (let x = 0; x < len; x++) byMovie[m[movieKeyIn[x]!]!++] = x;
    const u = prefixCounts(this.userCounts, userKeyIn, 0, len);
    for (let k = 0; k < len; k++) {
      const x = byMovie[k]!;
      const at = u[userKeyIn[x]!]!++;
      perm[at] = x;
      userKeys[at] = userKeyIn[x]!;
    }
    return perm;
  }

  /** Reorders dst[from..to) by the last permutation. */
  apply(dst: Int32Array | Uint32Array | Float32Array, from: number, to: number): void {
    const { perm, values } = this;
    const len = to - from;
    for (let k = 0; k < len; k++) values[k] = dst[from + perm[k]!]!;
    for (let k = 0; k < len; k++) dst[from + k] = values[k]!;
  }
}

/** Fills counts with the start offset of each key value among keys[from..to), relative to from. */
function prefixCounts(counts: Uint32Array, keys: Uint32Array, from: number, to: number): Uint32Array {
  counts.fill(0);
  for (let x = from; x < to; x++) counts[keys[x]! + 1]!++;
  for (let k = 1; k < counts.length; k++) counts[k]! += counts[k - 1]!;
  return counts;
}

/**
 * Within order[from..to) (sorted by user, with each rating's user key alongside), deals the
 * ratings of each group of `group` consecutive users round robin: u1 r1, u2 r1, u3 r1, u1 r2, ...
 * (users that run out drop out). `scratch` holds at least to − from entries.
 */
function dealUsers(order: Uint32Array, userKey: Uint32Array, from: number, to: number, group: number, scratch: Uint32Array): void {
  const len = to - from;
  scratch.set(order.subarray(from, to));
  const runStart: number[] = [];
  let at = 0;
  while (at < len) {
    runStart.length = 0;
    let end = at;
    while (end < len && runStart.length < group) {
      runStart.push(end);
      const key = userKey[from + end];
      while (end < len && userKey[from + end] === key) end++;
    }
    runStart.push(end);
    const cursor = runStart.slice(0, -1);
    let write = from + at;
    while (write < from + end) {
      for (let r = 0; r < cursor.length; r++) {
        if (cursor[r]! < runStart[r + 1]!) order[write++] = scratch[cursor[r]!++]!;
      }
    }
    at = end;
  }
}

/**
 * New row numbers that make each bin's entities contiguous, bin after bin, in index order within
 * a bin: order[x] is entity x's row. With ratings renumbered this way (remapColumn), a block's
 * users are consecutive rows of P and its movies consecutive rows of Q, and since blocks are
 * sorted by (user, movie) the kernel sweeps P forward row after row instead of striding across
 * the whole matrix — what the hardware prefetcher streams best.
 */
export function binRowOrder(binOf: Uint32Array, bins: number): Int32Array {
  const start = new Uint32Array(bins + 1);
  for (let x = 0; x < binOf.length; x++) start[binOf[x]! + 1]!++;
  for (let b = 0; b < bins; b++) start[b + 1]! += start[b]!;
  const order = new Int32Array(binOf.length);
  for (let x = 0; x < binOf.length; x++) order[x] = start[binOf[x]!]!++;
  return order;
}

/** col[k] = order[col[k]] for every k. */
export function remapColumn(col: Int32Array, order: Int32Array): void {
  for (let k = 0; k < col.length; k++) col[k] = order[col[k]!]!;
}

/**
 * Moves rows back from their renumbered places: afterwards row x of `m` (rows of `stride` values)
 * holds what row order[x] held. In place, following the permutation's cycles with one spare row.
 */
export function unpermuteRows(m: Float32Array, stride: number, order: Int32Array): void {
  const n = order.length;
  if (stride === 0 || n === 0) return;
  const done = new Uint8Array(n);
  const spare = new Float32Array(stride);
  for (let x = 0; x < n; x++) {
    if (done[x] || order[x] === x) continue;
    // Cycle x ← order[x] ← order[order[x]] ...: save row x, pull each source into its target.
    spare.set(m.subarray(x * stride, (x + 1) * stride));
    let to = x;
    for (;;) {
      done[to] = 1;
      const from = order[to]!;
      if (from === x) {
        m.set(spare, to * stride);
        break;
      }
      m.copyWithin(to * stride, from * stride, (from + 1) * stride);
      to = from;
    }
  }
}
