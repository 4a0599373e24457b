// Row arithmetic over f32 factor rows: dot products and axpy, one SIMD path and one scalar twin.
//
//   dot(a, b)      = Σ_f a[f]·b[f]
//   axpy(α, x, y):   y[f] ← y[f] + α·x[f]
//
// Pointers
//   a, b, x : f32[n]  read     (byte offsets, 4-byte aligned; 16-byte aligned rows are faster)
//   y       : f32[n]  written
//   n       : row length in floats, a multiple of 4 (factor rows are padded to a multiple of 4)
//
// Summation order (both paths, so SIMD and scalar give bit-identical results):
//   the row is cut into chunks of 4 floats; chunk c adds into accumulator (c mod 2), lane by lane
//   (lane l of a chunk into lane l of its accumulator); then acc = acc0 + acc1 lane by lane, and
//   dot = (acc[0] + acc[1]) + (acc[2] + acc[3]). Two accumulators halve the add-latency chain.
//   Every operation is a single IEEE f32 multiply or add: no fused multiply-add anywhere.
//
// Concurrency: pure functions of their inputs; y must not be written by another thread meanwhile.
//
// The inline helpers are what other kernels use; vecDot / vecAxpy export them (simd ≠ 0 selects
// the v128 path) so the host can test both paths. vecDot writes its f32 result at outPtr.
import { STATUS_OK } from "./status";
import { checkPtr, checkStride } from "./check";

export function vecDot(aPtr: usize, bPtr: usize, n: i32, simd: i32, outPtr: usize): i32 {
  let status = checkPtr(aPtr, 4) | checkPtr(bPtr, 4) | checkPtr(outPtr, 4);
  if (status != STATUS_OK) return status;
  status = checkStride(n);
  if (status != STATUS_OK) return status;
  store<f32>(outPtr, dot(aPtr, bPtr, n, simd != 0));
  return STATUS_OK;
}

export function vecAxpy(alpha: f32, xPtr: usize, yPtr: usize, n: i32, simd: i32): i32 {
  let status = checkPtr(xPtr, 4) | checkPtr(yPtr, 4);
  if (status != STATUS_OK) return status;
  status = checkStride(n);
  if (status != STATUS_OK) return status;
  axpy(alpha, xPtr, yPtr, n, simd != 0);
  return STATUS_OK;
}

/** SIMD dot product of two f32 rows of length n (a multiple of 4). */
// @ts-ignore: decorator
@inline export function dotSimd(a: usize, b: usize, n: i32): f32 {
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  const end = <usize>n << 2;
  let off: usize = 0;
  for (; off + 32 <= end; off += 32) {
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + off), v128.load(b + off)));
    acc1 = f32x4.add(acc1, f32x4.mul(v128.load(a + off, 16), v128.load(b + off, 16)));
  }
  if (off < end) acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + off), v128.load(b + off)));
  const acc = f32x4.add(acc0, acc1);
  return (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1)) +
    (f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
}

/** Scalar dot product with the same summation order as dotSimd (bit-identical result). */
// @ts-ignore: decorator
@inline export function dotScalar(a: usize, b: usize, n: i32): f32 {
  let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
  let t0: f32 = 0, t1: f32 = 0, t2: f32 = 0, t3: f32 = 0;
  const end = <usize>n << 2;
  let off: usize = 0;
  for (; off + 32 <= end; off += 32) {
    const pa = a + off;
    const pb = b + off;
    s0 += load<f32>(pa, 0) * load<f32>(pb, 0);
    s1 += load<f32>(pa, 4) * load<f32>(pb, 4);
    s2 += load<f32>(pa, 8) * load<f32>(pb, 8);
    s3 += load<f32>(pa, 12) * load<f32>(pb, 12);
    t0 += load<f32>(pa, 16) * load<f32>(pb, 16);
    t1 += load<f32>(pa, 20) * load<f32>(pb, 20);
    t2 += load<f32>(pa, 24) * load<f32>(pb, 24);
    t3 += load<f32>(pa, 28) * load<f32>(pb, 28);
  }
  if (off < end) {
    const pa = a + off;
    const pb = b + off;
    s0 += load<f32>(pa, 0) * load<f32>(pb, 0);
    s1 += load<f32>(pa, 4) * load<f32>(pb, 4);
    s2 += load<f32>(pa, 8) * load<f32>(pb, 8);
    s3 += load<f32>(pa, 12) * load<f32>(pb, 12);
  }
  return ((s0 + t0) + (s1 + t1)) + ((s2 + t2) + (s3 + t3));
}

/** Dot product on the chosen path. */
// @ts-ignore: decorator
@inline export function dot(a: usize, b: usize, n: i32, simd: bool): f32 {
  return simd ? dotSimd(a, b, n) : dotScalar(a, b, n);
}

/** SIMD y ← y + α·x over f32 rows of length n (a multiple of 4). */
// @ts-ignore: decorator
@inline export function axpySimd(alpha: f32, x: usize, y: usize, n: i32): void {
  const va = f32x4.splat(alpha);
  const end = <usize>n << 2;
  for (let off: usize = 0; off < end; off += 16) {
    v128.store(y + off, f32x4.add(v128.load(y + off), f32x4.mul(va, v128.load(x + off))));
  }
}

/** Scalar y ← y + α·x (bit-identical to axpySimd: the same multiply, then the same add, per element). */
// @ts-ignore: decorator
@inline export function axpyScalar(alpha: f32, x: usize, y: usize, n: i32): void {
  const end = <usize>n << 2;
  for (let off: usize = 0; off < end; off += 4) {
    store<f32>(y + off, load<f32>(y + off) + alpha * load<f32>(x + off));
  }
}

/** axpy on the chosen path. */
// @ts-ignore: decorator
@inline export function axpy(alpha: f32, x: usize, y: usize, n: i32, simd: bool): void {
  if (simd) axpySimd(alpha, x, y, n);
  else axpyScalar(alpha, x, y, n);
}
