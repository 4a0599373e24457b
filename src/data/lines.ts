/**
 * Streaming line readers for rating files.
 *
 * A file is read in 4 MiB chunks (two buffers, so the next read overlaps parsing; files up to
 * 1 MiB in one synchronous read) and handed to a parser in blocks made of whole lines; a line
 * split across two chunks is joined first. Lines end in LF or CRLF, and the last line may have no
 * line end. Line numbers are 1-based.
 *
 * Two paths:
 * - `scanBytes` for the numeric formats (Netflix, MovieLens ratings): the parser reads integers
 *   straight from the bytes through a `ByteCursor`, with no string per line. These formats are
 *   plain ASCII; a parse error on a line holding any other byte is reported as invalid encoding.
 * - `scanText` for text formats (titles, generic CSV): each non-empty line as a string, decoded as
 *   UTF-8 (invalid sequences rejected) or latin-1 (every byte valid). Either way, NUL and other
 *   control bytes except tab are rejected as invalid encoding.
 */
import { closeSync, fstatSync, openSync, read, readSync } from "node:fs";
import { promisify } from "node:util";
import { DataError, ParseError } from "./types.js";

const LF = 10;
const CR = 13;
const MAX_CHUNK = 4 << 20;
/** Files up to this size are read with one synchronous call. */
const WHOLE_FILE_BYTES = 1 << 20;
const EMPTY = Buffer.alloc(0);
const readAsync = promisify(read);

export interface ScanOptions {
  /** Called after each chunk with the number of bytes just read. */
  onBytes?: (bytes: number) => void;
  /** Chunk size in bytes (default 4 MiB; files up to 1 MiB are read whole). Tests use tiny chunks. */
  chunkBytes?: number;
}

export interface ScanResult {
  /** Bytes in the file. */
  bytes: number;
}

/** The error for a file (or a file with a header only) that holds no data rows. */
export function emptyFileError(file: string, what = "ratings"): ParseError {
  return new ParseError(file, 1, `empty file: no ${what}`, "the file holds no data rows");
}

/**
 * A read position inside a block of whole lines, with the integer and separator parsers the
 * numeric formats are built from. A parser advances `pos` through the block; `eol()` moves to
 * the next line and keeps `line` and `lineStart` current, so `fail()` can name the line.
 */
export class ByteCursor {
  buf: Buffer = EMPTY;
  pos = 0;
  end = 0;
  /** 1-based number of the line being parsed. */
  line = 1;
  lineStart = 0;

  /** @param size the file's size in bytes, for readers that reserve room up front. */
  constructor(
    readonly file: string,
    readonly size: number,
  ) {}

  /** True while the block holds more bytes. */
  more(): boolean {
    return this.pos < this.end;
  }

  /** True when the byte at `pos` is `b` (false at the end of the block). */
  at(b: number): boolean {
    return this.pos < this.end && this.buf[this.pos] === b;
  }

  /** Consumes the line end at `pos` (LF, CRLF, or the end of the file) and returns true; false if `pos` is not at a line end. */
  eol(): boolean {
    const p = this.pos;
    if (p >= this.end) return true;
    const b = this.buf[p];
    if (b === LF) {
      this.nextLine(p + 1);
      return true;
    }
    if (b === CR && (p + 1 === this.end || this.buf[p + 1] === LF)) {
      this.nextLine(p + 1 === this.end ? p + 1 : p + 2);
      return true;
    }
    return false;
  }

  /** Consumes the line end that must follow the last field, `after`. */
  endLine(after: string): void {
    if (!this.eol()) throw this.fail(`unexpected ${this.text(this.pos)} after ${after} (expected the end of the line)`);
  }

  /** Consumes an empty line if the cursor is at one; blank lines carry no data and are skipped. */
  blank(): boolean {
    return (this.at(LF) || this.at(CR)) && this.eol();
  }

  /** Consumes one separator byte before `field`. */
  expect(sep: number, field: string): void {
    if (this.at(sep)) {
      this.pos++;
      return;
    }
    throw this.atLineEnd()
      ? this.fail(`missing field ${field}`)
      : this.fail(`expected ${JSON.stringify(String.fromCharCode(sep))} before ${field}, found ${this.text(this.pos)}`);
  }

  /** Parses a non-negative decimal integer that fits in int32 (an id, a rating). */
  uint(field: string): number {
    const start = this.pos;
    const v = this.digits();
    const n = this.pos - start;
    if (n === 0 || n > 10 || v > 2147483647) throw this.badNumber(field, start, "a non-negative integer");
    return v;
  }

  /** Parses a non-negative decimal integer of up to 15 digits (a Unix timestamp in seconds). */
  ulong(field: string): number {
    const start = this.pos;
    const v = this.digits();
    const n = this.pos - start;
    if (n === 0 || n > 15) throw this.badNumber(field, start, "a non-negative integer");
    return v;
  }

  /** Parses a non-negative decimal number with an optional fraction: `4`, `3.5`, `4.0`, `.5`. */
  decimal(field: string): number {
    const start = this.pos;
    let v = this.digits();
    let n = this.pos - start;
    if (this.at(46)) {
      const fracStart = ++this.pos;
      const frac = this.digits();
      const k = this.pos - fracStart;
      v += frac / 10 ** k;
      n += k;
    }
    if (n === 0 || n > 15) throw this.badNumber(field, start, "a number");
    return v;
  }

  /** Reads the run of decimal digits at `pos` (possibly empty) and returns its value. */
  private digits(): number {
    const buf = this.buf;
    const end = this.end;
    let p = this.pos;
    let v = 0;
    while (p < end) {
      const d = buf[p]! - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      p++;
    }
    this.pos = p;
    return v;
  }

  /** The bytes of the current line from `pos` up to (not including) its line end, as latin-1 text. */
  restOfLine(): string {
    let e = this.pos;
    while (e < this.end && this.buf[e] !== LF) e++;
    const s = this.pos;
    this.pos = e;
    if (e > s && this.buf[e - 1] === CR) e--;
    return this.buf.toString("latin1", s, e);
  }

  /**
   * The error for the current line. If the line holds a byte that has no place in a plain-ASCII
   * file, that is what is reported, since it is the cause.
   */
  fail(what: string, hint?: string): ParseError {
    let e = this.lineStart;
    while (e < this.end && this.buf[e] !== LF) e++;
    for (let p = this.lineStart; p < e; p++) {
      const b = this.buf[p]!;
      if (b >= 0x80 || (b < 0x20 && b !== 9 && !(b === CR && p === e - 1)) || b === 0x7f) {
        return new ParseError(
          this.file,
          this.line,
          `invalid encoding: byte 0x${hex(b)} at column ${p - this.lineStart + 1} (expected plain ASCII)`,
          "this format holds only ASCII digits and separators",
        );
      }
    }
    return new ParseError(this.file, this.line, what, hint);
  }

  /** A short quoted excerpt of the field at `p`, for messages. */
  text(p: number): string {
    if (this.atLineEndAt(p)) return "the end of the line";
    let e = p;
    while (e < this.end && e - p < 24) {
      const b = this.buf[e];
      if (b === LF || b === CR || ((b === 44 || b === 9 || b === 58 || b === 124) && e > p)) break;
      e++;
    }
    return JSON.stringify(this.buf.toString("latin1", p, e));
  }

  private atLineEnd(): boolean {
    return this.atLineEndAt(this.pos);
  }

  private atLineEndAt(p: number): boolean {
    return p >= this.end || this.buf[p] === LF || this.buf[p] === CR;
  }

  private badNumber(field: string, start: number, expected: string): ParseError {
    if (this.atLineEndAt(start)) return this.fail(`missing field ${field}`);
    return this.fail(`${field}: expected ${expected}, found ${this.text(start)}`);
  }

  private nextLine(p: number): void {
    this.pos = p;
    this.lineStart = p;
    this.line++;
  }
}

function hex(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, "0");
}

/** Opens a file for reading: its descriptor and size. A missing, unreadable or non-regular file is a DataError. */
function openInput(file: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (err) {
    throw new DataError(`${file}: cannot open (${(err as NodeJS.ErrnoException).code ?? String(err)})`, "check the path");
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw new DataError(`${file}: not a regular file`);
  }
  return { fd, size: st.size };
}

/** Reads up to `length` bytes from the start of `fd` into `buf`; returns how many were read. */
function readPrefix(fd: number, buf: Buffer, length: number): number {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** Read buffers kept between scans (a Netflix training_set/ is 17,770 small files). */
const spareBuffers: Buffer[] = [];
const MAX_SPARE_BUFFERS = 4;

/** A buffer of at least `bytes`: the most recently returned one that fits (still in cache), else a new one. */
function takeBuffer(bytes: number): Buffer {
  for (let k = spareBuffers.length - 1; k >= 0; k--) {
    if (spareBuffers[k]!.length >= bytes) return spareBuffers.splice(k, 1)[0]!;
  }
  return Buffer.allocUnsafe(Math.max(bytes, WHOLE_FILE_BYTES));
}

function giveBack(buf: Buffer): void {
  if (spareBuffers.length < MAX_SPARE_BUFFERS && buf.length <= MAX_CHUNK) spareBuffers.push(buf);
}

/**
 * Reads `file` and calls `parse` with blocks of whole lines (the cursor's `buf`, `pos..end`).
 * The parser must consume its block entirely, advancing `line` at each line end. The next chunk
 * is read while the current one is parsed. A UTF-8 byte-order mark at the start is skipped.
 */
export async function scanBytes(file: string, parse: (c: ByteCursor) => void, opts: ScanOptions = {}): Promise<ScanResult> {
  const { fd, size } = openInput(file);
  const c = new ByteCursor(file, size);
  let first = true;
  const run = (buf: Buffer, start: number, end: number): void => {
    if (first) {
      first = false;
      if (end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) start += 3;
    }
    c.buf = buf;
    c.pos = start;
    c.lineStart = start;
    c.end = end;
    parse(c);
  };
  if (opts.chunkBytes === undefined && size <= WHOLE_FILE_BYTES) {
    // Small files in one synchronous read: no thread-pool round trips per file.
    const buf = takeBuffer(size);
    try {
      const got = readPrefix(fd, buf, size);
      const last = got > 0 ? buf.lastIndexOf(LF, got - 1) : -1;
      if (last >= 0) run(buf, 0, last + 1);
      if (last + 1 < got) run(buf, last + 1, got);
      opts.onBytes?.(got);
      return { bytes: size };
    } finally {
      closeSync(fd);
      giveBack(buf);
    }
  }
  const chunk = opts.chunkBytes !== undefined ? Math.max(1, Math.floor(opts.chunkBytes)) : MAX_CHUNK;
  const bufs = [takeBuffer(chunk), takeBuffer(chunk)];
  let which = 0;
  let requested = 0;
  const readNext = (): Promise<{ bytesRead: number }> | null => {
    if (requested >= size) return null;
    requested += chunk;
    return readAsync(fd, bufs[which]!, 0, chunk, null);
  };
  let pending = readNext();
  try {
    let carry: Buffer = EMPTY;
    while (pending !== null) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      const buf = bufs[which]!;
      which ^= 1;
      pending = readNext();
      let start = 0;
      if (carry.length > 0) {
        const nl = buf.subarray(0, bytesRead).indexOf(LF);
        if (nl < 0) {
          carry = Buffer.concat([carry, buf.subarray(0, bytesRead)]);
          opts.onBytes?.(bytesRead);
          continue;
        }
        const joined = Buffer.concat([carry, buf.subarray(0, nl + 1)]);
        carry = EMPTY;
        run(joined, 0, joined.length);
        start = nl + 1;
      }
      const last = buf.lastIndexOf(LF, bytesRead - 1);
      if (last >= start) {
        run(buf, start, last + 1);
        start = last + 1;
      }
      if (start < bytesRead) carry = Buffer.from(buf.subarray(start, bytesRead));
      opts.onBytes?.(bytesRead);
    }
    if (carry.length > 0) run(carry, 0, carry.length);
    return { bytes: size };
  } finally {
    // A read may still be in flight when the parser threw: let it finish before closing.
    await pending?.catch(() => undefined);
    closeSync(fd);
    bufs.forEach(giveBack);
  }
}

export type TextEncoding = "utf8" | "latin1";

/**
 * Reads `file` as text and calls `onLine` with each non-empty line (without its line end) and
 * its 1-based number. UTF-8 input must be valid; latin-1 accepts every byte. NUL and other
 * control bytes except tab are rejected in both.
 */
export async function scanText(
  file: string,
  encoding: TextEncoding,
  onLine: (text: string, line: number) => void,
  opts: ScanOptions = {},
): Promise<ScanResult> {
  return scanBytes(
    file,
    (c) => {
      checkText(c, encoding === "utf8");
      const text = c.buf.toString(encoding, c.pos, c.end);
      let i = 0;
      while (i < text.length) {
        let nl = text.indexOf("\n", i);
        if (nl < 0) nl = text.length;
        const e = nl > i && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
        if (e > i) onLine(text.slice(i, e), c.line);
        c.line++;
        i = nl + 1;
      }
      c.pos = c.end;
    },
    opts,
  );
}

/**
 * Validates a block of text lines: control bytes other than tab (and CR before a line end) are
 * invalid encoding, and so, for UTF-8, is any malformed, overlong or surrogate sequence.
 */
function checkText(c: ByteCursor, utf8: boolean): void {
  const buf = c.buf;
  const end = c.end;
  let line = c.line;
  let lineStart = c.pos;
  for (let p = c.pos; p < end; p++) {
    const b = buf[p]!;
    if (b >= 0x20 && b < 0x7f) continue;
    if (b === LF) {
      line++;
      lineStart = p + 1;
      continue;
    }
    if (b === 9 || (b === CR && (p + 1 === end || buf[p + 1] === LF))) continue;
    if (b < 0x80) {
      throw new ParseError(c.file, line, `invalid encoding: control byte 0x${hex(b)} at column ${p - lineStart + 1}`, "text files may hold tabs but no other control characters");
    }
    if (!utf8) continue;
    const n = utf8SequenceLength(buf, p, end);
    if (n === 0) {
      throw new ParseError(
        c.file,
        line,
        `invalid UTF-8: byte 0x${hex(b)} at byte column ${p - lineStart + 1} does not start a valid UTF-8 sequence`,
        "save the file as UTF-8, or read it as latin-1",
      );
    }
    p += n - 1;
  }
}

/** Length of the well-formed UTF-8 sequence starting with a non-ASCII byte at `p`, or 0 if malformed. */
function utf8SequenceLength(buf: Buffer, p: number, end: number): number {
  const b = buf[p]!;
  let n: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b >= 0xc2 && b <= 0xdf) n = 2;
  else if (b >= 0xe0 && b <= 0xef) {
    n = 3;
    if (b === 0xe0) lo = 0xa0;
    if (b === 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    n = 4;
    if (b === 0xf0) lo = 0x90;
    if (b === 0xf4) hi = 0x8f;
  } else return 0;
  if (p + n > end) return 0;
  const second = buf[p + 1]!;
  if (second < lo || second > hi) return 0;
  for (let k = 2; k < n; k++) {
    const t = buf[p + k]!;
    if (t < 0x80 || t > 0xbf) return 0;
  }
  return n;
}

/** The first `bytes` bytes of a file (fewer if it is shorter), for format detection. */
export function readHead(file: string, bytes = 64 << 10): Buffer {
  const { fd, size } = openInput(file);
  try {
    const buf = Buffer.alloc(Math.min(bytes, size));
    return buf.subarray(0, readPrefix(fd, buf, buf.length));
  } finally {
    closeSync(fd);
  }
}
