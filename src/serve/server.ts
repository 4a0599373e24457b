/**
 * The HTTP API server (Fastify): `buildServer` gives an app ready for `inject` (tests, embedding),
 * `serve` listens and reloads the model on SIGHUP.
 *
 * Requests are checked against JSON schemas before a handler runs (unknown parameters refused,
 * bodies at most LIMITS.bodyBytes and JSON only), and every error — from a schema, a body parser,
 * a handler or an unknown route — is answered as `{"error": {"code", "message"}}`.
 */
import Fastify, { type FastifyInstance } from "fastify";
import { DataError } from "../data/types.js";
import { errorBody, errorReply } from "./errors.js";
import { describe, ModelHolder } from "./holder.js";
import { registerRoutes } from "./routes.js";
import { LIMITS } from "./schemas.js";

export interface ServerOptions {
  /** Accept POST /admin/reload from any address (default: loopback clients only). */
  adminFromAnywhere?: boolean;
  /** Fastify's request log (JSON lines) on stderr (default off). */
  log?: boolean;
  /** Receives one line per reload or server failure (default: dropped). */
  notify?: (line: string) => void;
}

export interface ServeOptions extends ServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
}

export interface RunningServer {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:8080 */
  address: string;
  /** One line about the model being served. */
  modelSummary(): string;
  /** Reads the model file again (what SIGHUP does); resolves false when that failed and the old model stays. */
  reload(): Promise<boolean>;
  /** Stops listening, lets in-flight requests finish, and removes the SIGHUP handler. */
  close(): Promise<void>;
}

/** An app serving the model file at `modelPath` (not listening yet). */
export async function buildServer(modelPath: string, opts: ServerOptions = {}): Promise<FastifyInstance> {
  return createApp(await ModelHolder.open(modelPath, opts.notify), opts);
}

/** Loads the model, listens on host:port, and reloads the model on SIGHUP until closed. */
export async function serve(modelPath: string, opts: ServeOptions = {}): Promise<RunningServer> {
  const holder = await ModelHolder.open(modelPath, opts.notify);
  const app = createApp(holder, opts);
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port ?? 8080;
  const address = await app.listen({ host, port }).catch(async (err: NodeJS.ErrnoException) => {
    await app.close();
    const why = err.code === "EADDRINUSE" ? "the port is in use" : err.code === "EACCES" ? "permission denied" : err.message;
    throw new DataError(`cannot listen on ${host}:${port}: ${why}`, "choose another --port or --host");
  });
  const reload = (): Promise<boolean> =>
    holder.reload().then(
      () => true,
      () => false,
    );
  const onHangup = () => void reload();
  process.on("SIGHUP", onHangup);
  return {
    app,
    address,
    modelSummary: () => describe(holder.current.model),
    reload,
    async close() {
      process.off("SIGHUP", onHangup);
      await app.close();
    },
  };
}

function createApp(holder: ModelHolder, opts: ServerOptions): FastifyInstance {
  const notify = opts.notify ?? (() => {});
  const app = Fastify({
    logger: opts.log ? { level: "info", stream: process.stderr } : false,
    bodyLimit: LIMITS.bodyBytes,
    routerOptions: { maxParamLength: LIMITS.idLength },
    // Refuse unknown parameters instead of dropping them; convert query-string numbers and booleans.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true } },
  });
  // JSON bodies only: a text/plain body is refused (415) rather than parsed as a string.
  app.removeContentTypeParser("text/plain");
  app.setErrorHandler((err, req, reply) => {
    const { status, body } = errorReply(err);
    if (status >= 500) {
      req.log.error(err);
      if (body.error.code === "internal_error") notify(`${req.method} ${req.url} failed: ${(err as Error).message}`);
    }
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send(errorBody("not_found", `no route ${req.method} ${req.url.slice(0, LIMITS.idLength)}`)),
  );
  registerRoutes(app, holder, { adminFromAnywhere: opts.adminFromAnywhere ?? false });
  return app;
}
