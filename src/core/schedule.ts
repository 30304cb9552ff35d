import type { DurationInput } from "./duration.ts";

/** Fires every `every`, optionally only between `startAt` and `endAt` (ISO or epoch ms). */
export interface IntervalSpec {
  kind: "interval";
  every: DurationInput;
  startAt?: string | number;
  endAt?: string | number;
}

/** A five- or six-field (leading seconds) cron expression, or an alias such as `@daily`. */
export interface CronSpec {
  kind: "cron";
  expression: string;
  description?: string;
}

/** Sunrise, sunset or solar noon at a place, shifted by `offset`. */
export interface SolarSpec {
  kind: "solar";
  event: "sunrise" | "sunset" | "noon";
  latitude: number;
  longitude: number;
  offset?: DurationInput;
}

/** Fires once at `runAt` (ISO or epoch ms). */
export interface ClockedSpec {
  kind: "clocked";
  runAt: string | number;
  runOnce?: boolean;
}

/** Celery-style crontab filters; an omitted field means every value. */
export interface CalendarSpec {
  kind: "calendar";
  months?: number[];
  weekdays?: number[];
  monthdays?: number[];
  hours?: number[];
  minutes?: number[];
}

/** When a schedule entry is due. */
export type ScheduleSpec = IntervalSpec | CronSpec | SolarSpec | ClockedSpec | CalendarSpec;

/**
 * One scheduled task. The first group of fields is what a user defines; the second is
 * state the schedule store keeps. Times are epoch milliseconds.
 */
export interface ScheduleEntry {
  id: string;
  taskName: string;
  queue?: string;
  args: Record<string, unknown>;
  kwargs: Record<string, unknown>;
  meta: Record<string, unknown>;
  spec: ScheduleSpec;
  /** Random delay added to each dispatch, as written (`10s` or ms). */
  jitter?: DurationInput;
  enabled: boolean;
  timezone?: string;
  expireAt?: number;
  runOnce?: boolean;

  nextRunAt?: number;
  lastRunAt?: number;
  totalRunCount: number;
  lastError?: string;
  lastSuccessAt?: number;
  lastErrorAt?: number;
  /** executedAt − scheduledFor of the last run, in ms. */
  drift?: number;
  /** Optimistic-lock version; 0 for an entry not yet stored. */
  version: number;
  createdAt?: number;
  updatedAt?: number;
}

/** What Beat reports after dispatching (or failing to dispatch) one due entry. */
export interface ScheduleExecution {
  scheduledFor: number;
  executedAt: number;
  success: boolean;
  jitterMs?: number;
  driftMs?: number;
  error?: string;
  /** The next due time, computed by the caller; absent when the entry has no more runs. */
  nextRunAt?: number;
  /** Disable the entry (run-once done, or past its expiry). */
  disable?: boolean;
  /**
   * Record only if the stored entry still has this version (else VersionConflictError and
   * nothing changes): a Beat that lost its lock mid-dispatch cannot count a run twice.
   */
  expectedVersion?: number;
}

/** One stored execution in an entry's history. */
export interface ScheduleRunRecord extends ScheduleExecution {
  entryId: string;
}
