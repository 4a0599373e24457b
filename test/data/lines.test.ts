import { test } from "uvu";
import * as assert from "uvu/assert";
import { ByteCursor, emptyFileError, readHead, scanBytes, scanText, type TextEncoding } from "../../src/data/lines.js";
import { DataError } from "../../src/data/types.js";
import { rejectsAt, TempDir } from "./helpers.js";

const tmp = new TempDir("lines");
test.after(() => tmp.remove());

async function textLines(file: string, encoding: TextEncoding, chunkBytes?: number): Promise<Array<[number, string]>> {
  const out: Array<[number, string]> = [];
  await scanText(file, encoding, (text, line) => out.push([line, text]), chunkBytes === undefined ? {} : { chunkBytes });
  return out;
}

/** Reads "a<TAB>b" integer pairs through the byte path. */
async function pairs(file: string, chunkBytes?: number): Promise<Array<[number, number, number]>> {
  const out: Array<[number, number, number]> = [];
  await scanBytes(
    file,
    (c: ByteCursor) => {
      while (c.more()) {
        if (c.blank()) continue;
        const line = c.line;
        const a = c.uint("a");
        c.expect(9, "b");
        const b = c.uint("b");
        c.endLine("b");
        out.push([line, a, b]);
      }
    },
    chunkBytes === undefined ? {} : { chunkBytes },
  );
  return out;
}

test("text lines: LF, CRLF, blank lines counted but skipped, last line without newline", async () => {
  const file = tmp.write("mixed.txt", "first\r\nsecond\n\nfourth\r\n\r\nsixth");
  const expected: Array<[number, string]> = [
    [1, "first"],
    [2, "second"],
    [4, "fourth"],
    [6, "sixth"],
  ];
  assert.equal(await textLines(file, "utf8"), expected);
  for (const chunk of [1, 2, 3, 5, 7, 64]) assert.equal(await textLines(file, "latin1", chunk), expected, `chunk ${chunk}`);
});

test("lines split across chunks, and multi-byte UTF-8 split across chunks, come out whole", async () => {
  const lines = Array.from({ length: 200 }, (_, k) => `line ${k} Amélie ✓ ${"x".repeat(k % 37)}`);
  const file = tmp.write("long.txt", lines.join("\n") + "\n");
  const expected = lines.map((text, k): [number, string] => [k + 1, text]);
  for (const chunk of [1, 4, 13, 100, 4096]) assert.equal(await textLines(file, "utf8", chunk), expected, `chunk ${chunk}`);
});

test("a UTF-8 byte-order mark at the start is dropped, on both paths", async () => {
  const bom = Buffer.from([0xef, 0xbb, 0xbf]);
  const file = tmp.write("bom.txt", Buffer.concat([bom, Buffer.from("a,b\nc\n")]));
  for (const chunk of [undefined, 2]) {
    assert.equal(await textLines(file, "utf8", chunk), [
      [1, "a,b"],
      [2, "c"],
    ]);
  }
  const numbers = tmp.write("bom.tsv", Buffer.concat([bom, Buffer.from("1\t2\n3\t4")]));
  assert.equal(await pairs(numbers), [
    [1, 1, 2],
    [2, 3, 4],
  ]);
});

test("latin-1 decodes every byte above 0x7F", async () => {
  const file = tmp.write("latin1.txt", Buffer.from("ok\nAmélie, Café\n", "latin1"));
  assert.equal(await textLines(file, "latin1"), [
    [1, "ok"],
    [2, "Amélie, Café"],
  ]);
});

test("invalid UTF-8 is refused with the file and line: stray, overlong, surrogate, truncated", async () => {
  const bad = [
    Buffer.from([0x41, 0xe9, 0x42]), // latin-1 é
    Buffer.from([0xc0, 0x80]), // overlong NUL
    Buffer.from([0xed, 0xa0, 0x80]), // UTF-16 surrogate
    Buffer.from([0x41, 0xe2, 0x82]), // sequence cut by the line end
    Buffer.from([0xf5, 0x80, 0x80, 0x80]), // beyond U+10FFFF
  ];
  for (const [k, bytes] of bad.entries()) {
    const file = tmp.write(`bad-utf8-${k}.txt`, Buffer.concat([Buffer.from("good\nalso good\n"), bytes, Buffer.from("\nafter\n")]));
    await rejectsAt(() => textLines(file, "utf8"), file, 3, "invalid UTF-8");
    await rejectsAt(() => textLines(file, "utf8", 2), file, 3, "invalid UTF-8");
  }
});

test("NUL and control bytes other than tab are invalid encoding in both text encodings", async () => {
  const file = tmp.write("control.txt", Buffer.from("a\tb\nc\u0000d\n"));
  for (const enc of ["utf8", "latin1"] as const) await rejectsAt(() => textLines(file, enc), file, 2, "invalid encoding: control byte 0x00 at column 2");
  const cr = tmp.write("lone-cr.txt", "x\ny\rz\n");
  await rejectsAt(() => textLines(cr, "latin1"), cr, 2, "control byte 0x0D");
});

test("byte path: integers with line numbers across any chunking, CRLF, no final newline", async () => {
  const rows = Array.from({ length: 300 }, (_, k) => `${k * 7919}\t${k % 5}`);
  const file = tmp.write("pairs.tsv", rows.join("\r\n"));
  const expected = rows.map((_, k): [number, number, number] => [k + 1, k * 7919, k % 5]);
  for (const chunk of [undefined, 1, 3, 17, 1000]) assert.equal(await pairs(file, chunk), expected, `chunk ${chunk}`);
});

test("byte path errors name the file and line: missing field, non-numeric, trailing text, too large", async () => {
  const cases: Array<[string, number, string]> = [
    ["1\t2\n3\n", 2, "missing field b"],
    ["1\t2\n3\tx\n", 2, 'b: expected a non-negative integer, found "x"'],
    ["1\t2\n\n5\t6 7\n", 3, 'unexpected " 7" after b'],
    ["1\t99999999999\n", 1, "b: expected a non-negative integer"],
    ["1\t2\n3,4\n", 2, 'expected "\\t" before b, found ",4"'],
  ];
  for (const [k, [content, line, what]] of cases.entries()) {
    const file = tmp.write(`bad-${k}.tsv`, content);
    await rejectsAt(() => pairs(file), file, line, what);
    await rejectsAt(() => pairs(file, 2), file, line, what);
  }
});

test("byte path: a non-ASCII byte is reported as invalid encoding, not as a bad number", async () => {
  const file = tmp.write("nonascii.tsv", Buffer.concat([Buffer.from("1\t2\n3\t"), Buffer.from([0xc3, 0xa9]), Buffer.from("\n")]));
  await rejectsAt(() => pairs(file), file, 2, "invalid encoding: byte 0xC3 at column 3");
});

test("emptyFileError is a ParseError at line 1", async () => {
  const file = tmp.write("empty.txt", "");
  await rejectsAt(
    async () => {
      let lines = 0;
      await scanText(file, "utf8", () => lines++);
      if (lines === 0) throw emptyFileError(file);
    },
    file,
    1,
    "empty file: no ratings",
  );
});

test("a missing file is a DataError naming it; readHead returns the first bytes", async () => {
  const missing = tmp.path("nope.txt");
  try {
    await scanText(missing, "utf8", () => undefined);
    assert.unreachable("should have thrown");
  } catch (err) {
    assert.instance(err, DataError);
    assert.ok((err as Error).message.startsWith(`${missing}: cannot open`));
  }
  const file = tmp.write("head.txt", "abcdef");
  assert.is(readHead(file, 3).toString(), "abc");
  assert.is(readHead(file).toString(), "abcdef");
});

test.run();
