/**
 * A task's limits as operators see them: workers advertise them in their heartbeats
 * (`extras.limits`) and the dashboard shows them per queue. Another kind of limit (global
 * concurrency) adds a field to TaskLimits and fills it in `taskLimits`; the dashboard
 * shows every field it is given.
 */
import { describeRateLimit } from "./rate-limit.ts";
import type { TaskRegistry } from "./registry.ts";

export interface TaskLimits {
  /** The queue the task is sent to unless the enqueue says otherwise (absent: the default queue). */
  queue?: string;
  /** The task's rate limit in words: `"10/s"`, `"10/s per args.tenant, group smtp, fail open"`. */
  rateLimit?: string;
  /** At most this many running at once across every worker (`globalConcurrency`). */
  globalConcurrency?: number;
}

/** The limits of every registered task that has one, by task name. */
export function taskLimits(registry: TaskRegistry): Record<string, TaskLimits> {
  const out: Record<string, TaskLimits> = {};
  for (const name of registry.names()) {
    const options = registry.get(name)?.options;
    if (!options?.rateLimit && options?.globalConcurrency === undefined) continue;
    out[name] = {
      queue: options.queue,
      rateLimit: options.rateLimit ? describeRateLimit(options.rateLimit) : undefined,
      globalConcurrency: options.globalConcurrency,
    };
  }
  return out;
}
