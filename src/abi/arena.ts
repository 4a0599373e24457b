/**
 * The arena: a 16-byte-aligned bump allocator over the shared memory, starting above the
 * module's heap base. TypeScript owns every region the kernels read or write; the kernels never
 * allocate. Regions are freed together by resetting to a mark.
 *
 * Views are borrowed: `view()`, `f32()`, ... build a fresh typed array over `memory.buffer` on
 * each call, so a view never outlives a grow. Do not keep one across an await or an alloc.
 *
 * Only the thread that created the memory allocates (the "owner"); workers get a non-owner
 * arena for views over regions they received in task messages. The memory grows only when an
 * allocation needs it, and never while a task runs (see beginTask/endTask).
 *
 * Offsets may exceed 2 GiB: they are handled with arithmetic only, never bit operators.
 */
import { AbiError, formatBytes, MAX_PAGES, PAGE_BYTES } from "./wasm.js";

export type Dtype = "f32" | "f64" | "i32" | "u32" | "u8";

export interface TypedArrayOf {
  f32: Float32Array;
  f64: Float64Array;
  i32: Int32Array;
  u32: Uint32Array;
  u8: Uint8Array;
}

/** A typed array living in the shared memory: `length` elements of `dtype` at byte offset `ptr`. */
export interface Region<D extends Dtype = Dtype> {
  readonly ptr: number;
  readonly length: number;
  readonly dtype: D;
}

export const BYTES_PER: Readonly<Record<Dtype, number>> = { f32: 4, f64: 8, i32: 4, u32: 4, u8: 1 };

const CONSTRUCTORS = {
  f32: Float32Array,
  f64: Float64Array,
  i32: Int32Array,
  u32: Uint32Array,
  u8: Uint8Array,
} as const;

/** The dtype of a typed array, or null for a kind the kernels do not use. */
export function dtypeOf(array: ArrayBufferView): Dtype | null {
  if (array instanceof Float32Array) return "f32";
  if (array instanceof Float64Array) return "f64";
  if (array instanceof Int32Array) return "i32";
  if (array instanceof Uint32Array) return "u32";
  if (array instanceof Uint8Array) return "u8";
  return null;
}

const ALIGN = 16;
const FOUR_GIB = MAX_PAGES * PAGE_BYTES;

export class Arena {
  private topOffset: number;
  private running = 0;

  /**
   * @param memory   the shared memory
   * @param base     first byte the arena may use (the module's heap base, 16-byte aligned)
   * @param maximumBytes the memory's maximum size (fixed when it was created)
   * @param owner    whether this thread allocates (the thread that created the memory)
   */
  constructor(
    readonly memory: WebAssembly.Memory,
    readonly base: number,
    readonly maximumBytes: number,
    readonly owner: boolean,
  ) {
    if (base % ALIGN !== 0) throw new AbiError(`arena base ${base} is not ${ALIGN}-byte aligned`);
    this.topOffset = base;
  }

  /** First free byte. */
  get top(): number {
    return this.topOffset;
  }

  /** Bytes in use above the base. */
  get used(): number {
    return this.topOffset - this.base;
  }

  /** Reserves `bytes` (rounded up to 16) and returns the byte offset; contents are not cleared. */
  alloc(bytes: number): number {
    if (!this.owner) {
      throw new AbiError("only the thread that created the memory allocates; workers use the regions they are sent");
    }
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new AbiError(`an allocation is a whole number of bytes ≥ 0, got ${bytes}`);
    }
    const ptr = this.topOffset;
    const end = ptr + Math.ceil(bytes / ALIGN) * ALIGN;
    if (end > this.memory.buffer.byteLength) this.growTo(end, bytes);
    this.topOffset = end;
    return ptr;
  }

  /** A region of `length` elements (contents not cleared). */
  array<D extends Dtype>(dtype: D, length: number): Region<D> {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new AbiError(`a region length is a whole number ≥ 0, got ${length}`);
    }
    return { ptr: this.alloc(length * BYTES_PER[dtype]), length, dtype };
  }

  /** A region of `length` zeroed elements. */
  zeros<D extends Dtype>(dtype: D, length: number): Region<D> {
    const region = this.array(dtype, length);
    this.view(region).fill(0);
    return region;
  }

  /** Copies a typed array into a new region of the matching dtype. */
  copyIn(src: Float32Array): Region<"f32">;
  copyIn(src: Float64Array): Region<"f64">;
  copyIn(src: Int32Array): Region<"i32">;
  copyIn(src: Uint32Array): Region<"u32">;
  copyIn(src: Uint8Array): Region<"u8">;
  copyIn<D extends Dtype>(src: TypedArrayOf[D]): Region<D>;
  copyIn(src: TypedArrayOf[Dtype]): Region {
    const dtype = dtypeOf(src);
    if (dtype === null) throw new AbiError(`cannot copy a ${src.constructor.name} into the arena`);
    const region = this.array(dtype, src.length);
    this.view(region).set(src as never);
    return region;
  }

  /** A fresh view over a region (borrowed: do not keep it across an await or an allocation). */
  view<D extends Dtype>(region: Region<D>): TypedArrayOf[D] {
    return this.typed(region.dtype, region.ptr, region.length);
  }

  /** A copy of a region's contents, owned by the caller. */
  copyOut<D extends Dtype>(region: Region<D>): TypedArrayOf[D] {
    return this.view(region).slice() as TypedArrayOf[D];
  }

  f32(ptr: number, n: number): Float32Array {
    return this.typed("f32", ptr, n);
  }

  f64(ptr: number, n: number): Float64Array {
    return this.typed("f64", ptr, n);
  }

  i32(ptr: number, n: number): Int32Array {
    return this.typed("i32", ptr, n);
  }

  u32(ptr: number, n: number): Uint32Array {
    return this.typed("u32", ptr, n);
  }

  u8(ptr: number, n: number): Uint8Array {
    return this.typed("u8", ptr, n);
  }

  /** The current top, to free everything allocated after it with reset(). */
  mark(): number {
    return this.topOffset;
  }

  /** Frees every region allocated since `mark` (the memory itself does not shrink). */
  reset(mark: number): void {
    if (!Number.isSafeInteger(mark) || mark < this.base || mark > this.topOffset || mark % ALIGN !== 0) {
      throw new AbiError(`reset(${mark}): not a mark of this arena (valid: ${this.base}..${this.topOffset})`);
    }
    this.topOffset = mark;
  }

  /** Declares that a task (in any thread) is using the memory: growing is refused until endTask. */
  beginTask(): void {
    this.running++;
  }

  endTask(): void {
    if (this.running === 0) throw new AbiError("endTask() without a matching beginTask()");
    this.running--;
  }

  /** Tasks currently declared with beginTask. */
  get tasksRunning(): number {
    return this.running;
  }

  private typed<D extends Dtype>(dtype: D, ptr: number, n: number): TypedArrayOf[D] {
    const size = BYTES_PER[dtype];
    const buffer = this.memory.buffer;
    if (!Number.isSafeInteger(ptr) || ptr < 0 || ptr % size !== 0) {
      throw new AbiError(`a ${dtype} view needs a byte offset ≥ 0 aligned to ${size}, got ${ptr}`);
    }
    if (!Number.isSafeInteger(n) || n < 0 || ptr + n * size > buffer.byteLength) {
      throw new AbiError(
        `a ${dtype} view of ${n} elements at ${ptr} does not fit in the ${formatBytes(buffer.byteLength)} memory`,
      );
    }
    const View = CONSTRUCTORS[dtype] as unknown as new (b: ArrayBufferLike, at: number, n: number) => TypedArrayOf[D];
    return new View(buffer, ptr, n);
  }

  private growTo(end: number, requested: number): void {
    if (end > FOUR_GIB) {
      throw new AbiError(
        `cannot allocate ${formatBytes(requested)}: with ${formatBytes(this.used)} in use, at most ` +
          `${formatBytes(FOUR_GIB - this.topOffset)} more would fit in the 4 GiB a wasm32 memory can address`,
        "use fewer factors, fewer ratings, or process the data in parts",
      );
    }
    if (end > this.maximumBytes) {
      throw new AbiError(
        `cannot allocate ${formatBytes(requested)}: with ${formatBytes(this.used)} in use, at most ` +
          `${formatBytes(Math.max(0, this.maximumBytes - this.topOffset))} more would fit below the memory's maximum ` +
          `of ${formatBytes(this.maximumBytes)}`,
        `create the engine with a maximum of at least ${formatBytes(end)}`,
      );
    }
    if (this.running > 0) {
      throw new AbiError(`cannot grow the memory while ${this.running} task(s) run; allocate before starting them`);
    }
    const have = this.memory.buffer.byteLength;
    this.memory.grow(Math.ceil((end - have) / PAGE_BYTES));
  }
}
