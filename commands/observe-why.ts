import { defineCommand } from "citty";
import { explainTask, type WhyReport } from "../src/observability/why.ts";
import { withExamples } from "./output/help.ts";
import { jsonArg, out, printJson, printTable, storeArgs, withClient } from "./shared.ts";

/** An evidence value as one table cell: times as ISO 8601, the rest as JSON. */
function cell(key: string, value: unknown): string {
  if (typeof value === "number" && /At$/.test(key)) return new Date(value).toISOString();
  return typeof value === "string" ? value : JSON.stringify(value);
}

function printReport(report: WhyReport): void {
  const what = [report.name, report.queue && `queue ${report.queue}`, report.state]
    .filter(Boolean)
    .join(", ");
  out(`task ${report.taskId} (${what}): ${report.cause}\n${report.summary}\n`);
  if (report.fix) out(`fix: ${report.fix}\n`);
  const rows = Object.entries(report.evidence).map(([k, v]) => [k, cell(k, v)]);
  if (rows.length > 0) printTable(["evidence", { name: "value", shorten: "wrap" }], rows);
}

export const whyCommand = defineCommand({
  meta: {
    name: "why",
    description:
      "Say what holds a task: not due yet, queued behind others, queue paused, no live worker, rate limit, a full global concurrency limit, a silent worker's lease, canvas members, uniqueness lock, revoked, dead-lettered, expired, or finished",
  },
  args: {
    ...storeArgs,
    ...jsonArg,
    id: { type: "positional", description: "Task id", required: true },
  },
  run: ({ args }) =>
    withClient(args, async (client) => {
      const report = await explainTask(client, args.id);
      if (args.json) printJson(report);
      else printReport(report);
    }),
});

withExamples(whyCommand, [
  "stem observe why 0199e5c2-7d1a-7c3e-9b4f-2a1d6e8f0c35",
  "stem observe why 0199e5c2-7d1a-7c3e-9b4f-2a1d6e8f0c35 --json",
]);
