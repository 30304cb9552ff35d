/**
 * Builds dist/stem: one executable with the CLI, the library (for user task modules that
 * import "stem") and the handler-thread entry point. The binary is written under a
 * temporary name and renamed into place, so a running `dist/stem` is never half-written.
 * The dashboard's browser script is bundled first and embedded as a constant
 * (STEM_DASHBOARD_UI_JS, see src/dashboard/ui-bundle.ts), so the binary serves it
 * without any file next to it.
 */
import { mkdirSync, renameSync } from "node:fs";
import { dirname, relative, sep } from "node:path";
import { buildUi } from "./src/dashboard/ui-bundle.ts";

const CLI = "commands/cli.ts";
const THREAD_ENTRY = "src/worker/thread-entry.ts";

/** The deepest folder holding every path. */
function commonFolder(paths: string[]): string {
  const parts = paths.map((p) => dirname(p).split(sep));
  const shared: string[] = [];
  for (let i = 0; parts.every((p) => i < p.length && p[i] === parts[0][i]); i++)
    shared.push(parts[0][i]);
  return shared.join(sep) || ".";
}

// Inside the binary each entry point is a .js file at its path relative to the entry
// points' common folder; the worker starts handler threads from there (thread-entry-url.ts).
const threadEntry = `./${relative(commonFolder([CLI, THREAD_ENTRY]), THREAD_ENTRY)
  .split(sep)
  .join("/")
  .replace(/\.ts$/, ".js")}`;

mkdirSync("dist", { recursive: true });
const temporary = `./dist/.stem-${process.pid}`;
const result = await Bun.build({
  entrypoints: [`./${CLI}`, `./${THREAD_ENTRY}`],
  compile: { outfile: temporary },
  define: {
    STEM_THREAD_ENTRY: JSON.stringify(threadEntry),
    STEM_DASHBOARD_UI_JS: JSON.stringify(await buildUi(true)),
  },
  minify: false,
  bytecode: true,
  format: "esm",
  sourcemap: "none",
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
renameSync(temporary, "./dist/stem");
console.log("built dist/stem");
