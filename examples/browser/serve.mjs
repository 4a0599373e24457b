/**
 * A tiny static server for the browser example: the page, build/movierec.wasm and one model file,
 * on 127.0.0.1, with the headers that make the page cross-origin isolated. The engine's memory is
 * a shared WebAssembly.Memory, and browsers allow shared memory (SharedArrayBuffer) only in
 * pages served with
 *
 *   Cross-Origin-Opener-Policy: same-origin
 *   Cross-Origin-Embedder-Policy: require-corp
 *
 * Any static server that sends those two headers can host the page the same way.
 *
 *   node examples/browser/serve.mjs <model file> [--port 8000] [--host 127.0.0.1]
 *
 * Only these paths are served; nothing in a request names a file.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = (file) => fileURLToPath(new URL(file, import.meta.url));

/** URL path → file and content type. "/model" is filled in with the model file. */
const ROUTES = {
  "/": [here("index.html"), "text/html; charset=utf-8"],
  "/index.html": [here("index.html"), "text/html; charset=utf-8"],
  "/app.js": [here("app.js"), "text/javascript; charset=utf-8"],
  "/build/movierec.wasm": [here("../../build/movierec.wasm"), "application/wasm"],
};

const ISOLATION = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
  "X-Content-Type-Options": "nosniff",
  "Cache-Control": "no-store",
};

/**
 * Starts the server. `port` 0 picks a free port. Resolves to the page's URL and a close()
 * that stops the server.
 */
export async function startServer({ model, port = 0, host = "127.0.0.1" }) {
  const routes = { ...ROUTES, "/model": [resolve(model), "application/octet-stream"] };
  await stat(routes["/model"][0]); // a missing model file fails here, not on the first request
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const route = routes[path];
    const reply = (code, text) => res.writeHead(code, { ...ISOLATION, "Content-Type": "text/plain" }).end(text);
    if (req.method !== "GET" && req.method !== "HEAD") return reply(405, "only GET and HEAD\n");
    if (!route) return reply(404, `no such page: ${path}\n`);
    const [file, type] = route;
    try {
      const { size } = await stat(file);
      res.writeHead(200, { ...ISOLATION, "Content-Type": type, "Content-Length": size });
      if (req.method === "HEAD") return res.end();
      createReadStream(file).on("error", () => res.destroy()).pipe(res);
    } catch (err) {
      reply(500, `cannot read ${path}: ${err.code ?? err.message}\n`);
    }
  });
  await new Promise((ok, fail) => server.once("error", fail).listen(port, host, ok));
  const address = server.address();
  return {
    url: `http://${host}:${address.port}/`,
    close: () => new Promise((ok) => {
      server.close(() => ok());
      server.closeAllConnections();
    }),
  };
}

function option(args, name, fallback) {
  const at = args.indexOf(name);
  return at < 0 ? fallback : args[at + 1];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const model = args.find((a, k) => !a.startsWith("--") && !args[k - 1]?.startsWith("--"));
  if (!model) {
    console.error("usage: node examples/browser/serve.mjs <model file> [--port 8000] [--host 127.0.0.1]");
    process.exitCode = 2;
  } else {
    try {
      const { url } = await startServer({ model, port: Number(option(args, "--port", 8000)), host: option(args, "--host", "127.0.0.1") });
      console.log(`movierec browser example: ${url} (model ${model}); Ctrl-C stops it`);
    } catch (err) {
      console.error(`cannot serve the example: ${err.message}`);
      process.exitCode = 1;
    }
  }
}
