/** Queues: depth, in flight, delayed, dead, paused, limits and the workers consuming each; pause, resume, purge. */
import type { QueueStats, WorkerHeartbeat } from "../../adapters/contracts.ts";
import { type TaskLimits, taskLimits } from "../../core/task-limits.ts";
import { isLost } from "../../worker/liveness.ts";
import { persistPause } from "../../worker/revocations.ts";
import type { DashboardContext } from "../context.ts";
import { notFound } from "../http.ts";
import type { Route } from "../routes.ts";

export interface QueueView extends QueueStats {
  paused: boolean;
  /** Live workers consuming the queue, and their summed concurrency. */
  workers: number;
  concurrency: number;
  /**
   * Limits of the tasks sent to this queue, from the dashboard's own task registry or the
   * live workers' heartbeats. Queue-level limits (global concurrency) belong here too.
   */
  limits: TaskLimitView[];
}

export interface TaskLimitView extends TaskLimits {
  task: string;
  /** Where the limit was read: this process's task registry, or a live worker's heartbeat. */
  source: "registry" | "workers";
}

/** Every task limit known, by task name: the registry's first, then what live workers advertise. */
function knownLimits(ctx: DashboardContext, live: WorkerHeartbeat[]): TaskLimitView[] {
  const byTask = new Map<string, TaskLimitView>();
  for (const [task, limits] of Object.entries(taskLimits(ctx.client.registry)))
    byTask.set(task, { task, ...limits, source: "registry" });
  for (const beat of live) {
    const advertised = beat.extras?.limits;
    if (typeof advertised !== "object" || advertised === null) continue;
    for (const [task, limits] of Object.entries(advertised as Record<string, TaskLimits>)) {
      if (byTask.has(task) || typeof limits !== "object" || limits === null) continue;
      byTask.set(task, { task, ...limits, source: "workers" });
    }
  }
  return [...byTask.values()].sort((a, b) => a.task.localeCompare(b.task));
}

/** Every queue the broker knows or a worker consumes, with its state. */
export async function queueViews(ctx: DashboardContext): Promise<QueueView[]> {
  const now = ctx.now();
  const [stats, paused, beats] = await Promise.all([
    ctx.client.broker.stats(),
    ctx.pausedQueues(),
    ctx.client.backend.listHeartbeats(),
  ]);
  const live = beats.filter((b) => !isLost(b, now));
  const limits = knownLimits(ctx, live);
  const queueOf = (l: TaskLimitView) => l.queue ?? ctx.client.config.defaultQueue;
  const byName = new Map(stats.map((s) => [s.queue, s]));
  for (const queue of [...live.flatMap((b) => b.queues), ...paused, ...limits.map(queueOf)])
    if (!byName.has(queue))
      byName.set(queue, { queue, pending: 0, inflight: 0, delayed: 0, dead: 0 });
  return [...byName.values()]
    .sort((a, b) => a.queue.localeCompare(b.queue))
    .map((s) => {
      const consumers = live.filter((b) => b.queues.includes(s.queue));
      return {
        ...s,
        paused: paused.has(s.queue),
        workers: consumers.length,
        concurrency: consumers.reduce((n, b) => n + b.concurrency, 0),
        limits: limits.filter((l) => queueOf(l) === s.queue),
      };
    });
}

async function requireQueue(ctx: DashboardContext, queue: string): Promise<QueueView> {
  const view = (await queueViews(ctx)).find((q) => q.queue === queue);
  if (!view) throw notFound(`no queue named "${queue}"`);
  return view;
}

async function setPaused(ctx: DashboardContext, queue: string, paused: boolean) {
  await requireQueue(ctx, queue);
  // Persisted first: workers that start later, or miss the message, honour it too.
  await persistPause(ctx.client.revokeStore, [queue], paused, ctx.now(), "stem-dashboard");
  const replies = await ctx.control(paused ? "pause" : "resume", { queues: [queue] });
  return { queue, paused, replies };
}

export const queueRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/queues",
    summary:
      "Every queue: pending, in flight, delayed, dead, paused, consuming workers, and the rate limits of its tasks (from the registry and live workers)",
    handle: async (_, ctx) => ({ queues: await queueViews(ctx) }),
  },
  {
    method: "GET",
    path: "/api/queues/:queue",
    summary: "One queue",
    handle: (input, ctx) => requireQueue(ctx, input.params.queue),
  },
  {
    method: "POST",
    path: "/api/queues/:queue/pause",
    summary: "Pause a queue: workers stop fetching from it (kept for workers started later)",
    handle: (input, ctx) => setPaused(ctx, input.params.queue, true),
  },
  {
    method: "POST",
    path: "/api/queues/:queue/resume",
    summary: "Resume a paused queue",
    handle: (input, ctx) => setPaused(ctx, input.params.queue, false),
  },
  {
    method: "POST",
    path: "/api/queues/:queue/purge",
    summary: "Delete a queue's pending and delayed tasks (not running ones); returns how many",
    handle: async (input, ctx) => {
      await requireQueue(ctx, input.params.queue);
      return {
        queue: input.params.queue,
        removed: await ctx.client.broker.purge(input.params.queue),
      };
    },
  },
];
