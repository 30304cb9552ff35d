/**
 * Task metrics from the per-minute counters the workers keep in the result backend (kept
 * a day): per task name the count, failure rate, retries and duration percentiles over
 * the window, the same per time bucket for all tasks (or one name), and Beat drift per
 * schedule entry and per bucket, from the entries' run history.
 */
import type { ScheduleRunRecord } from "../../core/schedule.ts";
import type { DashboardContext } from "../context.ts";
import { type HistoryBucket, readHistory, summary, tasksTotal } from "../history.ts";
import { badRequest } from "../http.ts";
import type { Route } from "../routes.ts";

const WINDOWS: Record<string, number> = {
  "15m": 15 * 60_000,
  "1h": 60 * 60_000,
  "24h": 24 * 60 * 60_000,
};
/** Runs read per schedule entry for drift. */
const DRIFT_HISTORY = 1000;

function average(values: number[]): number | undefined {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined;
}

/** Drift of the runs in each bucket (the runs' executedAt picks the bucket). */
function driftSeries(buckets: HistoryBucket[], runs: ScheduleRunRecord[], start: number) {
  const perBucket: number[][] = buckets.map(() => []);
  for (const run of runs) {
    if (run.driftMs === undefined || run.executedAt < start) continue;
    const i = buckets.findIndex((b) => run.executedAt < b.t);
    if (i >= 0) perBucket[i].push(run.driftMs);
  }
  return buckets.map((b, i) => ({
    t: b.t,
    runs: perBucket[i].length,
    average: average(perBucket[i]),
    max: perBucket[i].length ? Math.max(...perBucket[i]) : undefined,
  }));
}

async function metrics(ctx: DashboardContext, window: string, name?: string) {
  const windowMs = WINDOWS[window];
  if (windowMs === undefined)
    throw badRequest(`window must be one of ${Object.keys(WINDOWS).join(", ")}, got "${window}"`);
  const now = ctx.now();
  const [history, entries] = await Promise.all([
    readHistory(ctx.counts, now, windowMs),
    ctx.schedules.list(),
  ]);
  const { start } = history;
  const histories = await Promise.all(
    entries.map((e) => ctx.schedules.history(e.id, DRIFT_HISTORY)),
  );
  const drift = entries.map((e, i) => {
    const drifts = histories[i]
      .filter((h) => h.executedAt >= start)
      .map((h) => h.driftMs)
      .filter((d): d is number => d !== undefined);
    return {
      id: e.id,
      last: e.drift,
      average: average(drifts),
      max: drifts.length ? Math.max(...drifts) : undefined,
      runs: drifts.length,
    };
  });
  return {
    now,
    window,
    tasks: [...history.totals.entries()]
      .filter(([task]) => name === undefined || task === name)
      .map(([task, counts]) => ({ name: task, ...summary(counts) }))
      .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name)),
    series: history.buckets.map((b) => ({ t: b.t, ...summary(tasksTotal(b.tasks, name)) })),
    drift,
    driftSeries: driftSeries(history.buckets, histories.flat(), start),
  };
}

export const metricsRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/metrics",
    summary:
      "From the per-minute counters (kept a day): per task name count, failures, retries, failure rate and p50/p95/p99 durations, the same per time bucket, and Beat drift per entry and per bucket",
    query: { window: "15m | 1h (default) | 24h", name: "only this task name" },
    handle: (input, ctx) =>
      metrics(ctx, input.query.get("window") || "1h", input.query.get("name") || undefined),
  },
];
