import { defineCommand } from "citty";
import type { TaskStatus } from "../src/core/states.ts";
import { StemError } from "../src/core/errors.ts";
import { iso, jsonArg, printJson, printTable, storeArgs, withClient } from "./shared.ts";

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
  if (status.result !== undefined) rows.push(["result", JSON.stringify(status.result)]);
  if (status.error) rows.push(["error", `${status.error.type}: ${status.error.message}`]);
  if (status.progress) rows.push(["progress", `${status.progress.percent}%`]);
  rows.push(
    ["created", iso(status.createdAt)],
    ["started", iso(status.startedAt)],
    ["finished", iso(status.finishedAt)],
  );
  if (status.startedAt && status.finishedAt)
    rows.push(["runtime", `${status.finishedAt - status.startedAt} ms`]);
  if (status.workerId) rows.push(["worker", status.workerId]);
  for (const [k, v] of Object.entries(status.meta))
    rows.push([`meta.${k}`, typeof v === "string" ? v : JSON.stringify(v)]);
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
