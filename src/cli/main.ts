#!/usr/bin/env node
/** The `movierec` binary. */
import { processIO } from "./io.js";
import { execute } from "./program.js";

process.exitCode = await execute(process.argv.slice(2), processIO);
