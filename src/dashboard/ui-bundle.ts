/**
 * The browser script of the dashboard. The compiled binary carries it prebuilt (build.ts
 * bundles src/dashboard/ui and defines STEM_DASHBOARD_UI_JS); from source it is bundled
 * on first use.
 */
import { join } from "node:path";

declare const STEM_DASHBOARD_UI_JS: string | undefined;

let built: Promise<string> | undefined;

/** Bundles the UI (Preact and htm included) into one browser script. */
export async function buildUi(minify = false): Promise<string> {
  const result = await Bun.build({
    entrypoints: [join(import.meta.dir, "ui/main.ts")],
    target: "browser",
    format: "esm",
    minify,
  });
  if (!result.success)
    throw new Error(`bundling the dashboard UI failed: ${result.logs.map(String).join("\n")}`);
  return result.outputs[0].text();
}

/** The script the page loads. */
export function uiScript(): Promise<string> {
  if (typeof STEM_DASHBOARD_UI_JS === "string") return Promise.resolve(STEM_DASHBOARD_UI_JS);
  built ??= buildUi().catch((error) => {
    built = undefined;
    throw error;
  });
  return built;
}
