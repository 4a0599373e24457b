/**
 * docs/ABI.md stays true to build/movierec.wasm: its Imports and Exports sections name exactly the
 * module's imports and exports, each export's documented signature has the module's parameter count
 * and the parameter names and types of build/movierec.d.ts (asc writes it beside the .wasm), every
 * kernel is named in the concurrency rules, the status table matches assembly/status.ts, and the
 * minimal host example runs and answers as the Node engine does. A failure says what is missing and
 * where to document it.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as status from "../../assembly/status.js";
import { Engine } from "../../src/abi/kernels.js";
import { createMemory, instantiate, loadModule, PAGE_BYTES } from "../../src/abi/wasm.js";
import { Rng } from "../../src/data/rng.js";
import { MODEL_FORMAT_VERSION } from "../../src/models/io.js";

const ROOT = new URL("../../../", import.meta.url);
const DOC = "docs/ABI.md";
const doc = readFileSync(new URL(DOC, ROOT), "utf8");

/** The text of `## title` up to the next `## ` heading. */
function section(title: string): string {
  const start = doc.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `${DOC} has no "## ${title}" section`);
  const end = doc.indexOf("\n## ", start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

/** `### \`name\`` headings of a section, each with the first `code` line after it (its signature). */
function entries(title: string): Map<string, string | null> {
  const found = new Map<string, string | null>();
  const parts = section(title).split(/\n### `([^`]+)`\n/);
  for (let k = 1; k < parts.length; k += 2) {
    const line = parts[k + 1]!.split("\n").find((l) => l.startsWith("`"));
    found.set(parts[k]!, line ?? null);
  }
  return found;
}

interface Param {
  name: string;
  type: string;
}
interface Signature {
  params: Param[];
  result: string;
}

/** `name(a: usize, b: f32) → i32` → its parameters and result; null if the line is not of that form. */
function parseSignature(name: string, line: string): Signature | null {
  const m = new RegExp(`^\`${name}\\((.*)\\) → (\\w+)\`$`).exec(line);
  if (!m) return null;
  const params = m[1]!.trim() === "" ? [] : m[1]!.split(",").map((p) => {
    const [pname, ptype] = p.split(":").map((s) => s.trim());
    return { name: pname!, type: ptype ?? "?" };
  });
  return { params, result: m[2]! };
}

/** Every function in build/movierec.d.ts: AssemblyScript parameter names and types, and its source file. */
function declarations(): Map<string, Signature & { file: string }> {
  const text = readFileSync(new URL("build/movierec.d.ts", ROOT), "utf8");
  const found = new Map<string, Signature & { file: string }>();
  for (const m of text.matchAll(/\/\*\*([\s\S]*?)\*\/\s*export function (\w+)\(/g)) {
    const comment = m[1]!;
    const params = [...comment.matchAll(/@param (\w+) `([^`]+)`/g)].map((p) => ({ name: p[1]!, type: p[2]! }));
    const file = /(assembly\/\w+)\/\w+/.exec(comment)?.[1];
    found.set(m[2]!, { params, result: /@returns `([^`]+)`/.exec(comment)?.[1] ?? "void", file: file ? `${file}.ts` : "assembly/index.ts" });
  }
  return found;
}

/** Module reflection, which src/abi/webassembly.d.ts does not declare (the engine does not need it). */
const reflect = WebAssembly.Module as unknown as {
  exports(module: WebAssembly.Module): { name: string; kind: string }[];
  imports(module: WebAssembly.Module): { module: string; name: string; kind: string }[];
};

const show = (name: string, s: Signature) => `\`${name}(${s.params.map((p) => `${p.name}: ${p.type}`).join(", ")}) → ${s.result}\``;

test(`${DOC} documents exactly the module's exports, with their signatures`, async () => {
  const module = await loadModule();
  const exports = instantiate(module, createMemory(PAGE_BYTES)) as unknown as Record<string, unknown>;
  const declared = declarations();
  const documented = entries("Exports");
  const concurrency = section("Concurrency");
  const problems: string[] = [];
  for (const { name, kind } of reflect.exports(module)) {
    const arity = kind === "function" ? (exports[name] as (...a: unknown[]) => unknown).length : 0;
    const decl = declared.get(name);
    const expected = kind === "memory" ? `\`${name}: Memory\``
      : show(name, decl ?? { params: Array.from({ length: arity }, (_, k) => ({ name: `p${k}`, type: "?" })), result: "?" });
    if (!documented.has(name)) {
      problems.push(`the export \`${name}\` is not documented. Add it to the "## Exports" section of ${DOC}:\n` +
        `      ### \`${name}\`\n\n      ${expected}\n\n` +
        `    then what it computes, a table of its regions (dtype, shape, read or written) and its status codes ` +
        `(see the header of ${decl?.file ?? "its file in assembly/"}), and name it under the right rule in "## Concurrency".`);
      continue;
    }
    const line = documented.get(name)!;
    if (kind === "memory") {
      if (line !== expected) problems.push(`### \`${name}\` in ${DOC}: the line under the heading must be ${expected}`);
      continue;
    }
    const sig = line === null ? null : parseSignature(name, line);
    if (!sig) {
      problems.push(`### \`${name}\` in ${DOC} needs its signature as the first code line under the heading: ${expected}`);
      continue;
    }
    if (sig.params.some((p) => p.name.endsWith("Ptr")) && !concurrency.includes(`\`${name}\``)) {
      problems.push(`\`${name}\` is not named in the "## Concurrency" section of ${DOC}: add it to the rule it follows ` +
        `(which regions it writes, which calls may run beside it; see the header of ${decl?.file ?? "its file in assembly/"})`);
    }
    if (sig.params.length !== arity) {
      problems.push(`\`${name}\` takes ${arity} parameters in the module, ${DOC} lists ${sig.params.length}. It is ${expected}`);
    } else if (decl && show(name, sig) !== show(name, decl)) {
      problems.push(`\`${name}\` in ${DOC} reads ${show(name, sig)}\n    but the module has ${expected}`);
    }
  }
  const exported = new Set(reflect.exports(module).map((e) => e.name));
  for (const name of documented.keys()) {
    if (!exported.has(name)) {
      problems.push(`${DOC} documents \`${name}\` under "## Exports", but build/movierec.wasm does not export it: remove it ` +
        `(or, if assembly/index.ts exports it, rebuild with \`npm run build:wasm\`)`);
    }
  }
  assert.ok(problems.length === 0, `${DOC} is out of date with build/movierec.wasm:\n  - ${problems.join("\n  - ")}\n`);
});

test(`${DOC} documents exactly the module's imports`, async () => {
  const imports = reflect.imports(await loadModule()).map((i) => `${i.module}.${i.name}`).sort();
  const documented = [...entries("Imports").keys()].sort();
  assert.equal(documented, imports, `the "## Imports" section of ${DOC} must have one "### \`module.name\`" entry per import`);
});

test(`${DOC}'s status codes and versions match assembly/status.ts and the model file format`, () => {
  const table = new Map([...section("Status codes").matchAll(/^\| `(STATUS_\w+)` \| (-?\d+) \|/gm)].map((m) => [m[1]!, Number(m[2])]));
  const codes = new Map(Object.entries(status).filter(([name]) => name.startsWith("STATUS_")) as [string, number][]);
  assert.equal(Object.fromEntries(table), Object.fromEntries(codes), `the "## Status codes" table of ${DOC} must list every code of assembly/status.ts`);
  assert.ok(doc.includes(`(currently **${status.ABI_VERSION}**`), `${DOC} must give the current ABI version, ${status.ABI_VERSION}`);
  assert.ok(doc.includes(`\`u32\` format version: **${MODEL_FORMAT_VERSION}**`),
    `the "## Model files" table of ${DOC} must give the current model format version, ${MODEL_FORMAT_VERSION}`);
});

test(`${DOC}'s minimal host answers exactly as the Node engine`, async () => {
  const code = /### A minimal host[\s\S]*?```js\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(code, `${DOC} has no \`\`\`js block under "### A minimal host"`);
  const dir = mkdtempSync(join(tmpdir(), "movierec-abi-doc-"));
  try {
    const file = join(dir, "host.mjs");
    writeFileSync(file, code);
    type Host = (wasm: Uint8Array, m: object, u: number, k: number, exclude?: Uint8Array | null) =>
      Promise<{ movies: number[]; scores: number[] }>;
    const { topForUser } = (await import(new URL(`file://${file}`).href)) as { topForUser: Host };
    const rng = new Rng(11);
    const [nUsers, nMovies, stride, k] = [40, 300, 8, 10];
    const normal = (n: number, s: number) => Float32Array.from({ length: n }, () => s * rng.normal());
    const m = { mu: 3.6, stride, P: normal(nUsers * stride, 0.5), Q: normal(nMovies * stride, 0.5), bu: normal(nUsers, 0.3), bi: normal(nMovies, 0.3) };
    const exclude = Uint8Array.from({ length: nMovies }, (_, i) => (i % 7 === 0 ? 1 : 0));

    const engine = await Engine.create({ bytes: 1 << 20 });
    const { arena } = engine;
    const model = { nUsers, nMovies, stride, P: arena.copyIn(m.P), Q: arena.copyIn(m.Q), bu: arena.copyIn(m.bu), bi: arena.copyIn(m.bi) };
    const wasm = readFileSync(new URL("build/movierec.wasm", ROOT));
    for (const [u, mask] of [[3, exclude], [-1, null]] as const) {
      const expected = engine.topN(engine.scoreUser(u, model, m.mu), k, mask);
      const got = await topForUser(wasm, m, u, k, mask);
      assert.equal(got.movies, Array.from(expected.indices), `user ${u}: movies`);
      assert.equal(got.scores, Array.from(expected.scores), `user ${u}: scores`);
    }
    engine.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
