/**
 * When a schedule entry runs next, for every kind of spec.
 */
import { StemError } from "../core/errors.ts";
import type { ScheduleEntry } from "../core/schedule.ts";
import { calendarToCron } from "./calendar-cron.ts";
import { nextCronRun } from "./cron-next-run.ts";
import { nextIntervalRun } from "./interval-next-run.ts";
import { nextSolarRun, type SolarSkip } from "./solar-next-run.ts";
import { instantMs } from "./value-checks.ts";

/** The parts of an entry that decide when it runs. */
export type SchedulableEntry = Pick<ScheduleEntry, "spec"> &
  Partial<Pick<ScheduleEntry, "timezone" | "lastRunAt" | "expireAt" | "runOnce">>;

/** Options for nextRunAt and nextRuns. */
export interface NextRunOptions {
  /**
   * Called for each run of days on which a solar event does not occur at the entry's
   * latitude (polar day or night) and was skipped, e.g. for Beat to log `skip.message`.
   */
  onSkip?: (skip: SolarSkip) => void;
}

/**
 * The first time strictly after `after` (epoch ms) at which `entry` runs, or null when
 * it has no more runs. Entries are assumed valid (see validateSpec).
 *
 * - interval: see nextIntervalRun — anchored at `startAt`, else `lastRunAt`, else
 *   `after`; never at or after `endAt`.
 * - cron: in the entry's `timezone` (UTC by default), with Vixie cron's day-of-month /
 *   day-of-week OR and its DST rules — see nextCronRun.
 * - solar: the next sunrise, sunset or solar noon plus `offset`; days without the event
 *   (polar day or night) are skipped and reported to `options.onSkip`; null if none
 *   occurs within about a year.
 * - clocked: `runAt` if it is after `after` and the entry has never run, else null.
 * - calendar: compiled by calendarToCron and evaluated as cron.
 *
 * An entry with `runOnce` that has run (`lastRunAt` set) has no more runs, and no run is
 * later than `expireAt`.
 */
export function nextRunAt(
  entry: SchedulableEntry,
  after: number,
  options: NextRunOptions = {},
): number | null {
  if (entry.runOnce && entry.lastRunAt !== undefined) return null;
  const next = nextBySpec(entry, after, options);
  if (next === null) return null;
  if (entry.expireAt !== undefined && next > entry.expireAt) return null;
  return next;
}

function nextBySpec(
  entry: SchedulableEntry,
  after: number,
  options: NextRunOptions,
): number | null {
  const spec = entry.spec;
  switch (spec.kind) {
    case "interval":
      return nextIntervalRun(spec, after, entry.lastRunAt);
    case "cron":
      return nextCronRun(spec.expression, entry.timezone, after);
    case "calendar":
      return nextCronRun(calendarToCron(spec), entry.timezone, after);
    case "clocked": {
      const runAt = instantMs(spec.runAt);
      return entry.lastRunAt === undefined && runAt > after ? runAt : null;
    }
    case "solar": {
      const run = nextSolarRun(spec, after);
      if (options.onSkip) for (const skip of run.skipped) options.onSkip(skip);
      return run.at;
    }
    default:
      throw new StemError(
        "invalid_argument",
        `unknown schedule kind ${JSON.stringify((spec as { kind?: unknown }).kind)}`,
      );
  }
}

/**
 * The next `count` run times after `from` (fewer when the entry runs out), for previews
 * such as `stem schedule dry-run`. Each run after the first is computed as if the one
 * before it had happened (so interval and clocked entries advance as they would in Beat).
 */
export function nextRuns(
  entry: SchedulableEntry,
  from: number,
  count: number,
  options: NextRunOptions = {},
): number[] {
  const runs: number[] = [];
  let current: SchedulableEntry = entry;
  let after = from;
  while (runs.length < count) {
    const next = nextRunAt(current, after, options);
    if (next === null) break;
    runs.push(next);
    current = { ...current, lastRunAt: next };
    after = next;
  }
  return runs;
}
