/**
 * JSON schemas of every route: what a request may carry (checked by Fastify's Ajv before a
 * handler runs; unknown parameters are refused, numbers in query strings are converted) and
 * what a response holds (serialized by fast-json-stringify from these schemas).
 *
 * Ids are strings (as in a URL); numeric ids name the same user or movie as the number, so
 * `"42"` and `42` are one id. Ids the model returns (movies) keep the model's type: integers for
 * integer-id data sets, strings otherwise.
 */

/** Limits a client can rely on. */
export const LIMITS = {
  /** Most recommendations per user. */
  n: 1000,
  /** Most users in one POST /recommend. */
  batchUsers: 1000,
  /** Most recommendations per user in a batch. */
  batchN: 100,
  /** Longest id or search text, in characters. */
  idLength: 200,
  /** Largest request body, in bytes. */
  bodyBytes: 64 * 1024,
} as const;

const id = { type: "string", minLength: 1, maxLength: LIMITS.idLength } as const;
const count = (max: number, dflt: number) => ({ type: "integer", minimum: 1, maximum: max, default: dflt }) as const;
const excludeSeen = { type: "boolean", default: true } as const;
const rawId = { type: ["integer", "string"] } as const;
const nullableString = { type: ["string", "null"] } as const;

const errorResponse = {
  type: "object",
  properties: {
    error: { type: "object", properties: { code: { type: "string" }, message: { type: "string" } }, required: ["code", "message"] },
  },
} as const;

const item = {
  type: "object",
  properties: { movie: rawId, title: nullableString, score: { type: "number" } },
} as const;

const recommendation = {
  type: "object",
  properties: { user: { type: "string" }, fallback: { type: "boolean" }, reason: nullableString, items: { type: "array", items: item } },
} as const;

/** Responses of every route: the 2xx shape plus the error shape. */
function responses(ok: object): Record<string, object> {
  return { 200: ok, "4xx": errorResponse, "5xx": errorResponse };
}

export const healthSchema = {
  response: responses({ type: "object", properties: { status: { type: "string" } } }),
} as const;

export const modelInfo = {
  type: "object",
  properties: {
    algorithm: { type: "string" },
    parameters: { type: "object", additionalProperties: true },
    nUsers: { type: "integer" },
    nMovies: { type: "integer" },
    ratingScale: { type: "object", properties: { min: { type: "number" }, max: { type: "number" } } },
    trainedAt: nullableString,
    datasetHash: { type: "string" },
    loadedAt: { type: "string" },
  },
} as const;

export const modelSchema = { response: responses(modelInfo) } as const;

export const predictSchema = {
  querystring: { type: "object", properties: { user: id, movie: id }, required: ["user", "movie"], additionalProperties: false },
  response: responses({
    type: "object",
    properties: { user: { type: "string" }, movie: { type: "string" }, est: { type: "number" }, impossible: { type: "boolean" }, reason: nullableString },
  }),
} as const;

export const recommendOneSchema = {
  params: { type: "object", properties: { user: id }, required: ["user"] },
  querystring: { type: "object", properties: { n: count(LIMITS.n, 10), excludeSeen }, additionalProperties: false },
  response: responses(recommendation),
} as const;

export const recommendBatchSchema = {
  body: {
    type: "object",
    properties: {
      users: { type: "array", items: id, minItems: 1, maxItems: LIMITS.batchUsers },
      n: count(LIMITS.batchN, 10),
      excludeSeen,
    },
    required: ["users"],
    additionalProperties: false,
  },
  response: responses({ type: "object", properties: { results: { type: "array", items: recommendation } } }),
} as const;

export const similarSchema = {
  params: { type: "object", properties: { movie: id }, required: ["movie"] },
  querystring: { type: "object", properties: { n: count(LIMITS.n, 10) }, additionalProperties: false },
  response: responses({ type: "object", properties: { movie: { type: "string" }, items: { type: "array", items: item } } }),
} as const;

export const moviesSchema = {
  querystring: { type: "object", properties: { q: id, n: count(LIMITS.n, 20) }, required: ["q"], additionalProperties: false },
  response: responses({
    type: "object",
    properties: { items: { type: "array", items: { type: "object", properties: { movie: rawId, title: nullableString } } } },
  }),
} as const;

export const reloadSchema = {
  response: responses({ type: "object", properties: { reloaded: { type: "boolean" }, model: modelInfo } }),
} as const;
