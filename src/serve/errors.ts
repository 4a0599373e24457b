/**
 * Every error the HTTP API answers with has one shape, `{"error": {"code", "message"}}`, whatever
 * produced it: a failed schema check, a body too large or of the wrong type, an unknown movie or
 * route, a refused admin call, a model file that failed to reload. Clients branch on `code`
 * (stable, snake_case) and show `message` (one line saying what was wrong and what is allowed).
 */
import type { FastifyError } from "fastify";
import { DataError } from "../data/types.js";
import { LIMITS } from "./schemas.js";

export interface ErrorBody {
  error: { code: string; message: string };
}

/** An error a route throws on purpose, with its HTTP status and code. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Fastify's own errors about request bodies, as our code and message. */
const BODY_ERRORS: Record<string, [string, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ["payload_too_large", `body is larger than the ${LIMITS.bodyBytes} bytes allowed`],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ["unsupported_media_type", "body must be JSON, sent with content-type: application/json"],
  FST_ERR_CTP_EMPTY_JSON_BODY: ["bad_request", "body is empty but content-type is application/json"],
  FST_ERR_CTP_INVALID_JSON_BODY: ["bad_request", "body is not valid JSON"],
};

/** The status and body for any error thrown while handling a request. */
export function errorReply(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof ApiError) return { status: err.statusCode, body: errorBody(err.code, err.message) };
  // A DataError from a model call is a request the model cannot answer (e.g. no similarity).
  if (err instanceof DataError) return { status: 400, body: errorBody("not_supported", err.message) };
  const e = err as FastifyError;
  if (e.validation) {
    return { status: 400, body: errorBody("bad_request", `${e.validationContext ?? "request"} ${validationText(e)}`) };
  }
  const status = typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
  if (status >= 500) return { status, body: errorBody("internal_error", "the server failed to answer this request") };
  const [code, message] = BODY_ERRORS[e.code] ?? ["bad_request", e.message || "bad request"];
  return { status, body: errorBody(code, message) };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

/** "n must be <= 1000" from Ajv's first error, with the offending property named. */
function validationText(e: FastifyError): string {
  const v = e.validation![0];
  if (!v) return e.message;
  const where = v.instancePath ? v.instancePath.slice(1).replace(/\//g, ".") : "";
  const params = v.params as Record<string, unknown>;
  if (v.keyword === "required") return `is missing "${String(params.missingProperty)}"`;
  if (v.keyword === "additionalProperties") return `has an unexpected "${String(params.additionalProperty)}"${where ? ` in ${where}` : ""}`;
  return `${where || "value"} ${v.message ?? "is invalid"}`;
}
