/**
 * What a command may touch: results go to `out` (stdout), everything for people — progress bars,
 * notes, errors — to `err` (stderr). Tests pass a recording IO; the binary passes the process's.
 */
import { Writable } from "node:stream";

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** The stream progress bars draw on; bars are drawn only when it is a terminal. */
  progressStream: NodeJS.WritableStream & { isTTY?: boolean };
}

export const processIO: CliIO = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  progressStream: process.stderr,
};

/** An IO that records what a command printed (for tests and library callers). */
export function recordingIO(): CliIO & { stdout: string; stderr: string } {
  const io = {
    stdout: "",
    stderr: "",
    out(t: string) {
      io.stdout += t;
    },
    err(t: string) {
      io.stderr += t;
    },
    progressStream: new Writable({ write: (_chunk, _enc, cb) => cb() }),
  };
  return io;
}
