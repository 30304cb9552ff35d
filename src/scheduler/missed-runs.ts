/**
 * Beat's missed-run policy: which due time to fire when an entry is found overdue.
 *
 * An entry late by no more than the grace period (a failover while a dead Beat's lock ran
 * out, a slow batch) fires its due time as usual; the due times after it, also overdue,
 * follow one by one, so nothing is lost. An entry late by more than the grace period
 * (every Beat was down) fires once, for the latest due time that has passed, and the
 * earlier missed due times are skipped and counted for the log — no storm of catch-up
 * runs after an outage. The next run is then the first due time after that one.
 */
import { type NextRunOptions, nextRunAt, type SchedulableEntry } from "./next-run.ts";

/** The due time to fire and what the policy skipped to get there. */
export interface MissedRunDecision {
  /** The due time to dispatch now. */
  scheduledFor: number;
  /** Missed due times before `scheduledFor` that will not run. */
  skipped: number;
  /** True when there were so many that `skipped` is a lower bound. */
  moreSkipped: boolean;
}

/** Beat's default lock TTL (`stem beat --lock-ttl`). */
export const DEFAULT_LOCK_TTL_MS = 10_000;

/** Beat's default missed-run grace for a lock TTL: twice the TTL, so a failover is not an outage. */
export function defaultMissedRunGrace(lockTtlMs: number): number {
  return 2 * lockTtlMs;
}

/** Due times walked one by one before switching to a search (a per-second entry down for days). */
const WALK_LIMIT = 1000;

/**
 * Applies the missed-run policy to an entry due at `dueAt` when the time is `now`:
 * returns `dueAt` itself when `now - dueAt <= graceMs`, else the latest due time at or
 * before `now` with the count of due times skipped in between.
 */
export function decideMissedRuns(
  entry: SchedulableEntry,
  dueAt: number,
  now: number,
  graceMs: number,
  options: NextRunOptions = {},
): MissedRunDecision {
  if (now - dueAt <= graceMs) return { scheduledFor: dueAt, skipped: 0, moreSkipped: false };
  const after = (anchor: number, from: number) =>
    nextRunAt({ ...entry, lastRunAt: anchor }, from, options);
  let current = dueAt;
  for (let skipped = 0; skipped < WALK_LIMIT; skipped++) {
    const next = after(current, current);
    if (next === null || next > now) return { scheduledFor: current, skipped, moreSkipped: false };
    current = next;
  }
  // Too many to walk: binary-search the latest `from` whose next run is still due. The
  // next run after `from` only moves later as `from` does, so the search is sound.
  const anchor = current;
  let lo = current;
  let hi = now;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    const next = after(anchor, mid);
    if (next !== null && next <= now) lo = mid;
    else hi = mid;
  }
  const latest = after(anchor, lo);
  const scheduledFor = latest !== null && latest <= now && latest > current ? latest : current;
  return { scheduledFor, skipped: WALK_LIMIT, moreSkipped: true };
}
