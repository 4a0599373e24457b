/** Ctrl-C during training: the run stops promptly, exits 130 and writes no model file. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generate } from "../../src/data/generate.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "movierec-sigint-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test("SIGINT during `movierec train` exits 130 within a second or two and leaves no model", async () => {
  const data = join(tmp, "ds");
  await generate({ users: 20_000, movies: 2_000, ratings: 1_000_000, seed: 2, out: data });
  const model = join(tmp, "m.model");
  const child = spawn(process.execPath, [MAIN, "train", data, "--algo", "mf", "--epochs", "10000", "--threads", "2", "--out", model], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  await new Promise((res) => setTimeout(res, 2500));
  assert.is(child.exitCode, null, "still training");
  const sentAt = performance.now();
  child.kill("SIGINT");
  const code = await new Promise<number | null>((res) => child.on("exit", (c) => res(c)));
  const waited = performance.now() - sentAt;
  assert.is(code, 130, stderr);
  assert.match(stderr, "interrupted");
  assert.ok(waited < 3000, `exited ${waited.toFixed(0)} ms after SIGINT`);
  assert.not.ok(existsSync(model));
  assert.equal(readdirSync(tmp).filter((f) => f.includes(".tmp-")), []);
});

test.run();
