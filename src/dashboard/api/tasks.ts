/** Tasks: search, filter and page through statuses; detail; revoke, retry a copy, enqueue by name. */
import { CanvasMeta } from "../../canvas/nodes.ts";
import { parseDuration } from "../../core/duration.ts";
import type { EnqueueOptions } from "../../core/enqueue-options.ts";
import { MetaKeys } from "../../core/envelope.ts";
import type { TaskState, TaskStatus } from "../../core/states.ts";
import { revokeEntries } from "../../worker/revoke-entries.ts";
import type { DashboardContext } from "../context.ts";
import { badRequest, enumParam, intParam, notFound, stringField, timeParam } from "../http.ts";
import type { Route } from "../routes.ts";
import { timelineRows } from "../../observability/timeline-text.ts";

export const TASK_STATES: TaskState[] = [
  "pending",
  "queued",
  "running",
  "succeeded",
  "failed",
  "retrying",
  "revoked",
  "dead",
];

async function listTasks(query: URLSearchParams, ctx: DashboardContext) {
  const limit = intParam(query, "limit", 50, 500);
  const offset = intParam(query, "offset", 0, 1_000_000);
  const id = query.get("id")?.trim();
  if (id) {
    const status = await ctx.client.backend.get(id);
    return { tasks: status ? [status] : [], limit, offset };
  }
  const filter = {
    state: enumParam(query, "state", TASK_STATES),
    name: query.get("name") || undefined,
    queue: query.get("queue") || undefined,
  };
  // Answered from the backend's updated-at ordering, so paging is exact on every backend.
  const tasks = await ctx.client.backend.list({
    ...filter,
    updatedSince: timeParam(query, "since"),
    updatedUntil: timeParam(query, "until"),
    limit,
    offset,
  });
  return { tasks, limit, offset };
}

async function requireTask(ctx: DashboardContext, id: string): Promise<TaskStatus> {
  const status = await ctx.client.backend.get(id);
  if (!status) throw notFound(`no task with id ${id} (unknown or expired)`);
  return status;
}

async function taskDetail(ctx: DashboardContext, id: string) {
  const status = await requireTask(ctx, id);
  const isCanvas = CanvasMeta.kind in status.meta;
  const [members, deadLetter] = await Promise.all([
    isCanvas ? ctx.client.canvas.handle(id).members() : Promise.resolve(null),
    ctx.client.broker.getDeadLetter(id),
  ]);
  return {
    status,
    runtimeMs:
      status.startedAt && status.finishedAt ? status.finishedAt - status.startedAt : undefined,
    parentId: status.meta[MetaKeys.parentTaskId] ?? null,
    rootId: status.meta[MetaKeys.rootTaskId] ?? null,
    canvas: members?.map(({ status: _, ...m }) => m) ?? null,
    deadLetter,
    timeline: timelineRows(status.timeline),
  };
}

/** Enqueue options from a request body, checked field by field. */
function enqueueOptions(raw: unknown): EnqueueOptions {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== "object" || Array.isArray(raw))
    throw badRequest('"options" must be an object');
  const o = raw as Record<string, unknown>;
  const known = ["queue", "priority", "delay", "maxRetries", "taskId", "headers", "meta"];
  const unknown = Object.keys(o).filter((k) => !known.includes(k));
  if (unknown.length)
    throw badRequest(`unknown option(s): ${unknown.join(", ")}; known: ${known.join(", ")}`);
  const options: EnqueueOptions = {};
  if (o.queue !== undefined) options.queue = stringField(o, "queue");
  if (o.taskId !== undefined) options.taskId = stringField(o, "taskId");
  if (o.priority !== undefined) {
    if (!Number.isInteger(o.priority) || (o.priority as number) < 0 || (o.priority as number) > 9)
      throw badRequest('"priority" must be an integer from 0 to 9');
    options.priority = o.priority as number;
  }
  if (o.maxRetries !== undefined) {
    if (!Number.isInteger(o.maxRetries) || (o.maxRetries as number) < 0)
      throw badRequest('"maxRetries" must be a non-negative integer');
    options.maxRetries = o.maxRetries as number;
  }
  if (o.delay !== undefined) {
    if (typeof o.delay !== "string" && typeof o.delay !== "number")
      throw badRequest('"delay" must be a duration like "30s" or milliseconds');
    options.delay = parseDuration(o.delay, "delay");
  }
  for (const key of ["headers", "meta"] as const) {
    const value = o[key];
    if (value === undefined) continue;
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw badRequest(`"${key}" must be an object`);
    if (key === "headers" && Object.values(value).some((v) => typeof v !== "string"))
      throw badRequest('"headers" values must be strings');
    (options as Record<string, unknown>)[key] = value;
  }
  return options;
}

export const taskRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/tasks",
    summary:
      "Task statuses, newest first: by id, or filtered by state, name, queue and creation time",
    query: {
      id: "exact task id",
      state: TASK_STATES.join(" | "),
      name: "task name",
      queue: "queue name",
      since: "last updated at or after (ISO time)",
      until: "last updated at or before (ISO time)",
      limit: "page size (default 50, at most 500)",
      offset: "skip this many",
    },
    handle: (input, ctx) => listTasks(input.query, ctx),
  },
  {
    method: "POST",
    path: "/api/tasks",
    summary: "Enqueue a task by name (needs the API token); returns its id",
    body: {
      name: "task name",
      args: "arguments object",
      options: "queue, priority, delay, maxRetries, taskId, headers, meta",
    },
    tokenRequired: true,
    handle: async (input, ctx) => {
      const name = stringField(input.body, "name", true);
      const args = input.body.args ?? {};
      if (typeof args !== "object" || args === null || Array.isArray(args))
        throw badRequest('"args" must be a JSON object');
      const id = await ctx.client.enqueue(
        name,
        args as Record<string, unknown>,
        enqueueOptions(input.body.options),
      );
      return { id };
    },
  },
  {
    method: "GET",
    path: "/api/tasks/:id",
    summary:
      "One task: args, result, error and traceback, attempts, timings, progress, meta, parent/root, canvas members, dead letter",
    handle: (input, ctx) => taskDetail(ctx, input.params.id),
  },
  {
    method: "POST",
    path: "/api/tasks/:id/revoke",
    summary: "Revoke a task: skipped when delivered; with terminate, stopped if running",
    body: { terminate: "boolean", reason: "recorded with the revocation" },
    handle: async (input, ctx) => {
      const id = input.params.id;
      await requireTask(ctx, id);
      const reason = stringField(input.body, "reason") ?? "revoked from the dashboard";
      const entries = revokeEntries(
        [id],
        { terminate: input.body.terminate === true, reason, requestedBy: "stem-dashboard" },
        ctx.now(),
      );
      // Persisted first: workers that are down or miss the message still skip the task.
      await ctx.client.revokeStore.upsertAll(entries);
      const replies = await ctx.control("revoke", { revocations: entries });
      return { revoked: id, terminate: entries[0].terminate, replies };
    },
  },
  {
    method: "POST",
    path: "/api/tasks/:id/retry",
    summary: "Enqueue a copy of a task (same name, args and queue); returns the new id",
    handle: async (input, ctx) => {
      const status = await requireTask(ctx, input.params.id);
      if (status.args === undefined)
        throw badRequest(
          `task ${status.id} has no stored arguments (a canvas record): it cannot be copied`,
        );
      const id = await ctx.client.enqueue(status.name, status.args, {
        queue: status.queue,
        meta: { "stem.retryOf": status.id },
      });
      return { id, copyOf: status.id };
    },
  },
];
