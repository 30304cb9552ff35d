/** Schedule-store logic shared by adapters: version checks and how an execution updates an entry. */
import type { ScheduleEntry, ScheduleExecution } from "../core/schedule.ts";
import { VersionConflictError } from "../core/errors.ts";

/** How many executions each entry's history keeps. */
export const SCHEDULE_HISTORY_LIMIT = 1000;

/** Throws VersionConflictError unless the caller's version matches the stored one. */
export function checkVersion(entry: ScheduleEntry, stored: ScheduleEntry | null): void {
  const actual = stored?.version ?? 0;
  if (entry.version !== actual) throw new VersionConflictError(entry.id, entry.version, actual);
}

/** The entry as stored by an upsert: next version, timestamps filled. */
export function upserted(entry: ScheduleEntry, stored: ScheduleEntry | null, now: number) {
  return {
    ...entry,
    version: (stored?.version ?? 0) + 1,
    createdAt: stored?.createdAt ?? entry.createdAt ?? now,
    updatedAt: now,
  } satisfies ScheduleEntry;
}

/**
 * The entry after one recorded execution. Throws VersionConflictError when the run names
 * an `expectedVersion` the entry no longer has; adapters call this on the entry they read
 * inside the same atomic step as their write.
 */
export function executed(entry: ScheduleEntry, run: ScheduleExecution, now: number): ScheduleEntry {
  if (run.expectedVersion !== undefined && run.expectedVersion !== entry.version) {
    throw new VersionConflictError(entry.id, run.expectedVersion, entry.version);
  }
  return {
    ...entry,
    totalRunCount: entry.totalRunCount + 1,
    lastRunAt: run.executedAt,
    drift: run.driftMs ?? run.executedAt - run.scheduledFor,
    lastError: run.success ? undefined : run.error,
    lastErrorAt: run.success ? entry.lastErrorAt : run.executedAt,
    lastSuccessAt: run.success ? run.executedAt : entry.lastSuccessAt,
    nextRunAt: run.nextRunAt,
    enabled: run.disable ? false : entry.enabled,
    version: entry.version + 1,
    updatedAt: now,
  };
}
