/**
 * A summary of a schedule store for `stem observe schedules`: how many entries are due
 * and overdue, and per entry its runs, drift, next run and last error.
 */
import type { ScheduleStore } from "../adapters/contracts.ts";
import { describeSpec } from "./describe.ts";

/** One entry in the overview. */
export interface ScheduleOverviewRow {
  id: string;
  taskName: string;
  schedule: string;
  enabled: boolean;
  totalRunCount: number;
  /** Drift of the last run in ms (executedAt − due time). */
  drift?: number;
  nextRunAt?: number;
  lastRunAt?: number;
  lastError?: string;
  /** Enabled and its next run has come. */
  due: boolean;
  /** Due for longer than `overdueAfterMs`: no Beat is dispatching it. */
  overdue: boolean;
}

export interface ScheduleOverview {
  now: number;
  overdueAfterMs: number;
  total: number;
  enabled: number;
  due: number;
  overdue: number;
  entries: ScheduleOverviewRow[];
}

/** Reads every entry of `store` and summarises them as of `now`. */
export async function scheduleOverview(
  store: ScheduleStore,
  now: number,
  overdueAfterMs = 10_000,
): Promise<ScheduleOverview> {
  const entries = (await store.list()).map((e): ScheduleOverviewRow => {
    const due = e.enabled && e.nextRunAt !== undefined && e.nextRunAt <= now;
    return {
      id: e.id,
      taskName: e.taskName,
      schedule: describeSpec(e.spec, e.timezone),
      enabled: e.enabled,
      totalRunCount: e.totalRunCount,
      drift: e.drift,
      nextRunAt: e.nextRunAt,
      lastRunAt: e.lastRunAt,
      lastError: e.lastError,
      due,
      overdue: due && now - (e.nextRunAt as number) > overdueAfterMs,
    };
  });
  return {
    now,
    overdueAfterMs,
    total: entries.length,
    enabled: entries.filter((e) => e.enabled).length,
    due: entries.filter((e) => e.due).length,
    overdue: entries.filter((e) => e.overdue).length,
    entries,
  };
}
