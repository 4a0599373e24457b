/** The HTTP API through `app.inject`: every route, every kind of bad input, and model reloads. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import type { FastifyInstance, InjectOptions } from "fastify";
import { generateDataset } from "../../src/data/generate.js";
import type { Dataset } from "../../src/data/types.js";
import type { Model } from "../../src/models/model.js";
import { createModel } from "../../src/models/registry.js";
import { DataError } from "../../src/data/types.js";
import { buildServer, serve } from "../../src/serve/server.js";

const tmp = mkdtempSync(join(tmpdir(), "movierec-serve-"));
const modelPath = join(tmp, "served.model");
const otherPath = join(tmp, "other.model");
const meanPath = join(tmp, "mean.model");

const data: Dataset = generateDataset({ users: 300, movies: 150, ratings: 9000, seed: 3 });
const other: Dataset = generateDataset({ users: 300, movies: 150, ratings: 9000, seed: 4 });
const model: Model = await createModel("mf", { factors: 4, epochs: 5 }).fit(data);
const otherModel: Model = await createModel("mf", { factors: 4, epochs: 5, seed: 2 }).fit(other);
await model.save(modelPath);
await otherModel.save(otherPath);
await (await createModel("movie-mean").fit(data)).save(meanPath);

const notes: string[] = [];
const app: FastifyInstance = await buildServer(modelPath, { notify: (line) => notes.push(line) });

test.after(async () => {
  await app.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** A known user (raw id, as a string) and a movie they have not rated. */
const user = String(data.users[data.ratings.user[0]!]);
const movie = String(data.movies[data.ratings.movie[0]!]);
const unknownMovie = "987654321";

async function call(opts: InjectOptions): Promise<{ status: number; body: any }> {
  const res = await app.inject(opts);
  assert.match(String(res.headers["content-type"]), "application/json", `${opts.method ?? "GET"} ${opts.url}`);
  return { status: res.statusCode, body: res.json() };
}
const get = (url: string) => call({ method: "GET", url });
const post = (url: string, payload: unknown) => call({ method: "POST", url, payload: payload as object });

/** Asserts the error shape, status and code. */
function isError(res: { status: number; body: any }, status: number, code: string, mentions?: string) {
  assert.is(res.status, status, JSON.stringify(res.body));
  assert.equal(Object.keys(res.body), ["error"]);
  assert.is(res.body.error.code, code);
  assert.type(res.body.error.message, "string");
  assert.ok(res.body.error.message.length > 0);
  if (mentions) assert.match(res.body.error.message, mentions);
}

// ---- every route ----

test("GET /health", async () => {
  const res = await get("/health");
  assert.is(res.status, 200);
  assert.equal(res.body, { status: "ok" });
});

test("GET /model: algorithm, parameters, counts, dates, dataset hash", async () => {
  const { status, body } = await get("/model");
  assert.is(status, 200);
  assert.is(body.algorithm, "mf");
  assert.is(body.parameters.factors, 4);
  assert.is(body.parameters.epochs, 5);
  assert.is(body.nUsers, data.meta.nUsers);
  assert.is(body.nMovies, data.meta.nMovies);
  assert.equal(body.ratingScale, data.meta.ratingScale);
  assert.is(body.trainedAt, model.trainedAt);
  assert.is(body.datasetHash, data.meta.contentHash);
  assert.ok(!Number.isNaN(Date.parse(body.loadedAt)));
});

test("GET /predict: the model's estimate; an unknown user falls back and says so", async () => {
  const res = await get(`/predict?user=${user}&movie=${movie}`);
  assert.is(res.status, 200);
  const e = model.predictOne(user, movie);
  assert.equal(res.body, { user, movie, est: e.est, impossible: false, reason: null });
  const cold = await get(`/predict?user=no-such-user&movie=${movie}`);
  assert.is(cold.status, 200);
  assert.is(cold.body.impossible, true);
  assert.match(cold.body.reason, "no-such-user");
  assert.is(cold.body.est, model.predictOne("no-such-user", movie).est);
});

test("GET /recommend/:user: the model's top n with titles; excludeSeen=false may repeat rated movies", async () => {
  const res = await get(`/recommend/${user}?n=7`);
  assert.is(res.status, 200);
  const [rec] = model.recommend([user], { n: 7 });
  assert.equal(res.body, {
    user,
    fallback: false,
    reason: null,
    items: rec!.movieIds.map((m, k) => ({ movie: m, title: rec!.titles[k], score: rec!.scores[k] })),
  });
  assert.is(res.body.items.length, 7);
  assert.type(res.body.items[0].title, "string");
  const withSeen = await get(`/recommend/${user}?n=7&excludeSeen=false`);
  const [recSeen] = model.recommend([user], { n: 7, excludeSeen: false });
  assert.equal(withSeen.body.items.map((x: { movie: number }) => x.movie), recSeen!.movieIds);
  assert.is((await get(`/recommend/${user}`)).body.items.length, 10, "n defaults to 10");
});

test("GET /recommend/:user for an unknown user: popular-by-baseline movies with fallback: true", async () => {
  const { status, body } = await get("/recommend/nobody-42?n=5");
  assert.is(status, 200);
  assert.is(body.fallback, true);
  assert.match(body.reason, "nobody-42");
  assert.equal(body.items.map((x: { movie: number }) => x.movie), model.recommend(["nobody-42"], { n: 5 })[0]!.movieIds);
});

test("POST /recommend: a batch answers like one GET per user, in order; integer ids are accepted", async () => {
  const users = [user, "nobody", String(data.users[5])];
  const { status, body } = await post("/recommend", { users: [users[0], users[1], Number(users[2])], n: 3 });
  assert.is(status, 200);
  assert.is(body.results.length, 3);
  for (let k = 0; k < users.length; k++) {
    const one = await get(`/recommend/${users[k]}?n=3`);
    assert.equal(body.results[k], one.body, users[k]);
  }
});

test("GET /similar/:movie: the model's most similar movies", async () => {
  const res = await get(`/similar/${movie}?n=4`);
  assert.is(res.status, 200);
  const [sim] = model.similarItems([movie], { n: 4 });
  assert.equal(res.body, { movie, items: sim!.movieIds.map((m, k) => ({ movie: m, title: sim!.titles[k], score: sim!.scores[k] })) });
  assert.not.ok(res.body.items.some((x: { movie: number }) => String(x.movie) === movie), "a movie is not similar to itself");
});

test("GET /movies?q=: titles containing q, any case, at most n", async () => {
  const title = data.titles![3]!;
  const word = title.split(" ").find((w) => w.length > 3)!;
  const res = await get(`/movies?q=${encodeURIComponent(word.toUpperCase())}&n=1000`);
  assert.is(res.status, 200);
  const expected = data.titles!.flatMap((t, i) => (t!.toLowerCase().includes(word.toLowerCase()) ? [{ movie: data.movies[i], title: t }] : []));
  assert.ok(expected.length > 0);
  assert.equal(res.body.items, expected);
  assert.is((await get(`/movies?q=${encodeURIComponent(word)}&n=1`)).body.items.length, 1);
  assert.equal((await get("/movies?q=zzzz-no-such-title")).body, { items: [] });
});

// ---- bad input ----

test("missing or empty parameters → 400 bad_request naming the parameter", async () => {
  isError(await get(`/predict?user=${user}`), 400, "bad_request", '"movie"');
  isError(await get(`/predict?movie=${movie}`), 400, "bad_request", '"user"');
  isError(await get(`/predict?user=&movie=${movie}`), 400, "bad_request", "user");
  isError(await get("/movies"), 400, "bad_request", '"q"');
  isError(await post("/recommend", { n: 3 }), 400, "bad_request", '"users"');
  isError(await post("/recommend", { users: [] }), 400, "bad_request", "users");
});

test("invalid parameters → 400: n out of range or not a number, bad booleans, unknown parameters", async () => {
  for (const n of ["0", "-1", "1001", "2.5", "ten"]) isError(await get(`/recommend/${user}?n=${n}`), 400, "bad_request", "n");
  isError(await get(`/similar/${movie}?n=0`), 400, "bad_request", "n");
  isError(await get("/movies?q=a&n=5000"), 400, "bad_request", "n");
  isError(await get(`/recommend/${user}?excludeSeen=maybe`), 400, "bad_request", "excludeSeen");
  isError(await get(`/recommend/${user}?count=5`), 400, "bad_request", '"count"');
  isError(await get(`/predict?user=${user}&movie=${movie}&file=/etc/passwd`), 400, "bad_request", '"file"');
  isError(await get(`/predict?user=${user}&user=2&movie=${movie}`), 400, "bad_request", "user");
  isError(await get(`/movies?q=${"x".repeat(201)}`), 400, "bad_request", "q");
});

test("invalid batch bodies → 400: wrong id types, too many users, n too large, unknown fields, not JSON", async () => {
  isError(await post("/recommend", { users: [true] }), 400, "bad_request", "users.0");
  isError(await post("/recommend", { users: ["1", { id: 2 }] }), 400, "bad_request", "users.1");
  isError(await post("/recommend", { users: "1" }), 400, "bad_request", "users");
  isError(await post("/recommend", { users: Array.from({ length: 1001 }, (_, k) => String(k)) }), 400, "bad_request", "users");
  isError(await post("/recommend", { users: ["1"], n: 101 }), 400, "bad_request", "n");
  isError(await post("/recommend", { users: ["1"], path: "/tmp/x" }), 400, "bad_request", '"path"');
  const res = await call({ method: "POST", url: "/recommend", headers: { "content-type": "application/json" }, payload: '{"users": [' });
  isError(res, 400, "bad_request", "JSON");
});

test("oversized body → 413; wrong content type → 415", async () => {
  const big = { users: ["1"], pad: "x".repeat(70 * 1024) };
  isError(await post("/recommend", big), 413, "payload_too_large", "bytes");
  const plain = await call({ method: "POST", url: "/recommend", headers: { "content-type": "text/plain" }, payload: "users=1" });
  isError(plain, 415, "unsupported_media_type", "application/json");
  const form = await call({ method: "POST", url: "/recommend", headers: { "content-type": "application/x-www-form-urlencoded" }, payload: "users=1" });
  isError(form, 415, "unsupported_media_type");
});

test("unknown movie on /predict and /similar → 404 unknown_movie", async () => {
  isError(await get(`/predict?user=${user}&movie=${unknownMovie}`), 404, "unknown_movie", unknownMovie);
  isError(await get(`/similar/${unknownMovie}`), 404, "unknown_movie", unknownMovie);
  isError(await get("/similar/not-a-movie"), 404, "unknown_movie");
});

test("unknown route or method → 404 not_found", async () => {
  isError(await get("/recommendations/1"), 404, "not_found", "/recommendations/1");
  isError(await get("/"), 404, "not_found");
  isError(await call({ method: "DELETE", url: "/model" }), 404, "not_found", "DELETE");
  isError(await get("/admin/reload"), 404, "not_found");
});

test("a model without movie similarity → 400 not_supported on /similar", async () => {
  const meanApp = await buildServer(meanPath);
  try {
    const res = await meanApp.inject({ method: "GET", url: `/similar/${movie}` });
    isError({ status: res.statusCode, body: res.json() }, 400, "not_supported", "similarity");
  } finally {
    await meanApp.close();
  }
});

test("POST /admin/reload from a non-loopback address → 403; allowed with adminFromAnywhere", async () => {
  const remote = await call({ method: "POST", url: "/admin/reload", remoteAddress: "203.0.113.9" });
  isError(remote, 403, "forbidden", "203.0.113.9");
  for (const address of ["127.0.0.1", "::1", "::ffff:127.0.0.1"]) {
    const local = await call({ method: "POST", url: "/admin/reload", remoteAddress: address });
    assert.is(local.status, 200, address);
  }
  const open = await buildServer(modelPath, { adminFromAnywhere: true });
  try {
    assert.is((await open.inject({ method: "POST", url: "/admin/reload", remoteAddress: "203.0.113.9" })).statusCode, 200);
  } finally {
    await open.close();
  }
});

// ---- reloads ----

test("reload swaps in the replaced model file; a request in flight during the reload is answered", async () => {
  const before = await get(`/predict?user=${user}&movie=${movie}`);
  // A batch request whose body is still arriving while the reload runs.
  const body = new PassThrough();
  const inFlight = app.inject({ method: "POST", url: "/recommend", headers: { "content-type": "application/json" }, payload: body });
  body.write('{"users": ["' + user + '"], ');
  copyFileSync(otherPath, modelPath);
  const reload = await call({ method: "POST", url: "/admin/reload" });
  body.end('"n": 5}');
  assert.is(reload.status, 200);
  assert.is(reload.body.reloaded, true);
  assert.is(reload.body.model.datasetHash, other.meta.contentHash);
  const answered = await inFlight;
  assert.is(answered.statusCode, 200);
  assert.equal(answered.json().results[0].items.map((x: { movie: number }) => x.movie), otherModel.recommend([user], { n: 5 })[0]!.movieIds);
  const after = await get(`/predict?user=${user}&movie=${movie}`);
  assert.is.not(after.body.est, before.body.est);
  assert.is(after.body.est, otherModel.predictOne(user, movie).est);
  assert.is((await get("/model")).body.datasetHash, other.meta.contentHash);
  assert.ok(notes.some((n) => n.startsWith(`reloaded ${modelPath}`)), notes.join("\n"));
});

test("a failed reload keeps the old model and answers 500 reload_failed", async () => {
  const before = await get(`/predict?user=${user}&movie=${movie}`);
  writeFileSync(modelPath, "not a model file");
  const res = await call({ method: "POST", url: "/admin/reload" });
  isError(res, 500, "reload_failed", "still serving the previous model");
  assert.ok(notes.some((n) => n.includes("failed, still serving the previous model")), notes.join("\n"));
  const after = await get(`/predict?user=${user}&movie=${movie}`);
  assert.equal(after.body, before.body);
  assert.is((await get("/health")).status, 200);
});

test("serve(): listens on loopback with an ephemeral port; a port in use is a DataError naming it", async () => {
  const running = await serve(meanPath, { port: 0 });
  try {
    assert.match(running.address, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(await (await fetch(`${running.address}/health`)).json(), { status: "ok" });
    assert.match(running.modelSummary(), "movie-mean model of");
    const port = Number(new URL(running.address).port);
    let error: unknown = null;
    await serve(meanPath, { port }).catch((err) => (error = err));
    assert.instance(error, DataError);
    assert.match((error as DataError).message, `127.0.0.1:${port}: the port is in use`);
  } finally {
    await running.close();
  }
});

test.run();
