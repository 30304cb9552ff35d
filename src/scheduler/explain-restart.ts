/**
 * The missed-run policy in words, and what a Beat starting now would do with a stored
 * entry: fire on time, catch up, or fire once and skip — decided by decideMissedRuns, the
 * function Beat itself calls.
 */
import { formatDuration } from "../core/duration.ts";
import type { ScheduleEntry } from "../core/schedule.ts";
import { decideMissedRuns } from "./missed-runs.ts";
import { nextRunAt, type SchedulableEntry } from "./next-run.ts";

/** Most due times listed as fired or skipped. */
export const RESTART_LIST_LIMIT = 20;

/** A stored entry's run state, as far as the restart decision needs it. */
export type RestartEntry = SchedulableEntry &
  Partial<Pick<ScheduleEntry, "enabled" | "nextRunAt" | "lastRunAt">>;

/** What a Beat starting now would do with an entry. */
export interface RestartExplanation {
  /**
   * `no-state`: an ad-hoc spec (nothing stored); `disabled`; `expired` (disabled without
   * running); `first-run` (no next run stored yet); `on-time` (not overdue);
   * `catch-up` (overdue within the grace: every missed due time fires, late);
   * `skip` (overdue beyond the grace: the latest fires once, earlier ones are skipped);
   * `no-more-runs`.
   */
  action:
    | "no-state"
    | "disabled"
    | "expired"
    | "first-run"
    | "on-time"
    | "catch-up"
    | "skip"
    | "no-more-runs";
  message: string;
  /** Due times fired at once, in order (at most RESTART_LIST_LIMIT). */
  fires: number[];
  /** Due times skipped, in order (at most RESTART_LIST_LIMIT). */
  skipped: number[];
  /** How many due times are skipped; a lower bound when `moreSkipped`. */
  skippedCount: number;
  moreSkipped: boolean;
}

/** The missed-run policy in effect and its effect now. */
export interface MissedRunExplanation {
  graceMs: number;
  policy: string;
  restart: RestartExplanation;
}

function iso(t: number): string {
  return new Date(t).toISOString();
}

function roughDuration(ms: number): string {
  return formatDuration(ms < 1000 ? Math.max(0, ms) : Math.round(ms / 1000) * 1000);
}

function list(times: number[], total: number, more = false): string {
  const shown = times.map(iso).join(", ");
  if (more) return `${shown}, ... (more than ${total})`;
  return total > times.length ? `${shown}, ... (${total} in all)` : shown;
}

/** The due times from `dueAt` up to `now`, as Beat fires them one after the other (at most `limit`). */
function dueTimesUntil(entry: RestartEntry, dueAt: number, now: number, limit: number): number[] {
  const times: number[] = [];
  let t: number | null = dueAt;
  while (t !== null && t <= now && times.length < limit) {
    times.push(t);
    t = nextRunAt({ ...entry, lastRunAt: t }, t);
  }
  return times;
}

/**
 * Explains the missed-run policy for `graceMs` and what a Beat starting at `now` would do
 * with `entry`. `stored` is false for an ad-hoc spec (no run state), whose first due time
 * is `firstRun`.
 */
export function explainMissedRuns(
  entry: RestartEntry,
  now: number,
  graceMs: number,
  stored: boolean,
  firstRun: number | undefined,
): MissedRunExplanation {
  const grace = formatDuration(graceMs);
  const policy =
    `grace ${grace}: an entry overdue by up to ${grace} fires every missed due time, late, ` +
    `one after the other; overdue by more (every Beat was down), it fires once, for the ` +
    `latest due time that has passed, and skips the earlier ones`;
  return { graceMs, policy, restart: restartNow(entry, now, graceMs, stored, firstRun) };
}

function outcome(
  action: RestartExplanation["action"],
  message: string,
  more: Partial<RestartExplanation> = {},
): RestartExplanation {
  return { action, message, fires: [], skipped: [], skippedCount: 0, moreSkipped: false, ...more };
}

function restartNow(
  entry: RestartEntry,
  now: number,
  graceMs: number,
  stored: boolean,
  firstRun: number | undefined,
): RestartExplanation {
  if (!stored) {
    return firstRun === undefined
      ? outcome("no-state", "an ad-hoc spec has no run state, and it has no runs after now")
      : outcome(
          "no-state",
          `an ad-hoc spec has no run state: a Beat given it now would first fire it at ${iso(firstRun)}`,
        );
  }
  if (entry.enabled === false) {
    return outcome(
      "disabled",
      "disabled: a Beat does not fire it; once enabled it resumes from its next due time (runs missed while disabled are not fired)",
    );
  }
  if (entry.expireAt !== undefined && now > entry.expireAt) {
    return outcome(
      "expired",
      `expired at ${iso(entry.expireAt)}: a Beat disables it without running it`,
    );
  }
  const dueAt = entry.nextRunAt;
  if (dueAt === undefined) {
    const next = entry.lastRunAt === undefined ? nextRunAt(entry, now) : null;
    return next === null
      ? outcome("no-more-runs", "it has no more runs: a Beat does nothing with it")
      : outcome(
          "first-run",
          `no next run stored yet: a Beat starting now computes it from now, ${iso(next)}`,
        );
  }
  if (dueAt > now) {
    return outcome(
      "on-time",
      `not overdue: next due at ${iso(dueAt)}; a restart now neither misses nor repeats a run`,
    );
  }
  const late = `overdue by ${roughDuration(now - dueAt)}`;
  if (now - dueAt <= graceMs) {
    // Each later due time is less overdue than the first, so it is fired too.
    const fires = dueTimesUntil(entry, dueAt, now, RESTART_LIST_LIMIT + 1);
    const more = fires.length > RESTART_LIST_LIMIT;
    const shown = fires.slice(0, RESTART_LIST_LIMIT);
    return outcome(
      "catch-up",
      `${late} (within the ${formatDuration(graceMs)} grace): a Beat starting now catches up, ` +
        `firing ${more ? `more than ${RESTART_LIST_LIMIT}` : fires.length} due time(s) late, one after the other: ${list(shown, shown.length, more)}`,
      { fires: shown },
    );
  }
  const decision = decideMissedRuns(entry, dueAt, now, graceMs);
  const shown = Math.min(decision.skipped, RESTART_LIST_LIMIT);
  const skipped = dueTimesUntil(entry, dueAt, now, shown);
  const count = decision.moreSkipped ? `more than ${decision.skipped}` : `${decision.skipped}`;
  const skips =
    decision.skipped === 0
      ? "no earlier due time is skipped"
      : `skips ${count} earlier one(s): ${list(skipped, decision.skipped, decision.moreSkipped)}`;
  return outcome(
    "skip",
    `${late} (more than the ${formatDuration(graceMs)} grace): a Beat starting now fires once, ` +
      `for the latest missed due time ${iso(decision.scheduledFor)}, and ${skips}`,
    {
      fires: [decision.scheduledFor],
      skipped,
      skippedCount: decision.skipped,
      moreSkipped: decision.moreSkipped,
    },
  );
}
