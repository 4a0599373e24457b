// Argument checks shared by the kernels. TypeScript validates everything before a call (with
// messages for people); these checks are the kernel's own guard, returning a status instead of
// reading or writing outside the regions the caller meant. Results of these checks may be OR-ed
// together: the result is STATUS_OK, STATUS_BAD_POINTER (−1, absorbing) or STATUS_BAD_SIZE (−2).
import { STATUS_BAD_POINTER, STATUS_BAD_SIZE, STATUS_OK } from "./status";

/** STATUS_OK when ptr is non-zero and a multiple of align (a power of two), else STATUS_BAD_POINTER. */
// @ts-ignore: decorator
@inline export function checkPtr(ptr: usize, align: usize): i32 {
  return ptr != 0 && (ptr & (align - 1)) == 0 ? STATUS_OK : STATUS_BAD_POINTER;
}

/** Like checkPtr, but 0 is allowed (an optional region). */
// @ts-ignore: decorator
@inline export function checkOptionalPtr(ptr: usize, align: usize): i32 {
  return (ptr & (align - 1)) == 0 ? STATUS_OK : STATUS_BAD_POINTER;
}

/** STATUS_OK when a factor row length is ≥ 0 and a multiple of 4, else STATUS_BAD_SIZE. */
// @ts-ignore: decorator
@inline export function checkStride(stride: i32): i32 {
  return stride >= 0 && (stride & 3) == 0 ? STATUS_OK : STATUS_BAD_SIZE;
}

/** STATUS_OK when a count is ≥ 0, else STATUS_BAD_SIZE. */
// @ts-ignore: decorator
@inline export function checkCount(n: i32): i32 {
  return n >= 0 ? STATUS_OK : STATUS_BAD_SIZE;
}
