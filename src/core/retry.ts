import { parseDuration, type DurationInput } from "./duration.ts";

/** Decides how long to wait before the attempt after `attempt`. */
export interface RetryStrategy {
  /** `attempt` is the number of the attempt that just failed (1 for the first run). */
  nextDelay(attempt: number, error: unknown): number;
}

/**
 * Exponential backoff with jitter: `min(base · 2^(attempt - 1), max)` (base after the first
 * attempt, twice that after the second, …), minus a random quarter of it so retries from
 * many tasks spread out. Defaults: base 2 s, max 5 min.
 */
export class ExponentialJitterRetryStrategy implements RetryStrategy {
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;
  constructor(options: { base?: DurationInput; max?: DurationInput; random?: () => number } = {}) {
    this.baseMs = parseDuration(options.base ?? "2s", "retry base");
    this.maxMs = parseDuration(options.max ?? "5m", "retry max");
    this.random = options.random ?? Math.random;
  }

  nextDelay(attempt: number): number {
    const capped = Math.min(this.baseMs * 2 ** Math.max(0, attempt - 1), this.maxMs);
    return Math.round(capped - this.random() * (capped / 4));
  }
}

/** The same delay before every retry. */
export class FixedRetryStrategy implements RetryStrategy {
  private readonly delayMs: number;
  constructor(delay: DurationInput) {
    this.delayMs = parseDuration(delay, "retry delay");
  }
  nextDelay(): number {
    return this.delayMs;
  }
}

/** Retry backoff as written in TaskOptions. */
export type RetryBackoff =
  | { kind: "exponential"; base?: DurationInput; max?: DurationInput }
  | { kind: "fixed"; delay: DurationInput }
  | RetryStrategy;

/** Turns TaskOptions.retryBackoff into a strategy. */
export function retryStrategyFrom(backoff: RetryBackoff): RetryStrategy {
  if ("nextDelay" in backoff) return backoff;
  return backoff.kind === "fixed"
    ? new FixedRetryStrategy(backoff.delay)
    : new ExponentialJitterRetryStrategy(backoff);
}
