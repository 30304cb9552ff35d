/** The overview: totals, throughput and depth history, queue depths, workers online, schedules due soon, recent failures. */
import { isLost } from "../../worker/liveness.ts";
import type { DashboardContext } from "../context.ts";
import { readHistory, tasksTotal } from "../history.ts";
import { badRequest } from "../http.ts";
import type { Route } from "../routes.ts";
import { queueViews } from "./queues.ts";

/** Chart windows the overview offers. */
export const WINDOWS: Record<string, number> = {
  "15m": 15 * 60_000,
  "1h": 60 * 60_000,
  "24h": 24 * 60 * 60_000,
};

/** Everything the overview page shows, in one read. */
export async function overview(ctx: DashboardContext, window = "15m") {
  const windowMs = WINDOWS[window];
  if (windowMs === undefined)
    throw badRequest(`window must be one of ${Object.keys(WINDOWS).join(", ")}, got "${window}"`);
  const now = ctx.now();
  const [history, queues, beats, entries, failures, dead] = await Promise.all([
    readHistory(ctx.counts, now, windowMs),
    queueViews(ctx),
    ctx.client.backend.listHeartbeats(),
    ctx.schedules.list(),
    ctx.client.backend.list({ state: "failed", limit: 10 }),
    ctx.client.broker.listDeadLetters({ limit: 10 }),
  ]);
  const alive = beats.filter((b) => !isLost(b, now));
  const sum = (key: "pending" | "inflight" | "delayed" | "dead") =>
    queues.reduce((n, q) => n + q[key], 0);
  return {
    now,
    window,
    totals: {
      pending: sum("pending"),
      inflight: sum("inflight"),
      delayed: sum("delayed"),
      dead: sum("dead"),
      processed: alive.reduce((n, b) => n + b.processed, 0),
      failed: alive.reduce((n, b) => n + b.failed, 0),
    },
    workers: { alive: alive.length, lost: beats.length - alive.length },
    // Per bucket: tasks finished per second (from the workers' counters) and the average
    // sampled depth summed over queues (null where no dashboard sampled).
    throughput: history.buckets.map((b) => {
      const counts = tasksTotal(b.tasks);
      return {
        t: b.t,
        succeededPerSec: counts.succeeded / b.seconds,
        failedPerSec: counts.failed / b.seconds,
        depth: b.depth.size ? [...b.depth.values()].reduce((a, d) => a + d, 0) : null,
      };
    }),
    queues,
    schedulesDueSoon: entries
      .filter((e) => e.enabled && e.nextRunAt !== undefined)
      .sort((a, b) => (a.nextRunAt as number) - (b.nextRunAt as number))
      .slice(0, 5)
      .map((e) => ({ id: e.id, taskName: e.taskName, nextRunAt: e.nextRunAt })),
    recentFailures: failures.map((s) => ({
      id: s.id,
      name: s.name,
      queue: s.queue,
      error: s.error ? `${s.error.type}: ${s.error.message}` : "",
      at: s.finishedAt ?? s.updatedAt,
    })),
    recentDeadLetters: dead.map((d) => ({
      id: d.envelope.id,
      name: d.envelope.name,
      queue: d.queue,
      reason: d.reason,
      at: d.deadAt,
    })),
  };
}

export const overviewRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/overview",
    summary:
      "Totals, succeeded/failed per second and queue depth over a window, queues, workers online, schedules due soon, recent failures",
    query: { window: "15m (default) | 1h | 24h" },
    handle: (input, ctx) => overview(ctx, input.query.get("window") || "15m"),
  },
  {
    method: "GET",
    path: "/api/stream",
    summary:
      "Server-Sent Events: an `overview` event (the /api/overview document) every sample interval",
    query: { window: "15m (default) | 1h | 24h" },
    handle: async (input, ctx) => {
      const window = input.query.get("window") || "15m";
      await overview(ctx, window); // a bad window is refused before the stream opens
      return overviewStream(ctx, window, input.request.signal);
    },
  },
];

/** Streams the overview as Server-Sent Events until the client goes away. */
function overviewStream(ctx: DashboardContext, window: string, signal: AbortSignal): Response {
  const encoder = new TextEncoder();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const push = async () => {
        if (signal.aborted) return;
        try {
          const doc = await overview(ctx, window);
          controller.enqueue(encoder.encode(`event: overview\ndata: ${JSON.stringify(doc)}\n\n`));
        } catch (error) {
          // The page shows the error and keeps listening; the next push may succeed.
          const message = JSON.stringify({ error: (error as Error).message });
          controller.enqueue(encoder.encode(`event: error\ndata: ${message}\n\n`));
        }
        if (!signal.aborted) timer = setTimeout(push, ctx.depth.intervalMs);
      };
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        try {
          controller.close();
        } catch {
          // already closed by the runtime
        }
      });
      void push();
    },
    cancel() {
      clearTimeout(timer);
    },
  });
  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
    },
  });
}
