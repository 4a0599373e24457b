/**
 * `movierec serve` as a process: prints its address on stderr and nothing on stdout, answers over
 * TCP, reloads the replaced model file on SIGHUP, and exits 0 on SIGTERM.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateDataset } from "../../src/data/generate.js";
import { createModel } from "../../src/models/registry.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "movierec-serve-cli-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** Waits (at most `ms`) until `check` holds, polling every 20 ms; fails early when `failed()` says why. */
async function until(check: () => boolean | Promise<boolean>, failed: () => string | null, ms: number, what: string): Promise<void> {
  for (let waited = 0; waited <= ms; waited += 20) {
    if (await check()) return;
    const why = failed();
    if (why !== null) assert.unreachable(`waiting for ${what}: ${why}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.unreachable(`timed out waiting for ${what}`);
}

test("serve: address on stderr, SIGHUP reloads the replaced file, SIGTERM exits 0 with nothing on stdout", async () => {
  const first = generateDataset({ users: 100, movies: 60, ratings: 2000, seed: 5 });
  const second = generateDataset({ users: 100, movies: 60, ratings: 2000, seed: 6 });
  const path = join(tmp, "m.model");
  const next = join(tmp, "next.model");
  await (await createModel("mf", { factors: 4, epochs: 3 }).fit(first)).save(path);
  await (await createModel("mf", { factors: 4, epochs: 3 }).fit(second)).save(next);

  const child = spawn(process.execPath, [MAIN, "serve", path, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve((exitCode = code))));
  const died = () => (exitCode === undefined ? null : `the server exited with ${exitCode}: ${stderr}`);
  try {
    await until(() => /at (http:\/\/127\.0\.0\.1:\d+)/.test(stderr), died, 15_000, "the listening address");
    const base = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)![1]!;
    const model = async () => (await (await fetch(`${base}/model`)).json()) as { datasetHash: string };
    assert.equal(await (await fetch(`${base}/health`)).json(), { status: "ok" });
    assert.is((await model()).datasetHash, first.meta.contentHash);

    copyFileSync(next, path);
    child.kill("SIGHUP");
    await until(async () => (await model()).datasetHash === second.meta.contentHash, died, 15_000, "the reload");
    assert.match(stderr, `reloaded ${path}`);

    child.kill("SIGTERM");
    assert.is(await exited, 0);
    assert.is(stdout, "");
  } finally {
    child.kill("SIGKILL");
  }
});

test.run();
