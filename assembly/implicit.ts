// The implicit-feedback passes of SVD++ and timeSVD++ on the block grid (the ratings in COO, laid
// out block by block as for mf; see src/engine/grid.ts). N(u), the movies user u rated, enters the
// model as z_u = |N(u)|^−½ Σ_{j∈N(u)} y_j. An epoch runs the user bins in waves (groups of user
// bins, see src/engine/implicit-grid.ts), and for the users of each wave:
//
//   implicitSums      (per user range)   z_u = s_u·Σ_{j∈N(u)} y_j,  z0_u = z_u   [out_u = p_u + z_u]
//   svdppBlock / timeSvdppBlock (per block, FPSGD)  the rating updates, each moving its user's
//                     z_u by z ← (1 − lrY·regY)·z + (lrY·e)·q_i, as the paper's per-rating y_j
//                     updates move the implicit sum (see svdpp.ts)
//   implicitDelta     (per user range)   K_u = (1 − lrY·regY)^{m_u},  D_u = s_u·(z_u − K_u·z0_u)
//   implicitScatter   (per block column) y_j ← K_u·y_j + D_u  for every rating (u, j)
//
// with s_u = |N(u)|^−½ (0 when N(u) is empty) and m_u = |N(u)|, the user's rating count. After a
// user's m ratings, the per-rating updates leave every y_j, j ∈ N(u), at K_u·y_j + D_u: the
// scatter applies exactly that, user after user in grid order, once the wave's blocks have run.
// So y_j moves once per wave and z_u is computed from Y as the wave starts (Koren's algorithm
// moves y_j after each user); on the MovieLens 100K folds both reach a mean RMSE of 0.899–0.900.
// Because each pass writes only rows its range owns, every pass runs in parallel without locks:
// implicitSums and implicitDelta write the rows of their users, the block updates follow LIBMF's
// scheduler, and implicitScatter writes the y_j of its block column.
//
// Pointers (byte offsets)
//   user, movie : i32[nRatings]   read   the ratings in grid order (0 ≤ u < nUsers, 0 ≤ j < nMovies)
//   count       : i32[nUsers]     read   m_u = |N(u)|
//   Y           : f32[nMovies × stride]  read (sums), written (scatter)
//   Z, Z0       : f32[nUsers × stride]   written (sums), read (delta: Z read, Z0 overwritten with D)
//   P, out      : f32[nUsers × stride]   read / written (sums, when outPtr ≠ 0)
//   keep        : f32[nUsers]     written (delta), read (scatter)
//   stride      : floats per row, a multiple of 4 (padding lanes stay 0)
//
// Summation order: implicitSums adds the y rows of the ratings start..end in order into z_u with
// vec.ts's axpy, then scales by s_u (one f32 multiply per element). SIMD and scalar paths do the
// same operations per element, so their results are bit-identical.
//
// Returns STATUS_OK; STATUS_INDEX_OUT_OF_RANGE at a user outside u0..u1−1 (sums), or a user or
// movie index out of range (rows before it stay updated); STATUS_BAD_POINTER / STATUS_BAD_SIZE.
import { STATUS_INDEX_OUT_OF_RANGE, STATUS_OK } from "./status";
import { checkCount, checkOptionalPtr, checkPtr, checkStride } from "./check";
import { axpy } from "./vec";

/** s = m^−½, 0 for m = 0. */
// @ts-ignore: decorator
@inline export function invSqrt(m: i32): f32 {
  return m > 0 ? 1 / Mathf.sqrt(<f32>m) : 0;
}

/** row ← s·row, one f32 multiply per element on either path. */
// @ts-ignore: decorator
@inline export function scaleRow(row: usize, s: f32, rowBytes: usize, simd: bool): void {
  if (simd) {
    const sv = f32x4.splat(s);
    for (let f: usize = 0; f < rowBytes; f += 16) v128.store(row + f, f32x4.mul(sv, v128.load(row + f)));
  } else {
    for (let f: usize = 0; f < rowBytes; f += 4) store<f32>(row + f, s * load<f32>(row + f));
  }
}

/**
 * z_u = s_u·Σ y_j over the ratings start..end, for the users u0..u1−1 (every rating of the range
 * must belong to one of them; their z rows are zeroed first), z0_u = z_u, and out_u = p_u + z_u
 * when outPtr ≠ 0.
 */
export function implicitSums(
  u0: i32, u1: i32, start: i32, end: i32, userPtr: usize, moviePtr: usize, nUsers: i32, nMovies: i32,
  countPtr: usize, yPtr: usize, zPtr: usize, z0Ptr: usize, pPtr: usize, outPtr: usize, stride: i32, simd: i32,
): i32 {
  let status = checkPtr(userPtr, 4) | checkPtr(moviePtr, 4) | checkPtr(countPtr, 4) | checkPtr(yPtr, 4) |
    checkPtr(zPtr, 4) | checkPtr(z0Ptr, 4) | checkOptionalPtr(outPtr, 4) | checkCount(nUsers) | checkCount(nMovies) |
    checkStride(stride);
  if (status != STATUS_OK) return status;
  if (outPtr != 0) status = checkPtr(pPtr, 4);
  if (status != STATUS_OK) return status;
  if (u0 < 0 || u1 < u0 || u1 > nUsers || start < 0 || end < start) return STATUS_INDEX_OUT_OF_RANGE;
  const useSimd = simd != 0;
  const rowBytes = <usize>stride << 2;
  memory.fill(zPtr + <usize>u0 * rowBytes, 0, <usize>(u1 - u0) * rowBytes);
  for (let r = start; r < end; r++) {
    const at = <usize>r << 2;
    const u = load<i32>(userPtr + at);
    const j = load<i32>(moviePtr + at);
    if (u < u0 || u >= u1 || <u32>j >= <u32>nMovies) return STATUS_INDEX_OUT_OF_RANGE;
    axpy(1, yPtr + <usize>j * rowBytes, zPtr + <usize>u * rowBytes, stride, useSimd);
  }
  for (let u = u0; u < u1; u++) {
    const off = <usize>u * rowBytes;
    const z = zPtr + off;
    scaleRow(z, invSqrt(load<i32>(countPtr + (<usize>u << 2))), rowBytes, useSimd);
    memory.copy(z0Ptr + off, z, rowBytes);
    if (outPtr != 0) {
      memory.copy(outPtr + off, pPtr + off, rowBytes);
      axpy(1, z, outPtr + off, stride, useSimd);
    }
  }
  return STATUS_OK;
}

/** For users u0..u1−1: keep_u = keepY^{m_u}, Z0_u ← s_u·(Z_u − keep_u·Z0_u). */
export function implicitDelta(
  u0: i32, u1: i32, nUsers: i32, countPtr: usize, zPtr: usize, z0Ptr: usize, keepPtr: usize, stride: i32, keepY: f32, simd: i32,
): i32 {
  const status = checkPtr(countPtr, 4) | checkPtr(zPtr, 4) | checkPtr(z0Ptr, 4) | checkPtr(keepPtr, 4) |
    checkCount(nUsers) | checkStride(stride);
  if (status != STATUS_OK) return status;
  if (u0 < 0 || u1 < u0 || u1 > nUsers) return STATUS_INDEX_OUT_OF_RANGE;
  const rowBytes = <usize>stride << 2;
  for (let u = u0; u < u1; u++) {
    const m = load<i32>(countPtr + (<usize>u << 2));
    if (m < 0) return STATUS_INDEX_OUT_OF_RANGE;
    const keep = Mathf.pow(keepY, <f32>m);
    const s = invSqrt(m);
    store<f32>(keepPtr + (<usize>u << 2), keep);
    const z = zPtr + <usize>u * rowBytes;
    const d = z0Ptr + <usize>u * rowBytes;
    if (simd != 0) {
      const kv = f32x4.splat(keep);
      const sv = f32x4.splat(s);
      for (let f: usize = 0; f < rowBytes; f += 16) {
        v128.store(d + f, f32x4.mul(sv, f32x4.sub(v128.load(z + f), f32x4.mul(kv, v128.load(d + f)))));
      }
    } else {
      for (let f: usize = 0; f < rowBytes; f += 4) store<f32>(d + f, s * (load<f32>(z + f) - keep * load<f32>(d + f)));
    }
  }
  return STATUS_OK;
}

/** y_j ← keep_u·y_j + D_u (D in Z0) for the ratings start..end, in order. */
export function implicitScatter(
  start: i32, end: i32, userPtr: usize, moviePtr: usize, nUsers: i32, nMovies: i32,
  keepPtr: usize, dPtr: usize, yPtr: usize, stride: i32, simd: i32,
): i32 {
  const status = checkPtr(userPtr, 4) | checkPtr(moviePtr, 4) | checkPtr(keepPtr, 4) | checkPtr(dPtr, 4) |
    checkPtr(yPtr, 4) | checkCount(nUsers) | checkCount(nMovies) | checkStride(stride);
  if (status != STATUS_OK) return status;
  if (start < 0 || end < start) return STATUS_INDEX_OUT_OF_RANGE;
  const rowBytes = <usize>stride << 2;
  for (let r = start; r < end; r++) {
    const at = <usize>r << 2;
    const u = load<i32>(userPtr + at);
    const j = load<i32>(moviePtr + at);
    if (<u32>u >= <u32>nUsers || <u32>j >= <u32>nMovies) return STATUS_INDEX_OUT_OF_RANGE;
    const keep = load<f32>(keepPtr + (<usize>u << 2));
    const d = dPtr + <usize>u * rowBytes;
    const y = yPtr + <usize>j * rowBytes;
    if (simd != 0) {
      const kv = f32x4.splat(keep);
      for (let f: usize = 0; f < rowBytes; f += 16) v128.store(y + f, f32x4.add(f32x4.mul(kv, v128.load(y + f)), v128.load(d + f)));
    } else {
      for (let f: usize = 0; f < rowBytes; f += 4) store<f32>(y + f, keep * load<f32>(y + f) + load<f32>(d + f));
    }
  }
  return STATUS_OK;
}
