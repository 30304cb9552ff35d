import { parseDuration } from "./duration.ts";
import type { EnqueueOptions } from "./enqueue-options.ts";
import { StemError } from "./errors.ts";
import type { ResolvedTaskOptions } from "./task.ts";

/** How long a unique task's lock lasts when neither the call nor the task says. */
export const DEFAULT_UNIQUE_TTL_MS = 5 * 60_000;

/**
 * Whether one enqueue is unique, and how: the call's own `unique` wins (so a producer that
 * does not register the task can still deduplicate), else the task's options.
 */
export function uniquenessOf(
  name: string,
  options: EnqueueOptions | undefined,
  task: ResolvedTaskOptions | undefined,
): { ttlMs: number; key?: string } | null {
  const call = options?.unique;
  if (call === false) return null;
  if (call === undefined && !task?.unique) return null;
  const given = typeof call === "object" ? call : {};
  if (typeof call === "object" && (call === null || Array.isArray(call))) {
    throw new StemError("invalid_argument", `unique must be true, false or { key, ttl }`);
  }
  if (given.key !== undefined && (typeof given.key !== "string" || given.key === "")) {
    throw new StemError("invalid_argument", `unique.key of "${name}" must be a non-empty string`);
  }
  const ttlMs =
    given.ttl !== undefined
      ? parseDuration(given.ttl, "unique.ttl")
      : (task?.uniqueForMs ?? task?.visibilityTimeoutMs ?? DEFAULT_UNIQUE_TTL_MS);
  return { ttlMs, key: given.key };
}
