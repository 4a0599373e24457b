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

  const rng = new Rng(seed);
  const userBin = binsOf(rng.permutation(nUsers), bins);
  const movieBin = binsOf(rng.permutation(nMovies), bins);
  const userRank = ranksWithinBins(userBin, bins);
  const movieRank = ranksWithinBins(movieBin, bins);

  // Pass 1 (sequential reads, bins² write streams): ratings grouped by block, stably, each
  // carrying its user's and movie's rank within their bins, so pass 2 reads nothing at random.
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
  const order = new Uint32Array(n);
  const userKey = new Uint32Array(n);
  const movieKey = new Uint32Array(n);
  const next = blockStart.slice(0, nBlocks);
  for (let j = 0; j < n; j++) {
    const u = user[j]!;
    const i = movie[j]!;
    const at = next[userBin[u]! * bins + movieBin[i]!]!++;
    order[at] = j;
    userKey[at] = userRank.rank[u]!;
    movieKey[at] = movieRank.rank[i]!;
  }

  // Pass 2, block by block (in cache): by movie rank, then stably by user rank — (user, movie)
  // order, since ranks follow index order within a bin.
  const sorter = new BlockSorter(largest, userRank.largestBin, movieRank.largestBin);
  for (let b = 0; b < nBlocks; b++) {
    const from = blockStart[b]!;
    const to = blockStart[b + 1]!;
    sorter.sort(order, userKey, movieKey, from, to);
    if (interleave > 1) dealUsers(order, userKey, from, to, interleave, sorter.scratch);
  }
  return { order, blockStart, bins, userBin, movieBin };
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
  private readonly ratings: Uint32Array;
  private readonly userKeys: Uint32Array;
  private readonly userCounts: Uint32Array;
  private readonly movieCounts: Uint32Array;

  constructor(largestBlock: number, usersPerBin: number, moviesPerBin: number) {
    this.ratings = new Uint32Array(largestBlock);
    this.userKeys = new Uint32Array(largestBlock);
    this.userCounts = new Uint32Array(usersPerBin + 1);
    this.movieCounts = new Uint32Array(moviesPerBin + 1);
  }

  /** Free space of the largest block's size once a sort has returned. */
  get scratch(): Uint32Array {
    return this.ratings;
  }

  /** Sorts order[from..to) (and userKey alongside; movieKey is left as is). */
  sort(order: Uint32Array, userKey: Uint32Array, movieKey: Uint32Array, from: number, to: number): void {
    const len = to - from;
    if (len < 2) return;
    const { ratings, userKeys } = this;
    const byMovie = prefixCounts(this.movieCounts, movieKey, from, to);
    for (let x = from; x < to; x++) {
      const at = byMovie[movieKey[x]!]!++;
      ratings[at] = order[x]!;
      userKeys[at] = userKey[x]!;
    }
    const byUser = prefixCounts(this.userCounts, userKeys, 0, len);
    for (let x = 0; x < len; x++) {
      const at = from + byUser[userKeys[x]!]!++;
      order[at] = ratings[x]!;
      userKey[at] = userKeys[x]!;
    }
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
