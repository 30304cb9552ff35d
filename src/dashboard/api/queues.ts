/** Queues: depth, in flight, delayed, dead, paused and the workers consuming each; pause, resume, purge. */
import type { QueueStats } from "../../adapters/contracts.ts";
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
  const byName = new Map(stats.map((s) => [s.queue, s]));
  for (const queue of [...live.flatMap((b) => b.queues), ...paused])
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
    summary: "Every queue: pending, in flight, delayed, dead, paused, consuming workers",
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
