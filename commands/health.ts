import { defineCommand } from "citty";
import { withExamples } from "./output/help.ts";
import { loadConfig } from "../src/app/config.ts";
import { checkHealth } from "../src/app/health.ts";
import { parseDuration } from "../src/core/duration.ts";
import { fail, jsonArg, overridesFrom, printJson, printTable, storeArgs } from "./shared.ts";

export const healthCommand = defineCommand({
  meta: {
    name: "health",
    description:
      "Check every configured store: it exists (never created), its data is intact (SQLite quick_check), its schema version, a write/read round trip; exit 1 if any fails",
  },
  args: {
    ...storeArgs,
    ...jsonArg,
    timeout: {
      type: "string",
      default: "5s",
      description: "A store whose checks take longer than this fails",
    },
  },
  run: async ({ args }) => {
    const checks = await checkHealth(
      loadConfig(overridesFrom(args)),
      parseDuration(args.timeout, "--timeout"),
    );
    const healthy = checks.every((c) => c.ok);
    if (args.json) printJson({ healthy, checks });
    else
      printTable(
        [
          "store",
          { name: "url", optional: 1 },
          "status",
          { name: "schema", optional: 2 },
          "latency",
          { name: "error", shorten: "wrap" },
        ],
        checks.map((c) => [
          c.store,
          c.url,
          c.ok ? "ok" : "FAIL",
          c.schemaVersion === undefined ? "" : `v${c.schemaVersion}`,
          `${c.latencyMs} ms`,
          c.error,
        ]),
      );
    if (!healthy) fail();
  },
});

withExamples(healthCommand, ["stem health", "stem health --broker redis://localhost:6379 --json"]);
