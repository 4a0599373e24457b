// Status codes returned by every kernel. This one file is read by both sides:
// the AssemblyScript kernels import it, and src/abi re-exports it for TypeScript.
// Plain integer constants only, so it compiles unchanged under asc and tsc.

export const STATUS_OK = 0;
/** A pointer argument was 0 or not aligned as its dtype requires. */
export const STATUS_BAD_POINTER = -1;
/** A count or dimension argument was negative or zero where a positive value is required. */
export const STATUS_BAD_SIZE = -2;
/** An index read from the input (user, movie, row) was outside its declared range. */
export const STATUS_INDEX_OUT_OF_RANGE = -3;
/** A scalar parameter (learning rate, regularization) was not finite or out of range. */
export const STATUS_BAD_PARAMETER = -4;
/** The computation produced a non-finite value (diverged). */
export const STATUS_DIVERGED = -5;

/** Bumped whenever an export's signature or a memory layout changes. */
export const ABI_VERSION = 1;
