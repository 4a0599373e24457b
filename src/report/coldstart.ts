/**
 * Cold start in a train/test split: for the users and movies that appear in the test part, how
 * much the train part knows about them (0, 1–4, 5–19, 20+ train ratings), and how many test
 * ratings fall in each group. A model can only fall back to baselines for the first group and
 * has little to go on in the second, so this explains much of a split's test RMSE.
 */
import { existsSync, promises as fsp } from "node:fs";
import { join } from "node:path";
import { readDataset } from "../data/dataset.js";
import { DataError, type Dataset } from "../data/types.js";
import { countPerIndex } from "./stats.js";

/** Lower bounds of the train-count groups; a group ends where the next starts. */
const GROUPS = [0, 1, 5, 20] as const;

export interface ColdStartGroup {
  /** "0", "1–4", "5–19", "20+" train ratings. */
  label: string;
  testUsers: number;
  testMovies: number;
  /** Test ratings by the users / on the movies of this group. */
  ratingsByUsers: number;
  ratingsOnMovies: number;
}

export interface ColdStart {
  /** Which part of the split was used (a k-fold split has several). */
  part: string;
  nTrain: number;
  nTest: number;
  testUsers: number;
  testMovies: number;
  groups: ColdStartGroup[];
  /** contentHash of the dataset the split was cut from (from split.json), when known. */
  parentHash: string | null;
}

export interface SplitHalves {
  part: string;
  train: Dataset;
  test: Dataset;
  parentHash: string | null;
}

/**
 * Reads a split folder written by `movierec split`: the part named in split.json (the first one
 * for a k-fold split), or plain `train/` and `test/` dataset folders.
 */
export async function readSplitHalves(dir: string): Promise<SplitHalves> {
  const manifest = join(dir, "split.json");
  let part = "train/test";
  let trainDir = join(dir, "train");
  let testDir = join(dir, "test");
  let parentHash: string | null = null;
  if (existsSync(manifest)) {
    let m: { parts?: { name?: string; train?: { path?: string }; test?: { path?: string } }[]; parent?: { contentHash?: string } };
    try {
      m = JSON.parse(await fsp.readFile(manifest, "utf8"));
    } catch (err) {
      throw new DataError(`${manifest}: not valid JSON (${(err as Error).message})`, "re-create the split with `movierec split`");
    }
    const p = m.parts?.[0];
    if (!p?.train?.path || !p.test?.path) throw new DataError(`${manifest} lists no parts with train and test paths`, "re-create the split with `movierec split`");
    part = p.name ?? part;
    trainDir = join(dir, p.train.path);
    testDir = join(dir, p.test.path);
    parentHash = m.parent?.contentHash ?? null;
  } else if (!existsSync(trainDir) || !existsSync(testDir)) {
    throw new DataError(`${dir} is not a split folder (no split.json, no train/ and test/)`, "make one with `movierec split <dataset> --method temporal --out <dir>`");
  }
  return { part, train: await readDataset(trainDir), test: await readDataset(testDir), parentHash };
}

/** Groups the test part's users and movies by how many ratings they have in the train part. */
export function coldStart(halves: SplitHalves): ColdStart {
  const { train, test } = halves;
  if (train.users.length !== test.users.length || train.movies.length !== test.movies.length) {
    throw new DataError(
      `the train and test parts have different id tables (${train.users.length} / ${test.users.length} users, ${train.movies.length} / ${test.movies.length} movies)`,
      "give a folder written by `movierec split`, whose parts share their parent's id tables",
    );
  }
  const groups: ColdStartGroup[] = GROUPS.map((lo, g) => ({
    label: g + 1 < GROUPS.length ? (GROUPS[g + 1]! - 1 === lo ? String(lo) : `${lo}–${GROUPS[g + 1]! - 1}`) : `${lo}+`,
    testUsers: 0,
    testMovies: 0,
    ratingsByUsers: 0,
    ratingsOnMovies: 0,
  }));
  const tally = (trainIdx: Int32Array, testIdx: Int32Array, size: number, add: (g: ColdStartGroup, testRatings: number) => void): number => {
    const inTrain = countPerIndex(trainIdx, size);
    const inTest = countPerIndex(testIdx, size);
    let present = 0;
    for (let i = 0; i < size; i++) {
      if (inTest[i] === 0) continue;
      present++;
      add(groups[groupOf(inTrain[i]!)]!, inTest[i]!);
    }
    return present;
  };
  const testUsers = tally(train.ratings.user, test.ratings.user, train.users.length, (g, k) => {
    g.testUsers++;
    g.ratingsByUsers += k;
  });
  const testMovies = tally(train.ratings.movie, test.ratings.movie, train.movies.length, (g, k) => {
    g.testMovies++;
    g.ratingsOnMovies += k;
  });
  return {
    part: halves.part,
    nTrain: train.meta.nRatings,
    nTest: test.meta.nRatings,
    testUsers,
    testMovies,
    groups,
    parentHash: halves.parentHash,
  };
}

function groupOf(trainCount: number): number {
  let g = GROUPS.length - 1;
  while (trainCount < GROUPS[g]!) g--;
  return g;
}
