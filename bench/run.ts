/**
 * `node dist/bench/run.js <name> [flags]` (or `npm run bench -- <name> [flags]`): runs
 * bench/<name>.ts, which exports `main(argv)`. An unknown or missing name lists the benches
 * and exits with code 2.
 */
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const NOT_BENCHES = new Set(["lib", "run"]);

function benchNames(): string[] {
  const dir = fileURLToPath(new URL(".", import.meta.url));
  return readdirSync(dir)
    .filter((file) => file.endsWith(".js"))
    .map((file) => file.slice(0, -3))
    .filter((name) => !NOT_BENCHES.has(name))
    .sort();
}

async function run(argv: string[]): Promise<number> {
  const [name, ...flags] = argv;
  const names = benchNames();
  if (name === undefined || !names.includes(name)) {
    process.stderr.write(
      `${name === undefined ? "no benchmark named" : `unknown benchmark "${name}"`}\n` +
        `usage: npm run bench -- <name> [flags]\nbenchmarks: ${names.join(", ")}\n`,
    );
    return 2;
  }
  const bench = (await import(`./${name}.js`)) as { main(argv: string[]): Promise<void> };
  try {
    await bench.main(flags);
  } catch (err) {
    // Bad flags and data errors: one line, no stack (set DEBUG=1 for it).
    process.stderr.write(`bench ${name}: ${(err as Error).message}\n`);
    if (process.env.DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return 2;
  }
  return 0;
}

process.exitCode = await run(process.argv.slice(2));
