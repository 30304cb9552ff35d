import { defineCommand } from "citty";
import { withExamples } from "./output/help.ts";
import type { CanvasMember } from "../src/canvas/handle.ts";
import { CanvasMeta } from "../src/canvas/nodes.ts";
import type { TaskStatus } from "../src/core/states.ts";
import { StemError } from "../src/core/errors.ts";
import { timelineRows } from "../src/observability/timeline-text.ts";
import { iso, jsonArg, note, printJson, printTable, storeArgs, withClient } from "./shared.ts";

/** Meta times (`nextRetryAt`, `notBefore`, …) are epoch milliseconds: shown as ISO 8601. */
function metaValue(key: string, value: unknown): string {
  if (typeof value === "number" && (/At$/.test(key) || key === "notBefore")) return iso(value);
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** For a canvas: its members that have not settled. */
interface CanvasProgress {
  total: number;
  unsettled: CanvasMember[];
}

/** Prints a task's timeline: when, what, and a sentence of detail per entry. */
function printTimeline(status: TaskStatus): void {
  const rows = timelineRows(status.timeline);
  if (rows.length === 0) return note(`task ${status.id} has no timeline\n`);
  printTable(
    ["time", "event", { name: "detail", shorten: "wrap" }],
    rows.map((r) => [iso(r.at), r.event, r.detail]),
  );
}

/**
 * Prints a task status: JSON for scripts (with its `timeline`), a table for people, then
 * with `timeline` its history. For a canvas, also which members have not settled
 * (`missingMembers` in JSON: their ids).
 */
export function printResult(
  status: TaskStatus,
  json: boolean,
  canvas?: CanvasProgress,
  timeline = false,
): void {
  const missing = canvas?.unsettled.map((m) => m.id);
  if (json) return printJson(missing ? { ...status, missingMembers: missing } : status);
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
  if (canvas && missing) {
    rows.push(["members settled", `${canvas.total - missing.length} of ${canvas.total}`]);
    if (missing.length > 0)
      rows.push([
        "missing members",
        canvas.unsettled.map((m) => `${m.id} (${m.name}, ${m.state})`).join("\n"),
      ]);
  }
  for (const [k, v] of Object.entries(status.meta)) rows.push([`meta.${k}`, metaValue(k, v)]);
  printTable(["field", { name: "value", shorten: "wrap" }], rows);
  if (timeline) printTimeline(status);
}

export const resultCommand = defineCommand({
  meta: {
    name: "result",
    description:
      "Show a task's state, result or error, attempts and timings (with --timeline, its history); for a canvas, its members not settled yet",
  },
  args: {
    ...storeArgs,
    ...jsonArg,
    id: { type: "positional", description: "Task id", required: true },
    timeline: {
      type: "boolean",
      description:
        "Also print the task's history: queued (by whom), delivered, started, retried, lease lost, revoked, dead-lettered, replayed, finished",
    },
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
      printResult(status, Boolean(args.json), canvas, Boolean(args.timeline));
    }),
});

withExamples(resultCommand, [
  "stem result 0199e5c2-7d1a-7c3e-9b4f-2a1d6e8f0c35",
  "stem result 0199e5c2-7d1a-7c3e-9b4f-2a1d6e8f0c35 --timeline",
  "stem result 0199e5c2-7d1a-7c3e-9b4f-2a1d6e8f0c35 --json",
]);
