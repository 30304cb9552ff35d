/** Schedules: entries with their run state, detail with history and the next 10 due times; enable/disable. */
import type { ScheduleEntry } from "../../core/schedule.ts";
import { setScheduleEnabled } from "../../scheduler/apply.ts";
import { describeSpec } from "../../scheduler/describe.ts";
import { nextRuns } from "../../scheduler/next-run.ts";
import type { DashboardContext } from "../context.ts";
import { intParam, notFound } from "../http.ts";
import type { Route } from "../routes.ts";

/** An entry counts as overdue when due for longer than this (Beat is not dispatching it). */
const OVERDUE_AFTER_MS = 10_000;

function view(entry: ScheduleEntry, now: number) {
  const due = entry.enabled && entry.nextRunAt !== undefined && entry.nextRunAt <= now;
  return {
    ...entry,
    description: describeSpec(entry.spec, entry.timezone),
    timezone: entry.timezone ?? "UTC",
    due,
    overdue: due && now - (entry.nextRunAt as number) > OVERDUE_AFTER_MS,
  };
}

async function requireEntry(ctx: DashboardContext, id: string): Promise<ScheduleEntry> {
  const entry = await ctx.schedules.get(id);
  if (!entry) throw notFound(`no schedule entry "${id}"`);
  return entry;
}

function toggle(enabled: boolean): Route {
  return {
    method: "POST",
    path: `/api/schedules/:id/${enabled ? "enable" : "disable"}`,
    summary: enabled
      ? "Enable an entry (runs missed while disabled are not fired)"
      : "Disable an entry; running Beats stop firing it",
    handle: async (input, ctx) => {
      const entry = await setScheduleEnabled(ctx.schedules, input.params.id, enabled);
      if (!entry) throw notFound(`no schedule entry "${input.params.id}"`);
      return view(entry, ctx.now());
    },
  };
}

export const scheduleRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/schedules",
    summary:
      "Schedule entries: spec description, time zone, next and last run, drift, runs, last error",
    handle: async (_, ctx) => {
      const now = ctx.now();
      const entries = (await ctx.schedules.list())
        .sort((a, b) => a.id.localeCompare(b.id))
        .map((e) => view(e, now));
      return { entries };
    },
  },
  {
    method: "GET",
    path: "/api/schedules/:id",
    summary: "One entry with its run history (newest first) and its next 10 due times",
    query: { history: "how many past runs (default 50, at most 1000)" },
    handle: async (input, ctx) => {
      const entry = await requireEntry(ctx, input.params.id);
      const limit = intParam(input.query, "history", 50, 1000);
      const now = ctx.now();
      return {
        entry: view(entry, now),
        history: limit ? await ctx.schedules.history(entry.id, limit) : [],
        nextRuns: nextRuns(entry, now, 10),
      };
    },
  },
  toggle(true),
  toggle(false),
];
