/**
 * The model a server answers with, and how it is replaced while the server runs.
 *
 * A reload reads the model file again (the path given at start; the file may have been replaced
 * since), builds the new model completely — engine instance, title search index — and only then
 * swaps one reference. A request reads the reference once when its handler starts and answers
 * from that model to the end, so no request is dropped or sees two models, and a reload that
 * fails leaves the old model serving. Reloads asked for while one runs share its result.
 */
import type { Model } from "../models/model.js";
import { loadModel } from "../models/registry.js";

/** A loaded model with what serving needs beside it. */
export interface Served {
  model: Model;
  loadedAt: string;
  /** Lower-cased titles by dense movie index (null entries for unknown titles), or null without titles. */
  searchTitles: (string | null)[] | null;
}

export class ModelHolder {
  private reloading: Promise<Served> | null = null;

  private constructor(
    readonly path: string,
    private served: Served,
    private readonly notify: (line: string) => void,
  ) {}

  /**
   * Loads the model at `path`; the holder reloads from the same path and tells `notify` (one
   * line) how each reload went.
   */
  static async open(path: string, notify: (line: string) => void = () => {}): Promise<ModelHolder> {
    return new ModelHolder(path, await load(path), notify);
  }

  /** The model to answer the current request with. */
  get current(): Served {
    return this.served;
  }

  /** Loads the model file again and swaps it in; on failure the old model stays and the error is thrown. */
  reload(): Promise<Served> {
    this.reloading ??= load(this.path)
      .then(
        (next) => {
          this.served = next;
          this.notify(`reloaded ${this.path}: ${describe(next.model)}`);
          return next;
        },
        (err: Error) => {
          err.message = `reloading ${this.path} failed, still serving the previous model: ${err.message}`;
          this.notify(err.message);
          throw err;
        },
      )
      .finally(() => (this.reloading = null));
    return this.reloading;
  }
}

/** One line about a model, for the operator. */
export function describe(model: Model): string {
  const users = model.nUsers.toLocaleString("en-US");
  const movies = model.nMovies.toLocaleString("en-US");
  return `${model.algo} model of ${users} users × ${movies} movies, trained ${model.trainedAt ?? "at an unknown time"}`;
}

async function load(path: string): Promise<Served> {
  const model = await loadModel(path);
  const titles = model.titles;
  return {
    model,
    loadedAt: new Date().toISOString(),
    searchTitles: titles && titles.map((t) => (t === null ? null : t.toLowerCase())),
  };
}
