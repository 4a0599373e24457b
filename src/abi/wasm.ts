/**
 * Loading the kernel module: compile build/movierec.wasm once per process (the compiled
 * `WebAssembly.Module` is cached and can be sent to workers), create the one shared memory,
 * and instantiate the module against it with an `env.abort` that throws.
 */
import { readFile } from "node:fs/promises";
import { ABI_VERSION } from "../../assembly/status.js";

/** An error at the TypeScript ↔ WASM boundary: a bad argument, a module mismatch, a full arena. */
export class AbiError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = "AbiError";
  }
}

/** The module called `env.abort` (a failed assertion in a debug build): message, file and line. */
export class WasmAbortError extends AbiError {
  constructor(readonly wasmMessage: string, readonly file: string, readonly line: number, readonly column: number) {
    super(`wasm abort: ${wasmMessage} (${file}:${line}:${column})`);
    this.name = "WasmAbortError";
  }
}

/** Bytes per WebAssembly page. */
export const PAGE_BYTES = 65536;
/** The wasm32 limit: 65536 pages = 4 GiB. */
export const MAX_PAGES = 65536;

/** The exports of build/movierec.wasm (see assembly/index.ts). Pointers are byte offsets. */
export interface KernelExports {
  abiVersion(): number;
  heapBase(): number;
  abortProbe(): void;
  vecDot(aPtr: number, bPtr: number, n: number, simd: number, outPtr: number): number;
  vecAxpy(alpha: number, xPtr: number, yPtr: number, n: number, simd: number): number;
  sgdEpoch(
    userPtr: number, moviePtr: number, ratingPtr: number, n: number, nUsers: number, nMovies: number,
    pPtr: number, qPtr: number, buPtr: number, biPtr: number, stride: number,
    mu: number, lrBu: number, lrBi: number, lrP: number, lrQ: number,
    regBu: number, regBi: number, regP: number, regQ: number, simd: number, outSsePtr: number,
  ): number;
  biasResidualSums(
    keyPtr: number, otherPtr: number, ratingPtr: number, n: number, nKey: number, nOther: number,
    otherBiasPtr: number, mu: number, sumsPtr: number, countsPtr: number,
  ): number;
  biasSolve(nKey: number, reg: number, sumsPtr: number, countsPtr: number, keyBiasPtr: number): number;
  predictPairs(
    userPtr: number, moviePtr: number, n: number, nUsers: number, nMovies: number,
    pPtr: number, qPtr: number, buPtr: number, biPtr: number, stride: number,
    mu: number, lo: number, hi: number, outPtr: number, simd: number,
  ): number;
  scoreUser(
    u: number, nUsers: number, pPtr: number, qPtr: number, buPtr: number, biPtr: number,
    nMovies: number, stride: number, mu: number, outPtr: number, simd: number,
  ): number;
  sse(
    userPtr: number, moviePtr: number, ratingPtr: number, n: number, nUsers: number, nMovies: number,
    pPtr: number, qPtr: number, buPtr: number, biPtr: number, stride: number,
    mu: number, lo: number, hi: number, simd: number, outSsePtr: number,
  ): number;
  topN(scoresPtr: number, n: number, excludePtr: number, k: number, outIdxPtr: number, outScorePtr: number): number;
  // similarity and neighbourhoods
  coAccumulate(
    keyOtherPtr: number, keyCrossPtr: number, nKey: number,
    otherPtrPtr: number, otherIdxPtr: number, otherValPtr: number, nOther: number, nCols: number,
    layout: number, upper: number, accPtr: number, simd: number,
  ): number;
  similarityFinalize(
    accPtr: number, nCols: number, c0: number, c1: number, kind: number, minSupport: number, shrinkage: number,
    outPtr: number, maskPtr: number,
  ): number;
  similarityRows(
    rowsPtr: number, nRows: number, keyPtrPtr: number, keyOtherPtr: number, keyCrossPtr: number, nKeys: number,
    otherPtrPtr: number, otherIdxPtr: number, otherValPtr: number, nOther: number, nCols: number,
    kind: number, minSupport: number, shrinkage: number,
    accPtr: number, outPtr: number, dense: number, maskPtr: number, k: number, outIdxPtr: number, outScorePtr: number, simd: number,
  ): number;
  similarityUpper(
    r0: number, r1: number, keyPtrPtr: number, keyOtherPtr: number, keyCrossPtr: number,
    otherPtrPtr: number, otherIdxPtr: number, otherValPtr: number, nOther: number, n: number,
    kind: number, minSupport: number, shrinkage: number, accPtr: number, triPtr: number, simd: number,
  ): number;
  triangleTopK(
    r0: number, r1: number, n: number, triPtr: number, rowsPtr: number, maskPtr: number, k: number,
    outIdxPtr: number, outScorePtr: number,
  ): number;
  knnAggregate(
    simPtr: number, nSim: number, candPtrPtr: number, candIdxPtr: number, candValPtr: number, nY: number,
    ysPtr: number, n: number, k: number, heapSimPtr: number, heapValPtr: number,
    outNumPtr: number, outDenPtr: number, outCountPtr: number,
  ): number;
  slopeOneRows(
    r0: number, r1: number, keyPtrPtr: number, keyOtherPtr: number, keyCrossPtr: number,
    otherPtrPtr: number, otherIdxPtr: number, otherValPtr: number, nUsers: number, nMovies: number,
    accPtr: number, devPtr: number, countPtr: number, simd: number,
  ): number;
  slopeOnePredict(
    usPtr: number, isPtr: number, nPairs: number, userPtrPtr: number, userIdxPtr: number, userValPtr: number,
    nUsers: number, nMovies: number, devPtr: number, countPtr: number, minSupport: number, weighted: number,
    outNumPtr: number, outDenPtr: number,
  ): number;
  svdppBlock(
    userPtr: number, moviePtr: number, ratingPtr: number, n: number, nUsers: number, nMovies: number,
    pPtr: number, qPtr: number, zPtr: number, buPtr: number, biPtr: number, stride: number,
    mu: number, lrBu: number, lrBi: number, lrP: number, lrQ: number, lrY: number,
    regBu: number, regBi: number, regP: number, regQ: number, regY: number, simd: number, outSsePtr: number,
  ): number;
  implicitSums(
    u0: number, u1: number, start: number, end: number, userPtr: number, moviePtr: number, nUsers: number, nMovies: number,
    countPtr: number, yPtr: number, zPtr: number, z0Ptr: number, pPtr: number, outPtr: number, stride: number, simd: number,
  ): number;
  implicitDelta(
    u0: number, u1: number, nUsers: number, countPtr: number, zPtr: number, z0Ptr: number, keepPtr: number,
    stride: number, keepY: number, simd: number,
  ): number;
  implicitScatter(
    start: number, end: number, userPtr: number, moviePtr: number, nUsers: number, nMovies: number,
    keepPtr: number, dPtr: number, yPtr: number, stride: number, simd: number,
  ): number;
  svdppUserVectors(
    impPtrPtr: number, impIdxPtr: number, nImplicit: number, nUsers: number, nMovies: number,
    pPtr: number, yPtr: number, stride: number, outPtr: number, simd: number,
  ): number;
  timeSvdppBlock(
    userPtr: number, moviePtr: number, ratingPtr: number, dayPtr: number, n: number,
    nUsers: number, nMovies: number, nDays: number, nBins: number, dayBinPtr: number, dayDevPtr: number,
    pPtr: number, apPtr: number, qPtr: number, zPtr: number, stride: number,
    buPtr: number, alphaPtr: number, cuPtr: number, biPtr: number, biBinPtr: number, butPtr: number, cutPtr: number,
    mu: number, hyperPtr: number, simd: number, outSsePtr: number,
  ): number;
  timeSvdppPredict(
    userPtr: number, moviePtr: number, dayPtr: number, binPtr: number, devPtr: number, n: number,
    nUsers: number, nMovies: number, nDays: number, nBins: number, uPtr: number, apPtr: number, qPtr: number, stride: number,
    buPtr: number, alphaPtr: number, cuPtr: number, biPtr: number, biBinPtr: number, butPtr: number, cutPtr: number,
    mu: number, lo: number, hi: number, workPtr: number, outPtr: number, simd: number,
  ): number;
}

/** Which build to load: the optimized one, or the one with assertions (abort on a broken invariant). */
export type Build = "release" | "debug";

const WASM_FILES: Record<Build, URL> = {
  // From dist/src/abi/wasm.js the build folder is three levels up.
  release: new URL("../../../build/movierec.wasm", import.meta.url),
  debug: new URL("../../../build/movierec.debug.wasm", import.meta.url),
};

const compiled = new Map<Build, Promise<WebAssembly.Module>>();

/** Compiles the kernel module once per process and build; later calls return the same Module. */
export function loadModule(build: Build = "release"): Promise<WebAssembly.Module> {
  let module = compiled.get(build);
  if (!module) {
    const file = WASM_FILES[build];
    module = readFile(file).then(
      (bytes) => WebAssembly.compile(bytes),
      (err: NodeJS.ErrnoException) => {
        throw new AbiError(`cannot read the kernel module ${file.pathname}: ${err.code ?? err.message}`,
          "build it with `npm run build:wasm`");
      },
    );
    // A failed load is not cached, so a later call can retry after the file is built.
    module.catch(() => compiled.delete(build));
    compiled.set(build, module);
  }
  return module;
}

/** Pages needed for `bytes` (at least 1). */
export function pagesFor(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / PAGE_BYTES));
}

/**
 * Page counts for a memory of `bytes` now, growable up to `maximumBytes` (default: `bytes`):
 * both rounded up to whole pages, the maximum never below the initial size and capped at 4 GiB.
 */
export function memoryPages(bytes: number, maximumBytes = bytes): { initial: number; maximum: number } {
  if (!Number.isFinite(bytes) || bytes < 0) throw new AbiError(`memory size must be a byte count ≥ 0, got ${bytes}`);
  if (!Number.isFinite(maximumBytes) || maximumBytes < 0) {
    throw new AbiError(`memory maximum must be a byte count ≥ 0, got ${maximumBytes}`);
  }
  const initial = pagesFor(bytes);
  if (initial > MAX_PAGES) {
    throw new AbiError(`a memory of ${formatBytes(bytes)} does not fit in the 4 GiB a wasm32 memory can address`);
  }
  return { initial, maximum: Math.min(MAX_PAGES, Math.max(initial, pagesFor(maximumBytes))) };
}

/** The shared memory every thread's instance uses, sized by memoryPages(bytes, maximumBytes). */
export function createMemory(bytes: number, maximumBytes = bytes): WebAssembly.Memory {
  return new WebAssembly.Memory({ ...memoryPages(bytes, maximumBytes), shared: true });
}

/**
 * Instantiates the module against a shared memory (in this thread), runs its start function
 * and checks its ABI version. An `env.abort` from the module throws WasmAbortError.
 */
export function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  const env = {
    memory,
    abort(messagePtr: number, filePtr: number, line: number, column: number): never {
      throw new WasmAbortError(
        readString(memory, messagePtr) ?? "(no message)",
        readString(memory, filePtr) ?? "(unknown file)",
        line >>> 0,
        column >>> 0,
      );
    },
  };
  const instance = new WebAssembly.Instance(module, { env });
  const exports = instance.exports as unknown as KernelExports & { _initialize?: () => void };
  exports._initialize?.();
  const version = exports.abiVersion();
  if (version !== ABI_VERSION) {
    throw new AbiError(`the kernel module has ABI version ${version}, this code expects ${ABI_VERSION}`,
      "rebuild with `npm run build`");
  }
  return exports;
}

/** Reads an AssemblyScript string (UTF-16LE, byte length in the u32 before it); null for 0 or garbage. */
function readString(memory: WebAssembly.Memory, ptr: number): string | null {
  const at = ptr >>> 0;
  const buffer = memory.buffer;
  if (at < 4 || at % 2 !== 0 || at > buffer.byteLength) return null;
  const bytes = new Uint32Array(buffer.slice(at - 4, at))[0]!;
  if (bytes % 2 !== 0 || at + bytes > buffer.byteLength || bytes > 1 << 16) return null;
  return String.fromCharCode(...new Uint16Array(buffer.slice(at, at + bytes)));
}

/** "1.5 GiB", "300.0 MiB", "12 bytes": sizes in messages. */
export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  if (bytes >= 2 ** 10) return `${(bytes / 2 ** 10).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}
