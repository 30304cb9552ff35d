import { defineCommand } from "citty";
import type { CanvasMember } from "../src/canvas/handle.ts";
import { CanvasMeta } from "../src/canvas/nodes.ts";
import type { TaskStatus } from "../src/core/states.ts";
import { StemError } from "../src/core/errors.ts";
import { iso, jsonArg, printJson, printTable, storeArgs, withClient } from "./shared.ts";

/** For a canvas: its members that have not settled. */
interface CanvasProgress {
  total: number;
  unsettled: CanvasMember[];
}

/**
 * Prints a task status: JSON for scripts, a table for people. For a canvas, also which
 * members have not settled (`missingMembers` in JSON: their ids).
 */
export function printResult(status: TaskStatus, json: boolean, canvas?: CanvasProgress): void {
  const missing = canvas?.unsettled.map((m) => m.id);
  if (json) return printJson(missing ? { ...status, missingMembers: missing } : status);
  const rows: [string, string][] = [
    ["id", status.id],
    ["task", status.name],
    ["queue", status.queue],
    ["state", status.state],
    ["attempts", String(status.attempt + 1)],
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
  if (canvas && missing) {
    rows.push(["members settled", `${canvas.total - missing.length} of ${canvas.total}`]);
    if (missing.length > 0)
      rows.push([
        "missing members",
        canvas.unsettled.map((m) => `${m.id} (${m.name}, ${m.state})`).join("\n"),
      ]);
  }
  for (const [k, v] of Object.entries(status.meta))
    rows.push([`meta.${k}`, typeof v === "string" ? v : JSON.stringify(v)]);
  printTable(["field", "value"], rows);
}

export const resultCommand = defineCommand({
  meta: {
    name: "result",
    description:
      "Show a task's state, result or error, attempts and timings; for a canvas, its members not settled yet",
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
      let canvas: CanvasProgress | undefined;
      if (CanvasMeta.kind in status.meta) {
        const members = status.meta.members;
        canvas = {
          total: Array.isArray(members) ? members.length : 0,
          unsettled: await client.canvas.handle(args.id).unsettled(),
        };
      }
      printResult(status, Boolean(args.json), canvas);
    }),
});
