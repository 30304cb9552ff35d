/**
 * Builds dist/stem: one executable with the CLI, the library (for user task modules that
 * import "stem") and the handler-thread entry point. The binary is written under a
 * temporary name and renamed into place, so a running `dist/stem` is never half-written.
 * The dashboard's browser script is bundled first and embedded as a constant
 * (STEM_DASHBOARD_UI_JS, see src/dashboard/ui-bundle.ts), so the binary serves it
 * without any file next to it.
 */
import { mkdirSync, renameSync } from "node:fs";
import { buildUi } from "./src/dashboard/ui-bundle.ts";

mkdirSync("dist", { recursive: true });
const temporary = `./dist/.stem-${process.pid}`;
const result = await Bun.build({
  entrypoints: ["./commands/cli.ts", "./src/worker/thread-entry.ts"],
  compile: { outfile: temporary },
  minify: false,
  sourcemap: "none",
  define: { STEM_DASHBOARD_UI_JS: JSON.stringify(await buildUi(true)) },
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
renameSync(temporary, "./dist/stem");
console.log("built dist/stem");
