/**
 * Builds dist/stem: one executable with the CLI, the library (for user task modules that
 * import "stem") and the handler-thread entry point. The binary is written under a
 * temporary name and renamed into place, so a running `dist/stem` is never half-written.
 */
import { mkdirSync, renameSync } from "node:fs";

mkdirSync("dist", { recursive: true });
const temporary = `./dist/.stem-${process.pid}`;
const result = await Bun.build({
  entrypoints: ["./commands/cli.ts", "./src/worker/thread-entry.ts"],
  compile: { outfile: temporary },
  minify: false,
  sourcemap: "none",
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
renameSync(temporary, "./dist/stem");
console.log("built dist/stem");
