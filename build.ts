/**
 * Builds dist/stem: one executable with the CLI, the library (for user task modules that
 * import "stem") and the handler-thread entry point. The binary is written under a
 * temporary name and renamed into place, so a running `dist/stem` is never half-written.
 * The dashboard's browser script is bundled first and embedded as a constant
 * (STEM_DASHBOARD_UI_JS, see src/dashboard/ui-bundle.ts), so the binary serves it
 * without any file next to it. release.ts builds the same executable for other platforms.
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

/** The commit being built (short hash), or "unknown" outside a git checkout. */
function currentCommit(): string {
  const git = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { stderr: "ignore" });
  return git.exitCode === 0 ? git.stdout.toString().trim() : "unknown";
}

/** A platform Stem is released for, as Bun names it without the `bun-` prefix. */
export type ReleaseTarget =
  | "linux-x64"
  | "linux-arm64"
  | "darwin-x64"
  | "darwin-arm64"
  | "windows-x64";

export const RELEASE_TARGETS: ReleaseTarget[] = [
  "linux-x64",
  "linux-arm64",
  "darwin-x64",
  "darwin-arm64",
  "windows-x64",
];

/**
 * Compiles the `stem` executable to `outfile` (written under a temporary name, then
 * renamed), for `target` or else this machine.
 */
export async function compileStem(outfile: string, target?: ReleaseTarget): Promise<void> {
  // Inside the binary each entry point is a .js file at its path relative to the entry
  // points' common folder; the worker starts handler threads from there (thread-entry-url.ts).
  const threadEntry = `./${relative(commonFolder([CLI, THREAD_ENTRY]), THREAD_ENTRY)
    .split(sep)
    .join("/")
    .replace(/\.ts$/, ".js")}`;
  mkdirSync(dirname(outfile), { recursive: true });
  const temporary = `${dirname(outfile)}/.stem-${process.pid}-${target ?? "host"}`;
  const result = await Bun.build({
    entrypoints: [`./${CLI}`, `./${THREAD_ENTRY}`],
    compile: target
      ? { outfile: temporary, target: `bun-${target}` as Bun.Build.CompileTarget }
      : { outfile: temporary },
    define: {
      STEM_THREAD_ENTRY: JSON.stringify(threadEntry),
      STEM_DASHBOARD_UI_JS: JSON.stringify(await buildUi(true)),
      STEM_COMMIT: JSON.stringify(currentCommit()),
      STEM_TARGET: JSON.stringify(target ?? `${process.platform}-${process.arch}`),
    },
    minify: false,
    // Bytecode spares the start-up from parsing the whole bundle (see bench/startup.ts).
    bytecode: true,
    format: "esm",
    sourcemap: "none",
  });
  if (!result.success) {
    throw new AggregateError(result.logs, `building ${outfile} failed: ${result.logs.join("\n")}`);
  }
  // Windows executables get their .exe from Bun.
  renameSync(target === "windows-x64" ? `${temporary}.exe` : temporary, outfile);
}

if (import.meta.main) {
  await compileStem("./dist/stem");
  console.log("built dist/stem");
}
