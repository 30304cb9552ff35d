/**
 * The next run of an interval spec.
 */
import { parseDuration } from "../core/duration.ts";
import type { IntervalSpec } from "../core/schedule.ts";
import { instantMs } from "./value-checks.ts";

/**
 * The first run of an interval spec strictly after `after`, or null when there is none.
 *
 * Runs are anchored so they do not drift: at `startAt` when given (runs are
 * `startAt + k·every`, k >= 0), else at `lastRunAt` (the next run is
 * `lastRunAt + k·every`, k >= 1), else at `after` itself (`after + every`). Runs missed
 * while nothing was running are not caught up: the result is the first anchored time
 * after `after`. Before `startAt` the next run is `startAt`. The window is
 * `[startAt, endAt)`: a run at or after `endAt` does not happen, so the result is null.
 */
export function nextIntervalRun(
  spec: IntervalSpec,
  after: number,
  lastRunAt: number | undefined,
): number | null {
  const every = parseDuration(spec.every, "interval every");
  const startAt = spec.startAt === undefined ? undefined : instantMs(spec.startAt);
  const endAt = spec.endAt === undefined ? undefined : instantMs(spec.endAt);
  if (!(every > 0)) return null;
  let next: number;
  if (startAt !== undefined) {
    next =
      after < startAt ? startAt : startAt + (Math.floor((after - startAt) / every) + 1) * every;
  } else if (lastRunAt !== undefined && lastRunAt <= after) {
    next = lastRunAt + (Math.floor((after - lastRunAt) / every) + 1) * every;
  } else if (lastRunAt !== undefined) {
    // `after` is before the last run (a preview from an earlier time): the next run after it.
    next = lastRunAt + every;
  } else {
    next = after + every;
  }
  if (endAt !== undefined && next >= endAt) return null;
  return next;
}
