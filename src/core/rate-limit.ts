import { StemError } from "./errors.ts";

/** A parsed rate limit: `tokens` per `intervalMs`. */
export interface RateLimit {
  tokens: number;
  intervalMs: number;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses `"10/s"`, `"100/m"`, `"5/h"` (a bare number means per second, as in Celery).
 * Returns null for an unparseable string; validateTaskOptions turns that into an error.
 */
export function parseRateLimit(text: string): RateLimit | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*([smh]))?\s*$/.exec(text);
  if (!m) return null;
  const tokens = Number(m[1]);
  if (tokens <= 0) return null;
  return { tokens, intervalMs: UNITS[m[2] ?? "s"] };
}

/** Like parseRateLimit, but throws a StemError naming the task when the text is bad. */
export function requireRateLimit(text: string, taskName: string): RateLimit {
  const parsed = parseRateLimit(text);
  if (!parsed) {
    throw new StemError(
      "invalid_task_options",
      `task "${taskName}": rateLimit "${text}" is not a rate (use e.g. "10/s", "100/m", "5/h")`,
    );
  }
  return parsed;
}
