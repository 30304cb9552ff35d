import { defineCommand } from "citty";
import { withExamples } from "./output/help.ts";
import { loadConfig } from "../src/app/config.ts";
import { checkHealth } from "../src/app/health.ts";
import { parseDuration } from "../src/core/duration.ts";
import { fail, jsonArg, overridesFrom, printJson, printTable, storeArgs } from "./shared.ts";

export const healthCommand = defineCommand({
  meta: {
    name: "health",
    description: "Check every configured store (connect, round trip, latency); exit 1 if any fails",
  },
  args: {
    ...storeArgs,
    ...jsonArg,
    timeout: { type: "string", default: "5s", description: "Give up on a store after this long" },
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
          "latency",
          { name: "error", shorten: "wrap" },
        ],
        checks.map((c) => [c.store, c.url, c.ok ? "ok" : "FAIL", `${c.latencyMs} ms`, c.error]),
      );
    if (!healthy) fail();
  },
});

withExamples(healthCommand, ["stem health", "stem health --broker redis://localhost:6379 --json"]);
