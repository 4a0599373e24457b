/**
 * Model files: one binary container for every algorithm.
 *
 *   offset 0   8 bytes   magic "MOVIEREC"
 *          8   u32 LE    format version (MODEL_FORMAT_VERSION)
 *         12   u32 LE    ABI version of the engine that wrote it
 *         16   u32 LE    header length H in bytes
 *         20   H bytes   header: UTF-8 JSON { algo, params, datasetHash, trainedAt, ..., arrays: [{name,dtype,length,offset}] }
 *          …   padding to a multiple of 8
 *          …   array payloads, each 8-byte aligned, at `offset` from the start of the payload area
 *   end − 32   32 bytes  sha256 of every byte before it
 *
 * Files are written to a temporary file beside the target and renamed, so a crash never leaves a
 * half-written model; on load, a wrong magic, a version this build cannot read, a length that
 * does not add up or a checksum mismatch (truncation, bit flips) is refused with a clear message.
 */
import { createHash } from "node:crypto";
import { promises as fsp } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ABI_VERSION } from "../../assembly/status.js";
import { DataError } from "../data/types.js";

export const MODEL_FORMAT_VERSION = 1;
const MAGIC = Buffer.from("MOVIEREC", "latin1");
const CHECKSUM_BYTES = 32;

export type ArrayData = Int32Array | Float32Array | Float64Array | Uint8Array;
const DTYPES = { i32: Int32Array, f32: Float32Array, f64: Float64Array, u8: Uint8Array } as const;
type DType = keyof typeof DTYPES;

export interface ModelHeader {
  algo: string;
  params: Record<string, number | string>;
  datasetHash: string;
  trainedAt: string;
  [key: string]: unknown;
}

export interface ModelFileContents {
  header: ModelHeader;
  arrays: Record<string, ArrayData>;
}

function dtypeOf(a: ArrayData): DType {
  if (a instanceof Int32Array) return "i32";
  if (a instanceof Float32Array) return "f32";
  if (a instanceof Float64Array) return "f64";
  return "u8";
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** Writes a model file atomically (temporary file + rename). */
export async function writeModelFile(path: string, contents: ModelFileContents): Promise<void> {
  const entries = Object.entries(contents.arrays);
  const layout: { name: string; dtype: DType; length: number; offset: number }[] = [];
  let off = 0;
  for (const [name, a] of entries) {
    layout.push({ name, dtype: dtypeOf(a), length: a.length, offset: off });
    off = align8(off + a.byteLength);
  }
  const headerBytes = Buffer.from(JSON.stringify({ ...contents.header, arrays: layout }), "utf8");
  const prefix = Buffer.alloc(align8(20 + headerBytes.length));
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(MODEL_FORMAT_VERSION, 8);
  prefix.writeUInt32LE(ABI_VERSION, 12);
  prefix.writeUInt32LE(headerBytes.length, 16);
  headerBytes.copy(prefix, 20);

  const hash = createHash("sha256");
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  await fsp.mkdir(dirname(path) || ".", { recursive: true });
  const fh = await fsp.open(tmp, "w");
  try {
    const put = async (b: Uint8Array) => {
      hash.update(b);
      await fh.write(b);
    };
    await put(prefix);
    let written = 0;
    for (let k = 0; k < entries.length; k++) {
      const a = entries[k]![1];
      const pad = layout[k]!.offset - written;
      if (pad > 0) await put(new Uint8Array(pad));
      // Write in slices: one fh.write of more than 2 GiB is refused.
      const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      for (let s = 0; s < bytes.length; s += 1 << 28) await put(bytes.subarray(s, Math.min(bytes.length, s + (1 << 28))));
      written = layout[k]!.offset + a.byteLength;
    }
    if (off > written) await put(new Uint8Array(off - written));
    await fh.write(hash.digest());
    await fh.close();
    await fsp.rename(tmp, path);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

/** Reads and verifies a model file. Every failure is a DataError naming the file and what is wrong. */
export async function readModelFile(path: string): Promise<ModelFileContents> {
  let buf: Buffer;
  try {
    buf = await fsp.readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(`cannot read model file ${path} (${code === "ENOENT" ? "no such file" : (err as Error).message})`, "train one with `movierec train ... --out <model>`");
  }
  const damaged = (what: string) =>
    new DataError(`${path} is not a usable model file: ${what}`, "the file is damaged or incomplete; train the model again or restore it from a copy");
  if (buf.length < 20 + CHECKSUM_BYTES || !buf.subarray(0, 8).equals(MAGIC)) throw damaged("it does not start with the movierec model signature");
  const body = buf.subarray(0, buf.length - CHECKSUM_BYTES);
  const digest = createHash("sha256").update(body).digest();
  if (!digest.equals(buf.subarray(buf.length - CHECKSUM_BYTES))) throw damaged("checksum mismatch (truncated or modified)");
  const version = buf.readUInt32LE(8);
  if (version !== MODEL_FORMAT_VERSION) {
    throw new DataError(`${path} is model format v${version}; this movierec reads v${MODEL_FORMAT_VERSION}`, "retrain the model with this version");
  }
  const abi = buf.readUInt32LE(12);
  if (abi !== ABI_VERSION) {
    throw new DataError(`${path} was written by engine ABI v${abi}; this movierec has ABI v${ABI_VERSION}`, "retrain the model with this version");
  }
  const hlen = buf.readUInt32LE(16);
  if (20 + hlen > body.length) throw damaged("header length runs past the end of the file");
  let header: ModelHeader & { arrays: { name: string; dtype: DType; length: number; offset: number }[] };
  try {
    header = JSON.parse(buf.subarray(20, 20 + hlen).toString("utf8"));
  } catch {
    throw damaged("the header is not valid JSON");
  }
  const base = align8(20 + hlen);
  const arrays: Record<string, ArrayData> = {};
  for (const a of header.arrays) {
    const Ctor = DTYPES[a.dtype];
    if (!Ctor) throw damaged(`array "${a.name}" has unknown dtype ${a.dtype}`);
    const start = base + a.offset;
    const bytes = a.length * Ctor.BYTES_PER_ELEMENT;
    if (start + bytes > body.length) throw damaged(`array "${a.name}" runs past the end of the file`);
    // Copy into a fresh, aligned buffer: callers own what they get.
    const copy = new Ctor(a.length);
    new Uint8Array(copy.buffer).set(body.subarray(start, start + bytes));
    arrays[a.name] = copy;
  }
  const { arrays: _layout, ...rest } = header;
  return { header: rest, arrays };
}
