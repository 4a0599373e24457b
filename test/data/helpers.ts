/** Shared by the data reader tests: temporary folders, ParseError checks, the shared real data. */
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ParseError } from "../../src/data/types.js";

/** A temporary folder under os.tmpdir(); `write` creates files in it (strings as UTF-8, Buffers as given). */
export class TempDir {
  readonly dir: string;

  constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), `movierec-${prefix}-`));
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  write(name: string, content: string | Buffer): string {
    const file = this.path(name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    return file;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Awaits `run`, which must fail with a ParseError for `file` at `line` whose message includes `what`. */
export async function rejectsAt(run: () => Promise<unknown>, file: string, line: number, what: string | RegExp): Promise<ParseError> {
  let error: unknown = null;
  try {
    await run();
  } catch (err) {
    error = err;
  }
  assert.ok(error instanceof ParseError, `expected a ParseError, got ${String(error)}`);
  const e = error as ParseError;
  assert.ok(e.message.startsWith(`${file}:${line}: `), `message should start with ${file}:${line}: — got ${e.message}`);
  assert.is(e.file, file);
  assert.is(e.line, line);
  if (typeof what === "string") assert.ok(e.message.includes(what), `message should mention "${what}": ${e.message}`);
  else assert.match(e.message, what);
  return e;
}

/**
 * A folder of the real data kept beside the repository (../shared/data/<name>), or null when it
 * is missing outside CI (the caller then skips its checks with the reason printed). In CI a
 * missing folder fails the test.
 */
export function sharedData(name: string): string | null {
  const dir = join(fileURLToPath(new URL("../../../../shared/data/", import.meta.url)), name);
  if (existsSync(dir)) return dir;
  if (process.env.CI === "true") assert.unreachable(`${dir} is missing (required in CI)`);
  console.log(`  (skipped: ${dir} is not present)`);
  return null;
}
