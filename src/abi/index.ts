/**
 * The TypeScript ↔ WASM boundary: the only code that touches pointers. Everything else uses the
 * Engine's typed wrappers and arena regions.
 */
export * from "../../assembly/status.js";
export { AbiError, WasmAbortError, loadModule, createMemory, memoryPages, instantiate, formatBytes, PAGE_BYTES, MAX_PAGES } from "./wasm.js";
export type { Build, KernelExports } from "./wasm.js";
export { Arena, BYTES_PER, dtypeOf } from "./arena.js";
export type { Dtype, Region, TypedArrayOf } from "./arena.js";
export { Engine, KernelError, CHUNK_RATINGS } from "./kernels.js";
export type { Coo, FactorModel, SgdParams, PredictParams, PathOptions, RangeOptions, SharedEngine, EngineOptions } from "./kernels.js";
