/**
 * Builds dist/stem: one executable with the CLI, the library (for user task modules that
 * import "stem") and the handler-thread entry point.
 */
import { rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
const result = await Bun.build({
  entrypoints: ["./commands/cli.ts", "./src/worker/thread-entry.ts"],
  compile: { outfile: "./dist/stem" },
  minify: false,
  sourcemap: "none",
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.log("built dist/stem");
