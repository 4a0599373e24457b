/**
 * The routes of the HTTP API. Each handler takes the current model once (see ModelHolder) and
 * answers from it; raw ids in, raw ids, titles and scores out.
 *
 *   GET  /health                      {status}
 *   GET  /model                       the model's algorithm, parameters, counts, dates, dataset hash
 *   GET  /predict?user=&movie=        {user, movie, est, impossible, reason}; unknown movie → 404
 *   GET  /recommend/:user?n=&excludeSeen=   {user, fallback, reason, items:[{movie, title, score}]}
 *   POST /recommend {users, n?, excludeSeen?}  {results: [...as above]}
 *   GET  /similar/:movie?n=           {movie, items}; unknown movie → 404
 *   GET  /movies?q=&n=                {items:[{movie, title}]}: titles containing q, any case
 *   POST /admin/reload                reads the model file again (loopback clients only by default)
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Model, Recommendation } from "../models/model.js";
import { ApiError } from "./errors.js";
import type { ModelHolder, Served } from "./holder.js";
import {
  healthSchema,
  modelSchema,
  moviesSchema,
  predictSchema,
  recommendBatchSchema,
  recommendOneSchema,
  reloadSchema,
  similarSchema,
} from "./schemas.js";

export interface RouteOptions {
  /** Accept POST /admin/reload from any address, not only loopback ones. */
  adminFromAnywhere: boolean;
}

export function registerRoutes(app: FastifyInstance, holder: ModelHolder, opts: RouteOptions): void {
  app.get("/health", { schema: healthSchema }, async () => ({ status: "ok" }));

  app.get("/model", { schema: modelSchema }, async () => modelInfo(holder.current));

  app.get<{ Querystring: { user: string; movie: string } }>("/predict", { schema: predictSchema }, async (req) => {
    const { model } = holder.current;
    const { user, movie } = req.query;
    knownMovie(model, movie);
    const e = model.predictOne(user, movie);
    return { user, movie, est: e.est, impossible: e.impossible, reason: e.reason };
  });

  app.get<{ Params: { user: string }; Querystring: { n: number; excludeSeen: boolean } }>(
    "/recommend/:user",
    { schema: recommendOneSchema },
    async (req) => recommendation(holder.current.model.recommend([req.params.user], req.query)[0]!),
  );

  app.post<{ Body: { users: string[]; n: number; excludeSeen: boolean } }>(
    "/recommend",
    // Ajv would turn `true` into "true": ids must arrive as strings or integers.
    { schema: recommendBatchSchema, preValidation: checkBatchIds },
    async (req) => {
      const { users, n, excludeSeen } = req.body;
      return { results: holder.current.model.recommend(users, { n, excludeSeen }).map(recommendation) };
    },
  );

  app.get<{ Params: { movie: string }; Querystring: { n: number } }>(
    "/similar/:movie",
    { schema: similarSchema },
    async (req) => {
      const { model } = holder.current;
      const { movie } = req.params;
      knownMovie(model, movie);
      const [sim] = model.similarItems([movie], { n: req.query.n });
      return { movie, items: sim!.movieIds.map((id, k) => ({ movie: id, title: sim!.titles[k], score: sim!.scores[k] })) };
    },
  );

  app.get<{ Querystring: { q: string; n: number } }>("/movies", { schema: moviesSchema }, async (req) =>
    searchTitles(holder.current, req.query.q, req.query.n),
  );

  app.post("/admin/reload", { schema: reloadSchema }, async (req) => {
    if (!opts.adminFromAnywhere && !isLoopback(req.ip)) {
      throw new ApiError(403, "forbidden", `reload is only accepted from this machine (loopback), not from ${req.ip}`);
    }
    try {
      return { reloaded: true, model: modelInfo(await holder.reload()) };
    } catch (err) {
      throw new ApiError(500, "reload_failed", (err as Error).message);
    }
  });
}

/** What GET /model answers. */
function modelInfo({ model, loadedAt }: Served) {
  return {
    algorithm: model.algo,
    parameters: model.params,
    nUsers: model.nUsers,
    nMovies: model.nMovies,
    ratingScale: model.ratingScale,
    trainedAt: model.trainedAt,
    datasetHash: model.datasetHash,
    loadedAt,
  };
}

async function checkBatchIds(req: FastifyRequest): Promise<void> {
  const users = (req.body as { users?: unknown } | null)?.users;
  if (!Array.isArray(users)) return;
  const bad = users.findIndex((u) => typeof u !== "string" && !Number.isSafeInteger(u));
  if (bad >= 0) throw new ApiError(400, "bad_request", `body users.${bad} must be a user id (a string or an integer), got ${JSON.stringify(users[bad])}`);
}

function knownMovie(model: Model, movie: string): void {
  if (model.movieIndexOf(movie) < 0) throw new ApiError(404, "unknown_movie", `movie ${movie} is not in the model's training data`);
}

function recommendation(rec: Recommendation) {
  return {
    user: String(rec.userId),
    fallback: rec.fallback,
    reason: rec.reason,
    items: rec.movieIds.map((movie, k) => ({ movie, title: rec.titles[k], score: rec.scores[k] })),
  };
}

/** The first n movies (in the model's order) whose title contains q, ignoring case. */
function searchTitles({ model, searchTitles: titles }: Served, q: string, n: number) {
  const items: { movie: string | number; title: string | null }[] = [];
  if (titles === null) return { items };
  const needle = q.toLowerCase();
  for (let i = 0; i < titles.length && items.length < n; i++) {
    if (titles[i]?.includes(needle)) items.push({ movie: model.rawMovieId(i), title: model.title(i) });
  }
  return { items };
}

/** True for 127.0.0.0/8 and ::1, also written as IPv4-mapped IPv6 (::ffff:127.0.0.1). */
function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return v4.startsWith("127.") || address === "::1";
}
