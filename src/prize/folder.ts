/**
 * A Netflix Prize folder as Netflix shipped it (or `movierec generate --prize` writes it):
 *
 *   training_set/mv_0000001.txt ...   the training ratings, one file per movie (probe included),
 *     or combined_data_*.txt           the same ratings in a few files (the Kaggle layout)
 *   probe.txt                          `MovieID:` then CustomerID lines
 *   qualifying.txt                     `MovieID:` then CustomerID,YYYY-MM-DD lines
 *   movie_titles.txt                   latin-1 MovieID,YearOfRelease,Title (optional here)
 *
 * (files found by the same rules as `movierec ingest netflix <folder>`: mv_*.txt may also sit in the
 * folder itself, and movie_titles.csv is taken before .txt),
 * and a fingerprint of those files (names, sizes, modification times), which a resumable run
 * keeps so it can tell when its inputs changed under it.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { DataError } from "../data/types.js";

export interface PrizeFolder {
  dir: string;
  layout: "training_set" | "combined";
  /** The training rating files, sorted. */
  training: string[];
  probe: string;
  qualifying: string;
  titles: string | null;
}

export interface FileStamp {
  bytes: number;
  mtimeMs: number;
}

export interface FolderFingerprint {
  dir: string;
  layout: PrizeFolder["layout"];
  /** The training files together: how many, their total size, and a sha256 over each name, size and time. */
  training: { files: number; bytes: number; digest: string };
  probe: FileStamp;
  qualifying: FileStamp;
  titles: FileStamp | null;
}

const MV_FILE = /^mv_\d+\.txt$/;
const COMBINED = /^combined_data_\d+\.txt$/;
const TITLES = /^movie_titles\.(txt|csv)$/;
const HINT =
  "a Netflix Prize folder holds training_set/ (or combined_data_*.txt), probe.txt, qualifying.txt and movie_titles.txt; " +
  "`movierec generate --prize --out <dir>` writes one from generated data";

function isDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

function matching(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir)
    .filter((n) => pattern.test(n))
    .sort()
    .map((n) => join(dir, n));
}

/** Finds the Prize files of `dir`; refuses a folder that lacks the training files, probe.txt or qualifying.txt. */
export function locatePrizeFolder(dir: string): PrizeFolder {
  if (!isDir(dir)) throw new DataError(`${dir}: no such folder`, HINT);
  const trainingSet = join(dir, "training_set");
  const mv = matching(isDir(trainingSet) ? trainingSet : dir, MV_FILE);
  const combined = matching(dir, COMBINED);
  if (mv.length > 0 && combined.length > 0) {
    throw new DataError(`${dir} holds both training_set/mv_*.txt and combined_data_*.txt: the same ratings in two layouts`, "keep one of them");
  }
  if (mv.length === 0 && combined.length === 0) throw new DataError(`${dir}: no training ratings (training_set/mv_*.txt or combined_data_*.txt)`, HINT);
  const need = (name: string) => {
    const path = join(dir, name);
    if (!existsSync(path)) throw new DataError(`${dir}: no ${name}`, HINT);
    return path;
  };
  const titles = matching(dir, TITLES)[0] ?? null;
  return {
    dir,
    layout: mv.length > 0 ? "training_set" : "combined",
    training: mv.length > 0 ? mv : combined,
    probe: need("probe.txt"),
    qualifying: need("qualifying.txt"),
    titles,
  };
}

function stamp(path: string): FileStamp {
  const st = statSync(path);
  return { bytes: st.size, mtimeMs: Math.round(st.mtimeMs) };
}

/** The folder's fingerprint: cheap (file metadata only), and changed by any edit, replacement or touch. */
export function fingerprint(f: PrizeFolder): FolderFingerprint {
  const h = createHash("sha256");
  let bytes = 0;
  for (const path of f.training) {
    const s = stamp(path);
    bytes += s.bytes;
    h.update(`${relative(f.dir, path)}\t${s.bytes}\t${s.mtimeMs}\n`);
  }
  return {
    dir: resolve(f.dir),
    layout: f.layout,
    training: { files: f.training.length, bytes, digest: h.digest("hex") },
    probe: stamp(f.probe),
    qualifying: stamp(f.qualifying),
    titles: f.titles ? stamp(f.titles) : null,
  };
}

/** The parts of two fingerprints that differ, in words ("probe.txt", "the training files"...). */
export function fingerprintChanges(was: FolderFingerprint, now: FolderFingerprint): string[] {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const out: string[] = [];
  if (was.dir !== now.dir) out.push(`the folder (was ${was.dir})`);
  if (was.layout !== now.layout || !same(was.training, now.training)) out.push("the training files");
  if (!same(was.probe, now.probe)) out.push("probe.txt");
  if (!same(was.qualifying, now.qualifying)) out.push("qualifying.txt");
  if (!same(was.titles, now.titles)) out.push("movie_titles");
  return out;
}
