/**
 * Builds the installable package's code into lib/ (run by `npm pack` through `prepack`):
 * ESM JavaScript for Node and Bun (dependencies stay imports; SQLite's `bun:sqlite` is
 * loaded only when a sqlite:// store is opened) and .d.ts declarations from src/, so a
 * consumer needs neither TypeScript sources nor Bun to use `stem/client`.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ENTRIES = ["src/index.ts", "src/client.ts", "src/testing/index.ts"];

rmSync("lib", { recursive: true, force: true });
const result = await Bun.build({
  entrypoints: ENTRIES,
  outdir: "lib",
  root: "src",
  target: "node",
  format: "esm",
  splitting: true,
  packages: "external",
  external: ["bun", "bun:*"],
  sourcemap: "linked",
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}

const tsc = Bun.spawnSync(["node_modules/.bin/tsc", "-p", "tsconfig.lib.json"], {
  stdout: "inherit",
  stderr: "inherit",
});
if (tsc.exitCode !== 0) process.exit(tsc.exitCode ?? 1);

// Declarations keep the sources' `./x.ts` specifiers; a consumer resolves `./x.js` to x.d.ts.
for (const file of readdirSync("lib/types", { recursive: true, encoding: "utf8" })) {
  if (!file.endsWith(".d.ts")) continue;
  const path = join("lib/types", file);
  const text = readFileSync(path, "utf8");
  writeFileSync(
    path,
    text.replace(/(from\s+|import\()(["'])(\.{1,2}\/[^"']+)\.ts\2/g, "$1$2$3.js$2"),
  );
}
console.log(`built lib/ (${ENTRIES.join(", ")}) and lib/types/`);
