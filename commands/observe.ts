import { defineCommand } from "citty";
import { withExamples } from "./output/help.ts";
import { eventsCommand } from "./observe-events.ts";
import { formatDuration, parseDuration } from "../src/core/duration.ts";
import { loadPausedQueues } from "../src/worker/revocations.ts";
import { globalConcurrencyUsage } from "../src/worker/concurrency-gate.ts";
import { scheduleOverview } from "../src/scheduler/overview.ts";
import { isLost } from "../src/worker/liveness.ts";
import { schedulePaths, schedulesArg, withScheduleStore } from "./schedule.ts";
import { whyCommand } from "./observe-why.ts";
import {
  iso,
  jsonArg,
  note,
  out,
  printJson,
  printTable,
  storeArgs,
  watch,
  withClient,
} from "./shared.ts";

const watchArg = {
  watch: {
    type: "boolean",
    description: "Refresh every 2 s until Ctrl-C (with --json: one JSON document per line)",
  },
} as const;

/** Prints a view once, or refreshes it with --watch. */
function show<T>(
  args: { json?: boolean; watch?: boolean },
  load: () => Promise<T>,
  print: (view: T) => void,
): Promise<void> {
  if (args.watch) return watch(load, print, { json: Boolean(args.json) });
  return load().then((view) => (args.json ? printJson(view) : print(view)));
}

/** A worker's queues, the paused ones marked: `emails (paused),default`. */
function queuesWithPauses(queues: string[], paused: unknown): string {
  const set = new Set(Array.isArray(paused) ? paused : []);
  return queues.map((q) => (set.has(q) ? `${q} (paused)` : q)).join(",");
}

const queues = defineCommand({
  meta: {
    name: "queues",
    description:
      "Depth, in flight, delayed and dead per queue, with global concurrency limits and the slots in use",
  },
  args: { ...storeArgs, ...jsonArg, ...watchArg },
  run: ({ args }) =>
    withClient(args, (client) =>
      show(
        args,
        async () => {
          const paused = await loadPausedQueues(client.revokeStore, Date.now());
          const limits = await globalConcurrencyUsage(client.concurrencySlots);
          const known = (await client.broker.stats()).map((s) => s.queue);
          // A paused or limited queue is listed even when no task has been sent to it yet.
          const missing = [...new Set([...paused, ...limits.queues.keys()])].filter(
            (q) => !known.includes(q),
          );
          const all = missing.length ? [...known, ...missing] : undefined;
          return (await client.broker.stats(all)).map((s) => ({
            ...s,
            paused: paused.has(s.queue),
            globalConcurrency: limits.queues.get(s.queue) ?? null,
            // Task-name limits hold across queues: the same list on every queue.
            taskConcurrency: limits.tasks,
          }));
        },
        (stats) => {
          printTable(
            [
              { name: "queue", shorten: "middle" },
              "pending",
              "in flight",
              "delayed",
              "dead",
              "paused",
              { name: "running/limit", optional: 1 },
            ],
            stats.map((s) => [
              s.queue,
              s.pending,
              s.inflight,
              s.delayed,
              s.dead,
              s.paused ? "yes" : "",
              s.globalConcurrency ? slotsCell(s.globalConcurrency) : "",
            ]),
          );
          const tasks = stats[0]?.taskConcurrency ?? [];
          if (tasks.length === 0) return;
          out("\n");
          printTable(
            [{ name: "task", shorten: "middle" }, "running/limit"],
            tasks.map((t) => [t.task, slotsCell(t)]),
          );
        },
      ),
    ),
});

/** `2 / 3` */
function slotsCell(usage: { used: number; limit: number }): string {
  return `${usage.used} / ${usage.limit}`;
}

const workers = defineCommand({
  meta: {
    name: "workers",
    description:
      "Workers from their heartbeats: alive, or lost (no heartbeat for three intervals); stopped workers are not listed",
  },
  args: { ...storeArgs, ...jsonArg, ...watchArg },
  run: ({ args }) =>
    withClient(args, (client) =>
      show(
        args,
        async () => {
          const now = Date.now();
          return (await client.backend.listHeartbeats())
            .sort((a, b) => a.workerId.localeCompare(b.workerId))
            .map((b) => ({ ...b, state: isLost(b, now) ? "lost" : "alive" }));
        },
        (beats) => {
          if (beats.length === 0) return note("no live workers\n");
          printTable(
            [
              { name: "worker", shorten: "middle" },
              "state",
              { name: "host", optional: 5 },
              { name: "pid", optional: 6 },
              "queues",
              { name: "concurrency", optional: 4 },
              "in flight",
              { name: "processed", optional: 2 },
              { name: "failed", optional: 3 },
              { name: "last seen", shorten: "never" },
            ],
            beats.map((b) => [
              b.workerId,
              b.state,
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
        },
      ),
    ),
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
    return withScheduleStore(args, schedulePaths(rawArgs), (store) =>
      show(
        args,
        () => scheduleOverview(store, Date.now(), overdueAfter),
        (view) => {
          out(
            `${view.total} entries (${view.enabled} enabled): ${view.due} due, ${view.overdue} overdue (due for more than ${formatDuration(overdueAfter)})\n`,
          );
          if (view.total === 0) return;
          printTable(
            [
              "id",
              "schedule",
              "runs",
              { name: "drift", optional: 2 },
              { name: "next run", shorten: "never" },
              { name: "last run", shorten: "never", optional: 3 },
              { name: "last error", optional: 1 },
            ],
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
        },
      ),
    );
  },
});

export const observeCommand = defineCommand({
  meta: {
    name: "observe",
    description: "Queue, worker and schedule overviews; why a task does not run; task events",
  },
  subCommands: { queues, workers, schedules, why: whyCommand, events: eventsCommand },
});

withExamples(queues, ["stem observe queues", "stem observe queues --watch --json"]);
withExamples(workers, ["stem observe workers --watch"]);
withExamples(schedules, [
  "stem observe schedules",
  "stem observe schedules --overdue-after 1m --json",
]);
withExamples(observeCommand, ["stem observe queues --watch", "stem observe workers"]);
