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

/** What is wrong, and the keys from the problem up to the value checked (innermost first). */
interface Problem {
  what: string;
  keys: (string | number)[];
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
    return describeProblem(value);
  }
  return text?.includes("\\u0000") ? describeProblem(value) : null;
}

/** `unstorableReason` the slow way: walks the value, and names the problem and its path. */
function describeProblem(value: unknown): string | null {
  const problem = findProblem(value, []);
  if (!problem) return null;
  let path = "$";
  for (let i = problem.keys.length - 1; i >= 0; i--) path = pathOf(path, problem.keys[i]!);
  return `${problem.what} at ${path}`;
}

function within(problem: Problem, key: string | number): Problem {
  problem.keys.push(key);
  return problem;
}

/**
 * The walk behind unstorableReason. It runs on every status a worker stores, so the
 * path is only put together once a problem is found, on the way back up.
 */
function findProblem(v: unknown, open: object[]): Problem | null {
  if (typeof v === "string")
    return v.includes("\u0000") ? { what: "NUL character (\\u0000) in a string", keys: [] } : null;
  if (typeof v === "bigint") return { what: "BigInt", keys: [] };
  if (typeof v !== "object" || v === null) return null;
  const json = (v as { toJSON?: unknown }).toJSON;
  if (typeof json === "function") return findProblem(json.call(v), open);
  if (open.includes(v)) return { what: "circular reference", keys: [] };
  open.push(v);
  try {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const problem = findProblem(v[i], open);
        if (problem) return within(problem, i);
      }
      return null;
    }
    for (const key of Object.keys(v)) {
      if (key.includes("\u0000")) return { what: "NUL character (\\u0000) in a key", keys: [] };
      const problem = findProblem((v as Record<string, unknown>)[key], open);
      if (problem) return within(problem, key);
    }
    return null;
  } finally {
    open.pop();
  }
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
  // One native pass over the whole status; the part-by-part checks only run to name a problem.
  if (unstorableReason(status) !== null) {
    checkStorable(status.result, "result");
    checkStorable(status.progress?.data, "progress data");
    checkStorable(status.error, "error");
    checkStorable(status.meta, "meta");
    for (const key of Object.keys(status)) {
      if (handlerParts.has(key)) continue;
      const why = unstorableReason((status as unknown as Record<string, unknown>)[key]);
      if (why) throw new UnstorableValueError(`status is not JSON: ${why.replace("$", `$.${key}`)}`);
    }
  }
  passed.add(status);
}

/** The parts of a status a handler supplies, checked first so errors name them. */
const handlerParts = new Set(["result", "progress", "error", "meta"]);

/**
 * Marks a status made only of checked statuses' parts (a later status with an earlier
 * one's timeline entries) as checked too, when every one of `parts` was.
 */
export function markMergedStorable(merged: TaskStatus, parts: readonly TaskStatus[]): void {
  if (parts.every((part) => passed.has(part))) passed.add(merged);
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
