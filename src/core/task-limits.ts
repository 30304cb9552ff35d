/**
 * A task's limits as operators see them: workers advertise them in their heartbeats
 * (`extras.limits`) and the dashboard shows them per queue. New kinds of limit (global
 * concurrency, keyed or group rate limits) add a field to TaskLimits and fill it in
 * `taskLimits`; the dashboard shows every field it is given.
 */
import type { RateLimit } from "./rate-limit.ts";
import type { TaskRegistry } from "./registry.ts";

export interface TaskLimits {
  /** The queue the task is sent to unless the enqueue says otherwise (absent: the default queue). */
  queue?: string;
  /** The task's rate limit, as written: `"10/s"`. */
  rateLimit?: string;
}

const UNITS: [number, string][] = [
  [3_600_000, "h"],
  [60_000, "m"],
  [1000, "s"],
];

/** A parsed rate limit written back as text (`{tokens: 10, intervalMs: 1000}` → `"10/s"`). */
export function formatRateLimit(rate: RateLimit): string {
  const unit = UNITS.find(([ms]) => rate.intervalMs === ms);
  return unit ? `${rate.tokens}/${unit[1]}` : `${rate.tokens} per ${rate.intervalMs} ms`;
}

/** The limits of every registered task that has one, by task name. */
export function taskLimits(registry: TaskRegistry): Record<string, TaskLimits> {
  const out: Record<string, TaskLimits> = {};
  for (const name of registry.names()) {
    const options = registry.get(name)?.options;
    if (!options?.rateLimit) continue;
    out[name] = { queue: options.queue, rateLimit: formatRateLimit(options.rateLimit) };
  }
  return out;
}
