import { defineCommand } from "citty";
import { withExamples } from "./output/help.ts";
import type { TaskStatus } from "../src/core/states.ts";
import { StemError } from "../src/core/errors.ts";
import { iso, jsonArg, printJson, printTable, storeArgs, withClient } from "./shared.ts";

/** Meta times (`nextRetryAt`, `notBefore`, …) are epoch milliseconds: shown as ISO 8601. */
function metaValue(key: string, value: unknown): string {
  if (typeof value === "number" && (/At$/.test(key) || key === "notBefore")) return iso(value);
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Prints a task status: JSON for scripts, a table for people. */
export function printResult(status: TaskStatus, json: boolean): void {
  if (json) return printJson(status);
  const rows: [string, string][] = [
    ["id", status.id],
    ["task", status.name],
    ["queue", status.queue],
    ["state", status.state],
    ["attempts", String(status.attempt)],
  ];
  if (status.args !== undefined) rows.push(["args", JSON.stringify(status.args)]);
  if (status.result !== undefined) rows.push(["result", JSON.stringify(status.result)]);
  if (status.error) rows.push(["error", `${status.error.type}: ${status.error.message}`]);
  if (status.progress) rows.push(["progress", `${status.progress.percent}%`]);
  rows.push(
    ["created", iso(status.createdAt)],
    ["started", iso(status.startedAt)],
    ["finished", iso(status.finishedAt)],
    ["updated", iso(status.updatedAt)],
  );
  if (status.startedAt && status.finishedAt)
    rows.push(["runtime", `${status.finishedAt - status.startedAt} ms`]);
  if (status.workerId) rows.push(["worker", status.workerId]);
  for (const [k, v] of Object.entries(status.meta)) rows.push([`meta.${k}`, metaValue(k, v)]);
  printTable(["field", { name: "value", shorten: "wrap" }], rows);
}

export const resultCommand = defineCommand({
  meta: {
    name: "result",
    description: "Show a task's state, result or error, attempts and timings",
  },
  args: {
    ...storeArgs,
    ...jsonArg,
    id: { type: "positional", description: "Task id", required: true },
  },
  run: ({ args }) =>
    withClient(args, async (client) => {
      const status = await client.getTaskStatus(args.id);
      if (!status)
        throw new StemError("not_found", `no task with id ${args.id} (unknown or expired)`);
      printResult(status, Boolean(args.json));
    }),
});

withExamples(resultCommand, [
  "stem result 0199e5c2-7d1a-7c3e-9b4f-2a1d6e8f0c35",
  "stem result 0199e5c2-7d1a-7c3e-9b4f-2a1d6e8f0c35 --json",
]);
