/** `movierec serve`: the HTTP API over a saved model, until SIGINT or SIGTERM. */
import { Command } from "commander";
import { EXIT_OK, parseIntOption } from "./common.js";
import type { CliIO } from "./io.js";

type Run = (code: Promise<number>) => void;

export function serveCommand(io: CliIO, run: Run): Command {
  return new Command("serve")
    .description("answer predictions, recommendations and title searches over HTTP (JSON)")
    .argument("<model>", "model file (read again on SIGHUP or POST /admin/reload)")
    .option("--port <n>", "TCP port (0: any free port)", parseIntOption("port", 0), 8080)
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .option("--admin-from-anywhere", "accept POST /admin/reload from any address (default: this machine only)")
    .option("--log", "log every request on stderr (JSON lines)")
    .addHelpText(
      "after",
      "\nRoutes: GET /health, /model, /predict?user=&movie=, /recommend/:user?n=&excludeSeen=, /similar/:movie?n=, /movies?q=&n=;\n" +
        "POST /recommend {users, n, excludeSeen}; POST /admin/reload.\n" +
        "\nExample:\n  movierec serve mf.model --port 8080\n  curl 'http://127.0.0.1:8080/recommend/42?n=5'\n",
    )
    .action((modelPath: string, o) =>
      run(
        (async () => {
          // Loaded here so that other commands start without the HTTP stack.
          const { serve } = await import("../serve/server.js");
          const server = await serve(modelPath, {
            host: o.host,
            port: o.port,
            adminFromAnywhere: !!o.adminFromAnywhere,
            log: !!o.log,
            notify: (line) => io.err(`movierec: ${line}\n`),
          });
          io.err(`movierec: serving ${server.modelSummary()} at ${server.address} (reload: SIGHUP or POST /admin/reload; stop: Ctrl-C)\n`);
          const signal = await stopSignal();
          io.err(`movierec: ${signal}: closing\n`);
          await server.close();
          return EXIT_OK;
        })(),
      ),
    );
}

/** Resolves with the name of the first SIGINT or SIGTERM. */
function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve(signal);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
