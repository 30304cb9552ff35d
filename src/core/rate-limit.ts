import type { Envelope } from "./envelope.ts";
import { StemError } from "./errors.ts";

/** A parsed rate limit: `tokens` per `intervalMs`. */
export interface RateLimit {
  tokens: number;
  intervalMs: number;
}

/**
 * Where a keyed rate limit takes its key: `"args.<path>"` (a dotted path into the task's
 * stored args, e.g. `"args.tenant"` or `"args.account.id"`), `"headers.<name>"` (an enqueue
 * header, e.g. `"headers.x-tenant"`), or a function of the stored args and the headers.
 * The key must come out as a non-empty string or a finite number.
 */
export type RateLimitKey =
  | string
  | ((args: Record<string, unknown>, headers: Record<string, string>) => string | number);

/**
 * What a worker does when the limiter store cannot be reached: `"closed"` sends the task
 * back to the broker to wait for the store (no attempt or delivery spent), `"open"` runs
 * it without its limit.
 */
export type RateLimitFailMode = "open" | "closed";

/** A task's rate limit as the worker applies it: the rate, its bucket's name and its fail mode. */
export interface ResolvedRateLimit extends RateLimit {
  /** Tasks in one group share the group's bucket (per key when keyed). */
  group?: string;
  /** The key as declared (a function shows as `(function)`); absent when not keyed. */
  keySpec?: string;
  /** Derives the key from a delivery; absent when the task has one bucket. */
  key?: (envelope: Envelope) => string;
  failMode: RateLimitFailMode;
}

/** What TaskOptions says about rate limiting. */
export interface RateLimitOptions {
  rateLimit?: string;
  rateLimitKey?: RateLimitKey;
  rateLimitGroup?: string;
  rateLimitFailMode?: RateLimitFailMode;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

/** Longer keys are refused: they become store keys. */
const MAX_KEY_LENGTH = 200;

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

/** `"10/s"` for 10 per 1000 ms; the inverse of parseRateLimit for the rates it returns. */
export function formatRateLimit(rate: RateLimit): string {
  const unit = Object.entries(UNITS).find(([, ms]) => ms === rate.intervalMs)?.[0];
  return unit ? `${rate.tokens}/${unit}` : `${rate.tokens}/${rate.intervalMs}ms`;
}

/** One line for listings: `"10/s per args.tenant, group smtp, fail open"`. */
export function describeRateLimit(limit: ResolvedRateLimit): string {
  return [
    formatRateLimit(limit) + (limit.keySpec ? ` per ${limit.keySpec}` : ""),
    limit.group === undefined ? "" : `group ${limit.group}`,
    limit.failMode === "open" ? "fail open" : "",
  ]
    .filter(Boolean)
    .join(", ");
}

/** Like parseRateLimit, but throws a StemError naming the task when the text is bad. */
export function requireRateLimit(text: string, taskName: string): RateLimit {
  const parsed = typeof text === "string" ? parseRateLimit(text) : null;
  if (!parsed) {
    throw new StemError(
      "invalid_task_options",
      `task "${taskName}": rateLimit "${text}" is not a rate (use e.g. "10/s", "100/m", "5/h")`,
    );
  }
  return parsed;
}

/**
 * Checks and resolves a task's rate-limit options. A key, a group or a fail mode without
 * a rate, a malformed key spec, a blank group or an unknown fail mode is an error naming
 * the task and the field.
 */
export function resolveRateLimit(
  taskName: string,
  options: RateLimitOptions,
): ResolvedRateLimit | undefined {
  const bad = (message: string) =>
    new StemError("invalid_task_options", `task "${taskName}": ${message}`);
  if (options.rateLimit === undefined) {
    for (const field of ["rateLimitKey", "rateLimitGroup", "rateLimitFailMode"] as const) {
      if (options[field] !== undefined) throw bad(`${field} needs a rateLimit to apply to`);
    }
    return undefined;
  }
  const rate = requireRateLimit(options.rateLimit, taskName);
  const { rateLimitGroup: group, rateLimitFailMode: failMode = "closed" } = options;
  if (group !== undefined && (typeof group !== "string" || !/^\S+$/.test(group))) {
    throw bad(
      `rateLimitGroup must be a non-empty name without spaces, got ${JSON.stringify(group)}`,
    );
  }
  if (failMode !== "open" && failMode !== "closed") {
    throw bad(`rateLimitFailMode must be "open" or "closed", got ${JSON.stringify(failMode)}`);
  }
  const resolved: ResolvedRateLimit = { ...rate, group, failMode };
  if (options.rateLimitKey !== undefined) {
    const read = keyReader(options.rateLimitKey, bad);
    resolved.keySpec =
      typeof options.rateLimitKey === "string" ? options.rateLimitKey : "(function)";
    resolved.key = (envelope) => checkKey(taskName, resolved.keySpec!, read(envelope));
  }
  return resolved;
}

/** Reads the raw key of a delivery as `spec` says; throws `bad` for a spec that is not one. */
function keyReader(
  spec: RateLimitKey,
  bad: (message: string) => Error,
): (envelope: Envelope) => unknown {
  if (typeof spec === "function") return (e) => spec(e.args, e.headers);
  const forms = `use "args.<path>" (e.g. "args.tenant"), "headers.<name>" (e.g. "headers.x-tenant") or a function (args, headers) => key`;
  if (typeof spec !== "string") throw bad(`rateLimitKey must be a string or a function; ${forms}`);
  const header = /^headers\.(\S+)$/.exec(spec);
  if (header) return (e) => e.headers[header[1]];
  const path = /^args\.([^.\s]+(?:\.[^.\s]+)*)$/.exec(spec);
  if (!path) throw bad(`rateLimitKey "${spec}" is not a key spec; ${forms}`);
  const steps = path[1].split(".");
  return (e) => {
    let value: unknown = e.args;
    for (const step of steps) {
      if (typeof value !== "object" || value === null) return undefined;
      value = (value as Record<string, unknown>)[step];
    }
    return value;
  };
}

function checkKey(taskName: string, spec: string, value: unknown): string {
  const key = typeof value === "number" && Number.isFinite(value) ? String(value) : value;
  if (typeof key !== "string" || key === "" || key.length > MAX_KEY_LENGTH) {
    const got = typeof key === "string" ? `a string of ${key.length} characters` : String(key);
    throw new StemError(
      "invalid_argument",
      `task "${taskName}": rateLimitKey ${spec} gave ${got}; a key must be a non-empty string (at most ${MAX_KEY_LENGTH} characters) or a finite number`,
    );
  }
  return key;
}

/**
 * The bucket a delivery takes its token from: one per task name, or per group, and per
 * key when keyed. Parts are URI-encoded so no task, group or key can name another's bucket.
 * Throws (`invalid_argument`) when the key cannot be derived.
 */
export function rateLimitBucket(envelope: Envelope, limit: ResolvedRateLimit): string {
  const base =
    limit.group === undefined
      ? `rate:${encodeURIComponent(envelope.name)}`
      : `rate-group:${encodeURIComponent(limit.group)}`;
  return limit.key ? `${base}:${encodeURIComponent(limit.key(envelope))}` : base;
}

/**
 * Refuses a task whose rate-limit group is already declared with another rate by a task
 * registered before it: a group has one rate. Called by the registry for each new task.
 */
export function checkGroupRate(
  taskName: string,
  limit: ResolvedRateLimit | undefined,
  registered: Iterable<{ name: string; limit?: ResolvedRateLimit }>,
): void {
  if (limit?.group === undefined) return;
  for (const other of registered) {
    const theirs = other.limit;
    if (other.name === taskName || theirs?.group !== limit.group) continue;
    if (theirs.tokens / theirs.intervalMs !== limit.tokens / limit.intervalMs) {
      throw new StemError(
        "invalid_task_options",
        `tasks "${other.name}" and "${taskName}" share rateLimitGroup "${limit.group}" with different rates (${formatRateLimit(theirs)} and ${formatRateLimit(limit)}); every task in a group declares the group's one rate`,
      );
    }
  }
}
