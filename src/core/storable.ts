/**
 * What every result backend can store: JSON that Postgres `jsonb` accepts too. One check,
 * used by every backend (so the in-memory one refuses what the real ones refuse) and by
 * the worker on each outcome before it joins a batched write (so one bad result fails
 * its own task, not the batch).
 */

import { StemError } from "./errors.ts";
import type { TaskStatus } from "./states.ts";

/** A value a result backend cannot store; the message names the field and the path. */
export class UnstorableValueError extends StemError {
  constructor(message: string) {
    super("invalid_argument", message);
    this.name = "UnstorableValueError";
  }
}

function pathOf(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/**
 * Why `value` cannot be stored, e.g. `BigInt at $.total`, `circular reference at $.a.b`,
 * `NUL character (\u0000) in a string at $.name`; null when it can. Follows JSON's
 * rules: `toJSON` is honoured, and what JSON.stringify leaves out (undefined,
 * functions, symbols) is not an error.
 */
export function unstorableReason(value: unknown): string | null {
  // Fast path (native, no per-key work): JSON that serialises without an error and holds
  // no escaped NUL is storable. Anything else is walked to find and name the problem.
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return walkForReason(value);
  }
  return text?.includes("\\u0000") ? walkForReason(value) : null;
}

/** `unstorableReason` the slow way: walks the value, keeping the path for the message. */
function walkForReason(value: unknown): string | null {
  const open: object[] = [];
  const visit = (v: unknown, path: string): string | null => {
    if (typeof v === "bigint") return `BigInt at ${path}`;
    if (typeof v === "string") {
      return v.includes("\u0000") ? `NUL character (\\u0000) in a string at ${path}` : null;
    }
    if (typeof v !== "object" || v === null) return null;
    const json = (v as { toJSON?: unknown }).toJSON;
    if (typeof json === "function") return visit(json.call(v), path);
    if (open.includes(v)) return `circular reference at ${path}`;
    open.push(v);
    try {
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const why = visit(v[i], pathOf(path, i));
          if (why) return why;
        }
        return null;
      }
      for (const [key, item] of Object.entries(v)) {
        if (key.includes("\u0000")) return `NUL character (\\u0000) in a key at ${path}`;
        const why = visit(item, pathOf(path, key));
        if (why) return why;
      }
      return null;
    } finally {
      open.pop();
    }
  };
  return visit(value, "$");
}

/** Throws UnstorableValueError (`<what> is not JSON: <why>`) when `value` cannot be stored. */
export function checkStorable(value: unknown, what: string): void {
  const why = unstorableReason(value);
  if (why) throw new UnstorableValueError(`${what} is not JSON: ${why}`);
}

/**
 * Checks a task status before it is stored, part by part, so the error names the part a
 * handler supplied: `result`, `progress data`, `error`, `meta`, then the rest.
 */
export function checkStatusStorable(status: TaskStatus): void {
  if (passed.has(status)) return;
  const { result, progress, error, meta, ...rest } = status;
  checkStorable(result, "result");
  checkStorable(progress?.data, "progress data");
  checkStorable(error, "error");
  checkStorable(meta, "meta");
  checkStorable(rest, "status");
  passed.add(status);
}

/**
 * Status objects already checked: the worker checks an outcome, its batch writer and then
 * the backend see the same object, which is walked once. (Statuses are built whole and
 * not changed afterwards.)
 */
const passed = new WeakSet<TaskStatus>();

/**
 * What every result backend runs before writing: throws UnstorableValueError naming the
 * task and the problem, before anything is written, when any status cannot be stored.
 */
export function checkStatusesStorable(statuses: TaskStatus[]): void {
  for (const status of statuses) {
    try {
      checkStatusStorable(status);
    } catch (error) {
      throw new UnstorableValueError(`task ${status.id}: ${(error as Error).message}`);
    }
  }
}
