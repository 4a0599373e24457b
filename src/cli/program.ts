/**
 * The command line: `execute(argv, io)` runs one command and returns its exit code; it never
 * calls process.exit. User errors are one line plus a hint (stack traces only with --debug),
 * progress goes to stderr, results to stdout, --json for machines.
 */
import { Command, CommanderError } from "commander";
import { DataError } from "../data/types.js";
import { StopRequested } from "../engine/scheduler.js";
import { EXIT_OK, EXIT_USAGE } from "./common.js";
import { compareCommand } from "./compare.js";
import { generateCommand, ingestCommand, splitCommand } from "./data-commands.js";
import { demoCommand } from "./demo.js";
import { exportCommand } from "./export.js";
import type { CliIO } from "./io.js";
import { prizeCommand } from "./prize.js";
import { scoreCommand } from "./score.js";
import {
  algorithmsCommand,
  cvCommand,
  evalCommand,
  evaluateCommand,
  predictCommand,
  recommendCommand,
  trainCommand,
} from "./model-commands.js";
import { reportCommand } from "./report.js";
import { serveCommand } from "./serve.js";
import { similarCommand } from "./similar.js";

const VERSION = "0.1.0";

export async function execute(argv: string[], io: CliIO): Promise<number> {
  const debug = argv.includes("--debug");
  const args = argv.filter((a) => a !== "--debug");
  let pending: Promise<number> | null = null;
  const run = (p: Promise<number>) => {
    pending = p;
  };

  const program = new Command("movierec")
    .description("Movie recommendations: ingest rating files, train and evaluate models, recommend.")
    .version(VERSION)
    .option("--debug", "print stack traces for errors")
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .addHelpText(
      "after",
      "\nExit codes: 0 ok; 1 ran, but a requested check (--max-rmse) failed; 2 usage or data error.\n" +
        "Run `movierec <command> --help` for a command's flags, `movierec algorithms` for every model's hyperparameters.\n",
    );
  for (const make of [
    demoCommand,
    ingestCommand,
    generateCommand,
    splitCommand,
    trainCommand,
    evalCommand,
    evaluateCommand,
    cvCommand,
    recommendCommand,
    predictCommand,
    similarCommand,
    algorithmsCommand,
    prizeCommand,
    scoreCommand,
    compareCommand,
    serveCommand,
    reportCommand,
    exportCommand,
  ]) {
    const cmd = make(io, run).exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err }).showSuggestionAfterError(true);
    program.addCommand(cmd);
  }

  try {
    await program.parseAsync(args, { from: "user" });
    return pending === null ? EXIT_OK : await pending;
  } catch (err) {
    return reportError(err, io, debug);
  }
}

/** Exit code of a run stopped by Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130;

function reportError(err: unknown, io: CliIO, debug: boolean): number {
  if (err instanceof StopRequested) {
    io.err("movierec: interrupted; nothing was written\n");
    return EXIT_INTERRUPTED;
  }
  if (err instanceof CommanderError) {
    // --help and --version end here too (exit code 0): commander already printed them.
    if (err.exitCode === 0) return EXIT_OK;
    if (err.code === "commander.help") return EXIT_USAGE;
    io.err("hint: run `movierec --help` or `movierec <command> --help`\n");
    return EXIT_USAGE;
  }
  if (err instanceof DataError) {
    io.err(`movierec: ${err.message}\n`);
    if (err.hint) io.err(`hint: ${err.hint}\n`);
    if (debug) io.err(`${err.stack}\n`);
    return EXIT_USAGE;
  }
  const e = err as Error;
  io.err(`movierec: ${e?.message ?? String(err)}\n`);
  io.err(debug ? `${e?.stack}\n` : "hint: this looks like a bug; run again with --debug for the stack trace\n");
  return EXIT_USAGE;
}
