/** Assertions the kernel tests share: f32 kernels against f64 references, and bit-identical paths. */
import * as assert from "uvu/assert";

/** |a − b| ≤ 1e-5·|b| + 1e-6 element by element (f32 kernel against an f64 reference). */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  for (let x = 0; x < expected.length; x++) {
    const a = actual[x]!;
    const b = expected[x]!;
    if (!(Math.abs(a - b) <= 1e-5 * Math.abs(b) + 1e-6)) assert.unreachable(`${what}[${x}]: got ${a}, expected ${b}`);
  }
}

/** The same float32 bits, element by element (SIMD against scalar, worker against main thread). */
export function assertSameBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(new Uint32Array(a.buffer, a.byteOffset, a.length), new Uint32Array(b.buffer, b.byteOffset, b.length), what);
}
