/**
 * The Prize's submission format: the rows of qualifying.txt in the same order, each `MovieID:`
 * line followed by one predicted rating per line (here with 3 decimals). The answers file of a
 * generated Prize folder (qualifying-answers.txt) has the same shape with the true ratings.
 *
 *   1:
 *   3.412
 *   4.087
 *   10:
 *   ...
 */
import { promises as fsp } from "node:fs";
import { emptyFileError, scanBytes } from "../data/lines.js";
import { DataError, ParseError } from "../data/types.js";
import { tempName } from "./state.js";

const COLON = 58;
const WRITE_CHUNK = 1 << 20;

/** Writes predictions under `MovieID:` lines (a new one whenever the movie changes), atomically. */
export async function writeSubmission(path: string, movieIds: Int32Array, values: Float32Array, onProgress?: (done: number, total: number) => void): Promise<void> {
  if (movieIds.length !== values.length) throw new Error(`${values.length} predictions for ${movieIds.length} rows`);
  const tmp = tempName(path);
  const fh = await fsp.open(tmp, "wx");
  try {
    let text = "";
    let last = -1;
    for (let k = 0; k < values.length; k++) {
      if (movieIds[k] !== last) {
        last = movieIds[k]!;
        text += `${last}:\n`;
      }
      text += `${values[k]!.toFixed(3)}\n`;
      if (text.length >= WRITE_CHUNK) {
        await fh.write(text);
        text = "";
        onProgress?.(k + 1, values.length);
      }
    }
    await fh.write(text);
    await fh.close();
    await fsp.rename(tmp, path);
    onProgress?.(values.length, values.length);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

/** A submission-format file read back: the movie and the value of each row, and the row's line. */
export interface Submission {
  file: string;
  movieIds: Int32Array;
  values: Float64Array;
  lines: Int32Array;
}

/** Reads a submission-format file (predictions or answers); a value before any `MovieID:` line, or a line that is not a number, is refused with its line. */
export async function readSubmission(file: string): Promise<Submission> {
  const movieIds: number[] = [];
  const values: number[] = [];
  const lines: number[] = [];
  let movieId = -1;
  await scanBytes(file, (c) => {
    while (c.more()) {
      if (c.blank()) continue;
      const line = c.line;
      const start = c.pos;
      const id = c.uint("MovieID or rating");
      if (c.at(COLON)) {
        c.pos++;
        c.endLine("MovieID:");
        movieId = id;
        continue;
      }
      if (movieId < 0) throw c.fail(`rating before any "MovieID:" line`, `the file starts with a line "MovieID:", e.g. "1:"`);
      c.pos = start;
      const v = c.decimal("rating");
      c.endLine("rating");
      movieIds.push(movieId);
      values.push(v);
      lines.push(line);
    }
  });
  if (values.length === 0) throw emptyFileError(file, "rows");
  return { file, movieIds: Int32Array.from(movieIds), values: Float64Array.from(values), lines: Int32Array.from(lines) };
}

/** RMSE of `predictions` against `answers`, row by row; refuses files whose rows or movies do not line up, naming both files and the line. */
export function scoreSubmission(predictions: Submission, answers: Submission): { rmse: number; n: number } {
  const n = Math.min(predictions.values.length, answers.values.length);
  for (let k = 0; k < n; k++) {
    if (predictions.movieIds[k] !== answers.movieIds[k]) {
      throw new ParseError(
        predictions.file,
        predictions.lines[k]!,
        `row ${k + 1} is for movie ${predictions.movieIds[k]}, but row ${k + 1} of ${answers.file} (line ${answers.lines[k]}) is for movie ${answers.movieIds[k]}`,
        "predictions must list the qualifying rows in qualifying.txt's order, under the same MovieID: lines",
      );
    }
  }
  if (predictions.values.length !== answers.values.length) {
    const [shorter, longer] = predictions.values.length < answers.values.length ? [predictions, answers] : [answers, predictions];
    throw new DataError(
      `${predictions.file} has ${predictions.values.length} rows and ${answers.file} has ${answers.values.length}: ${longer.file} goes on at line ${longer.lines[n]} after ${shorter.file} ends`,
      "predictions must have exactly one line per qualifying row",
    );
  }
  let se = 0;
  for (let k = 0; k < n; k++) {
    const e = predictions.values[k]! - answers.values[k]!;
    se += e * e;
  }
  return { rmse: Math.sqrt(se / n), n };
}
