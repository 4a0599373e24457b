/** Progress bars on stderr (cli-progress), drawn only on a terminal so pipes and logs stay clean. */
import cliProgress from "cli-progress";
import type { CliIO } from "./io.js";

export interface Progress {
  update(done: number, total?: number, extra?: Record<string, string>): void;
  stop(): void;
}

export function progressBar(io: CliIO, label: string, unit: string, total = 1): Progress {
  if (!io.progressStream.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: io.progressStream,
      format: `${label.padEnd(10)} [{bar}] {percentage}% | {value}/{total} ${unit} | {info} ETA {eta_formatted}`,
      hideCursor: true,
      etaBuffer: 20,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { info: "" });
  return {
    update(done, newTotal, extra) {
      if (newTotal !== undefined && newTotal !== bar.getTotal()) bar.setTotal(newTotal);
      bar.update(done, { info: extra?.info ? extra.info + " |" : "" });
    },
    stop() {
      bar.stop();
    },
  };
}

/** Byte counts for progress bars: MB with one decimal. */
export function megabytes(bytes: number): number {
  return Math.round(bytes / 1e5) / 10;
}
