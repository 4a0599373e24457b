/**
 * The part of the WebAssembly JS API the engine uses. Node 20 provides it at runtime, but
 * @types/node@20 does not declare it and the DOM lib would bring the whole browser with it.
 * A shared memory's buffer is a SharedArrayBuffer.
 */
declare namespace WebAssembly {
  interface Module {}
  var Module: {
    prototype: Module;
    new (bytes: ArrayBufferView | ArrayBuffer): Module;
  };

  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
    shared?: boolean;
  }
  interface Memory {
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
    grow(delta: number): number;
  }
  var Memory: {
    prototype: Memory;
    new (descriptor: MemoryDescriptor): Memory;
  };

  type Imports = Record<string, Record<string, unknown>>;
  interface Instance {
    readonly exports: Record<string, unknown>;
  }
  var Instance: {
    prototype: Instance;
    new (module: Module, imports?: Imports): Instance;
  };

  interface RuntimeError extends Error {}
  var RuntimeError: {
    prototype: RuntimeError;
    new (message?: string): RuntimeError;
  };

  function compile(bytes: ArrayBufferView | ArrayBuffer): Promise<Module>;
}
