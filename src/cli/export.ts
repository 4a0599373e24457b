/** `movierec export`: a dataset as Parquet for pandas, DuckDB, Polars and Spark. */
import { Command, Option } from "commander";
import { readDataset } from "../data/dataset.js";
import { exportParquet, PARQUET_DEFAULTS, type ParquetCompression } from "../data/export.js";
import { EXIT_OK, parseIntOption } from "./common.js";
import type { CliIO } from "./io.js";
import { progressBar } from "./progress.js";

type Run = (code: Promise<number>) => void;

export function exportCommand(io: CliIO, run: Run): Command {
  return new Command("export")
    .description("write a dataset's ratings as Parquet: user_id, movie_id (raw ids), rating, date")
    .argument("<dataset>", "dataset folder")
    .requiredOption("--parquet <file>", "Parquet file to write (written atomically)")
    .addOption(new Option("--compression <codec>", "column compression").choices(["snappy", "zstd", "gzip", "none"]).default(PARQUET_DEFAULTS.compression))
    .option("--row-group <rows>", "rows per row group", parseIntOption("row-group", 1), PARQUET_DEFAULTS.rowGroupRows)
    .option("--force", "replace the file if it exists")
    .addHelpText(
      "after",
      "\nExample:\n  movierec export data/netflix --parquet netflix.parquet\n  duckdb -c \"SELECT rating, count(*) FROM 'netflix.parquet' GROUP BY rating\"\n",
    )
    .action((path: string, o) =>
      run(
        (async () => {
          const ds = await readDataset(path);
          const bar = progressBar(io, "export", "rows", ds.meta.nRatings);
          const t0 = performance.now();
          const res = await exportParquet(ds, o.parquet, {
            compression: o.compression as ParquetCompression,
            rowGroupRows: o.rowGroup,
            force: !!o.force,
            onProgress: (done, total) => bar.update(done, total),
          }).finally(() => bar.stop());
          const secs = ((performance.now() - t0) / 1000).toFixed(1);
          io.out(
            `wrote ${o.parquet}: ${res.rows.toLocaleString("en-US")} rows in ${res.rowGroups} row groups, ${(res.bytes / 2 ** 20).toFixed(1)} MiB, columns ${res.columns.join(", ")} in ${secs} s\n`,
          );
          return EXIT_OK;
        })(),
      ),
    );
}
