/**
 * `movierec prize` is resumable: killed after its first stage, the same command continues at the
 * next stage and leaves the finished stage's files untouched; a folder made with other settings
 * is refused, and --force starts over.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { recordingIO } from "../../src/cli/io.js";
import { execute } from "../../src/cli/program.js";
import { generatePrize } from "../../src/data/prize-gen.js";

const tmp = mkdtempSync(join(tmpdir(), "movierec-prize-resume-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const folder = join(tmp, "netflix");
const out = join(tmp, "run");
// Enough epochs that the probe-train stage is still running when the child is killed.
const ARGS = ["prize", folder, "--algo", "mf", "--factors", "8", "--epochs", "100", "--out", out];

async function cli(...argv: string[]) {
  const io = recordingIO();
  const code = await execute(argv, io);
  return { code, out: io.stdout, err: io.stderr };
}

/** sha256 and mtime of every file under `dir` (and of `dir` itself if it is a file). */
function snapshot(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (p: string) => {
    if (statSync(p).isDirectory()) {
      for (const e of readdirSync(p).sort()) walk(join(p, e));
    } else {
      out[p] = `${createHash("sha256").update(readFileSync(p)).digest("hex")} ${statSync(p).mtimeMs}`;
    }
  };
  walk(path);
  return out;
}

/** Runs the CLI in a child process and kills it (SIGKILL) as soon as its stderr shows `line`. */
function runUntil(args: string[], line: string): Promise<{ killed: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    let killed = false;
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!killed && stderr.includes(line)) {
        killed = child.kill("SIGKILL");
      }
    });
    child.on("error", reject);
    child.on("close", () => resolve({ killed, stderr }));
  });
}

test("killed after ingest, the same command resumes at probe-train and leaves the dataset untouched", async () => {
  await generatePrize({ users: 3000, movies: 800, ratings: 150_000, seed: 11, out: folder });
  const first = await runUntil(ARGS, "ingest: done");
  assert.ok(first.killed, `the child ended before ingest finished: ${first.stderr}`);
  assert.ok(existsSync(join(out, "ingest.done")));
  assert.not.ok(existsSync(join(out, "probe-train.done")), "killed during probe-train");
  const before = { ...snapshot(join(out, "dataset")), ...snapshot(join(out, "ingest.done")) };

  const second = await cli(...ARGS);
  assert.is(second.code, 0, second.err);
  assert.match(second.err, "ingest: finished by an earlier run");
  assert.match(second.err, "resumed");
  assert.not.match(second.err, "ingest: started");
  assert.match(second.err, "probe-train: done");
  assert.match(second.err, "full-train: done");
  assert.equal({ ...snapshot(join(out, "dataset")), ...snapshot(join(out, "ingest.done")) }, before);
  const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8"));
  assert.equal(result.resumed, ["ingest"]);
  assert.ok(readdirSync(out).every((e) => !e.includes(".tmp-")), "no temporary files left");

  // Everything done: a third run only reports.
  const third = await cli(...ARGS, "--json");
  assert.is(third.code, 0, third.err);
  assert.equal(JSON.parse(third.out), result);
  assert.match(third.err, "full-train: finished by an earlier run");
});

test("a folder made with other settings is refused; --force starts over", async () => {
  const other = await cli(...ARGS.slice(0, -2), "--factors", "9", "--out", out);
  assert.is(other.code, 2);
  assert.match(other.err, `${out} holds a run made with different inputs or settings (mf factors was 8, now 9)`);
  assert.match(other.err, "hint: use another --out, or pass --force");
  utimesSync(join(folder, "probe.txt"), new Date(), new Date(Date.now() + 5000));
  const touched = await cli(...ARGS);
  assert.is(touched.code, 2);
  assert.match(touched.err, "different inputs or settings (probe.txt)");
  const forced = await cli("prize", folder, "--algo", "baseline", "--out", out, "--force");
  assert.is(forced.code, 0, forced.err);
  assert.match(forced.err, "ingest: started");
  assert.is(JSON.parse(readFileSync(join(out, "result.json"), "utf8")).spec.algo, "baseline");
  assert.is(JSON.parse(readFileSync(join(out, "probe.json"), "utf8")).model, "baseline");
});

test("an out folder that holds other files is refused", async () => {
  const stranger = join(tmp, "stranger");
  await generatePrize({ users: 50, movies: 20, ratings: 400, seed: 2, out: stranger });
  const r = await cli("prize", folder, "--out", stranger);
  assert.is(r.code, 2);
  assert.match(r.err, "is not empty and was not made by movierec prize");
});

test.run();
