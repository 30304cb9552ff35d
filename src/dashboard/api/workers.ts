/** Workers from their heartbeats (lost ones flagged), what they run; ping, pause, resume, shutdown. */
import { isLost } from "../../worker/liveness.ts";
import type { DashboardContext } from "../context.ts";
import { badRequest, notFound, stringField } from "../http.ts";
import type { Route } from "../routes.ts";

/** A task a worker is running, as its `inspect` reply lists it. */
interface ActiveTask {
  id: string;
  name: string;
  queue: string;
  attempt: number;
  runtimeMs: number;
}

async function workerViews(ctx: DashboardContext) {
  const now = ctx.now();
  const beats = (await ctx.client.backend.listHeartbeats()).sort((a, b) =>
    a.workerId.localeCompare(b.workerId),
  );
  const alive = beats.filter((b) => !isLost(b, now));
  // Only live workers can answer; with none alive there is nothing to ask.
  const replies = alive.length ? await ctx.control("inspect") : [];
  const active = new Map(
    replies.map((r) => [r.workerId, (r.payload.active ?? []) as ActiveTask[]]),
  );
  return beats.map((b) => ({
    ...b,
    state: isLost(b, now) ? "lost" : "alive",
    active: active.get(b.workerId) ?? null,
  }));
}

async function requireLiveWorker(ctx: DashboardContext, id: string): Promise<void> {
  const beat = await ctx.client.backend.getHeartbeat(id);
  if (!beat) throw notFound(`no worker "${id}"`);
}

export const workerRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/workers",
    summary:
      "Workers from their heartbeats: host, pid, queues, concurrency, counters, last seen, lost flag, and the tasks each runs",
    handle: async (_, ctx) => ({ workers: await workerViews(ctx) }),
  },
  {
    method: "POST",
    path: "/api/workers/ping",
    summary: "Ping live workers (or those listed in `workers`)",
    body: { workers: "worker ids (optional)" },
    handle: async (input, ctx) => {
      const workers = input.body.workers;
      if (
        workers !== undefined &&
        (!Array.isArray(workers) || workers.some((w) => typeof w !== "string"))
      )
        throw badRequest('"workers" must be a list of worker ids');
      return { replies: await ctx.control("ping", {}, workers as string[] | undefined) };
    },
  },
  {
    method: "POST",
    path: "/api/workers/:id/pause",
    summary: "Make one worker stop fetching from a queue (not persisted; see queue pause)",
    body: { queue: "queue name" },
    handle: async (input, ctx) => {
      await requireLiveWorker(ctx, input.params.id);
      const queue = stringField(input.body, "queue", true);
      return { replies: await ctx.control("pause", { queues: [queue] }, [input.params.id]) };
    },
  },
  {
    method: "POST",
    path: "/api/workers/:id/resume",
    summary: "Make one worker fetch from a queue again",
    body: { queue: "queue name" },
    handle: async (input, ctx) => {
      await requireLiveWorker(ctx, input.params.id);
      const queue = stringField(input.body, "queue", true);
      return { replies: await ctx.control("resume", { queues: [queue] }, [input.params.id]) };
    },
  },
  {
    method: "POST",
    path: "/api/workers/:id/shutdown",
    summary: "Stop a worker: warm waits for running tasks, hard returns them",
    body: { mode: "warm (default) or hard" },
    handle: async (input, ctx) => {
      await requireLiveWorker(ctx, input.params.id);
      const mode = input.body.mode ?? "warm";
      if (mode !== "warm" && mode !== "hard") throw badRequest('"mode" must be "warm" or "hard"');
      return { replies: await ctx.control("shutdown", { mode }, [input.params.id]) };
    },
  },
];
