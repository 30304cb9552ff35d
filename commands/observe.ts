import { defineCommand } from "citty";
import { formatDuration, parseDuration } from "../src/core/duration.ts";
import { loadPausedQueues } from "../src/worker/revocations.ts";
import { scheduleOverview } from "../src/scheduler/overview.ts";
import { schedulePaths, schedulesArg, withScheduleStore } from "./schedule.ts";
import { iso, jsonArg, printJson, printTable, storeArgs, watch, withClient } from "./shared.ts";

const watchArg = {
  watch: { type: "boolean", description: "Refresh every 2 s until Ctrl-C" },
} as const;

/** A worker's queues, the paused ones marked: `emails (paused),default`. */
function queuesWithPauses(queues: string[], paused: unknown): string {
  const set = new Set(Array.isArray(paused) ? paused : []);
  return queues.map((q) => (set.has(q) ? `${q} (paused)` : q)).join(",");
}

const queues = defineCommand({
  meta: { name: "queues", description: "Depth, in flight, delayed and dead per queue" },
  args: { ...storeArgs, ...jsonArg, ...watchArg },
  run: ({ args }) =>
    withClient(args, async (client) => {
      const render = async () => {
        const paused = await loadPausedQueues(client.revokeStore, Date.now());
        const known = (await client.broker.stats()).map((s) => s.queue);
        // A paused queue is listed even when no task has been sent to it yet.
        const missing = [...paused].filter((q) => !known.includes(q));
        const all = missing.length ? [...known, ...missing] : undefined;
        const stats = (await client.broker.stats(all)).map((s) => ({
          ...s,
          paused: paused.has(s.queue),
        }));
        if (args.json) return printJson(stats);
        printTable(
          ["queue", "pending", "in flight", "delayed", "dead", "paused"],
          stats.map((s) => [
            s.queue,
            s.pending,
            s.inflight,
            s.delayed,
            s.dead,
            s.paused ? "yes" : "",
          ]),
        );
      };
      await (args.watch ? watch(render) : render());
    }),
});

const workers = defineCommand({
  meta: { name: "workers", description: "Live workers from their heartbeats" },
  args: { ...storeArgs, ...jsonArg, ...watchArg },
  run: ({ args }) =>
    withClient(args, async (client) => {
      const render = async () => {
        const beats = (await client.backend.listHeartbeats()).sort((a, b) =>
          a.workerId.localeCompare(b.workerId),
        );
        if (args.json) return printJson(beats);
        if (beats.length === 0) process.stderr.write("no live workers\n");
        else
          printTable(
            [
              "worker",
              "host",
              "pid",
              "queues",
              "concurrency",
              "in flight",
              "processed",
              "failed",
              "last seen",
            ],
            beats.map((b) => [
              b.workerId,
              b.host,
              b.pid,
              queuesWithPauses(b.queues, b.extras?.paused),
              b.concurrency,
              b.inflight,
              b.processed,
              b.failed,
              iso(b.timestamp),
            ]),
          );
      };
      await (args.watch ? watch(render) : render());
    }),
});

const schedules = defineCommand({
  meta: {
    name: "schedules",
    description:
      "Due and overdue schedule entries, then per entry runs, drift, next run and last error",
  },
  args: {
    ...storeArgs,
    ...jsonArg,
    ...watchArg,
    ...schedulesArg,
    "overdue-after": {
      type: "string",
      default: "10s",
      description: "An entry due for longer than this counts as overdue",
    },
  },
  run: ({ args, rawArgs }) => {
    const overdueAfter = parseDuration(args["overdue-after"], "--overdue-after");
    return withScheduleStore(args, schedulePaths(rawArgs), async (store) => {
      const render = async () => {
        const view = await scheduleOverview(store, Date.now(), overdueAfter);
        if (args.json) return printJson(view);
        process.stdout.write(
          `${view.total} entries (${view.enabled} enabled): ${view.due} due, ${view.overdue} overdue (due for more than ${formatDuration(overdueAfter)})\n`,
        );
        if (view.total === 0) return;
        printTable(
          ["id", "schedule", "runs", "drift", "next run", "last run", "last error"],
          view.entries.map((e) => [
            `${e.id}${e.overdue ? " (overdue)" : e.due ? " (due)" : e.enabled ? "" : " (disabled)"}`,
            e.schedule,
            e.totalRunCount,
            e.drift === undefined ? "" : `${e.drift} ms`,
            e.enabled ? iso(e.nextRunAt) : "",
            iso(e.lastRunAt),
            e.lastError ?? "",
          ]),
        );
      };
      await (args.watch ? watch(render) : render());
    });
  },
});

export const observeCommand = defineCommand({
  meta: { name: "observe", description: "Queue, worker and schedule overviews" },
  subCommands: { queues, workers, schedules },
});
