/** Workflows: runs by status; a run's step timeline; emit an event, cancel, rewind. */
import type { WorkflowStatus } from "../../adapters/contracts.ts";
import { badRequest, enumParam, intParam, stringField } from "../http.ts";
import type { Route } from "../routes.ts";

export const WORKFLOW_STATUSES: WorkflowStatus[] = [
  "running",
  "suspended",
  "completed",
  "failed",
  "cancelled",
];

export const workflowRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/workflows",
    summary: "Workflow runs, newest first, by status and workflow name",
    query: {
      status: WORKFLOW_STATUSES.join(" | "),
      workflow: "workflow name",
      limit: "page size (default 50, at most 500)",
      offset: "skip this many",
    },
    handle: async (input, ctx) => {
      const limit = intParam(input.query, "limit", 50, 500);
      const offset = intParam(input.query, "offset", 0, 1_000_000);
      const runs = await ctx.workflows.listRuns({
        status: enumParam(input.query, "status", WORKFLOW_STATUSES),
        workflow: input.query.get("workflow") || undefined,
        limit,
        offset,
      });
      return { runs, limit, offset };
    },
  },
  {
    method: "GET",
    path: "/api/workflows/:id",
    summary: "One run: status, checkpoints in order (the step timeline), what it waits on",
    handle: (input, ctx) => ctx.workflows.describe(input.params.id),
  },
  {
    method: "POST",
    path: "/api/workflows/:id/cancel",
    summary: "Cancel a run; `cancelled` is false when it had already finished",
    body: { reason: "kept with the run" },
    handle: async (input, ctx) => {
      const reason = stringField(input.body, "reason") ?? "cancelled from the dashboard";
      return { cancelled: await ctx.workflows.cancel(input.params.id, reason) };
    },
  },
  {
    method: "POST",
    path: "/api/workflows/:id/rewind",
    summary:
      "Rewind a run to a step: that checkpoint and later ones are deleted and it runs again from there",
    body: { step: "step name" },
    handle: async (input, ctx) => {
      await ctx.workflows.rewind(input.params.id, stringField(input.body, "step", true));
      return { rewound: input.params.id };
    },
  },
  {
    method: "POST",
    path: "/api/events",
    summary:
      "Emit an event: every run waiting on the topic resumes once with the payload; if none waits it is kept for the next",
    body: { topic: "event topic", payload: "any JSON (default null)" },
    handle: async (input, ctx) => {
      const topic = stringField(input.body, "topic", true);
      if (!("payload" in input.body) && Object.keys(input.body).some((k) => k !== "topic"))
        throw badRequest('unknown fields: give "topic" and "payload"');
      const resumed = await ctx.workflows.emit(topic, input.body.payload ?? null);
      return { topic, resumed };
    },
  },
];
