import { StemError } from "./errors.ts";

/**
 * Thrown by a handler to fail its task at once: no retry, whatever `maxRetries` says; the
 * task ends `failed` and is dead-lettered with reason `unrecoverable` (BullMQ's name).
 * Recognised by name too, so it survives the copy a thread-isolated handler's error goes
 * through (and a subclass keeps working when it sets its own `name`).
 */
export class UnrecoverableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UnrecoverableError";
  }
}

/** An error class, matched by `instanceof` (by name after crossing a thread boundary). */
// biome-ignore lint/suspicious/noExplicitAny: any constructor of an error
export type ErrorClass = abstract new (...args: any[]) => Error;

/** Which errors a task retries: error classes, or a predicate over the thrown value. */
export type ErrorFilter = readonly ErrorClass[] | ((error: unknown) => boolean);

/**
 * Names of an error's class and its ancestors, as a thread-isolated handler sends them
 * along with the error so class filters can match after the copy.
 */
export const ERROR_LINEAGE = Symbol.for("stem.errorLineage");

/** The class names from `error`'s own class up to `Error`. */
export function errorLineage(error: Error): string[] {
  const names: string[] = [];
  for (let p = Object.getPrototypeOf(error); p && p !== Object.prototype; ) {
    const name = (p.constructor as { name?: string } | undefined)?.name;
    if (name) names.push(name);
    p = Object.getPrototypeOf(p);
  }
  return names;
}

function namesOf(error: unknown): string[] {
  if (!(error instanceof Error)) return [];
  const carried = (error as { [ERROR_LINEAGE]?: string[] })[ERROR_LINEAGE];
  return [error.name, ...(carried ?? errorLineage(error))];
}

/** Whether `error` is (or, after a thread boundary, was) an UnrecoverableError. */
export function isUnrecoverable(error: unknown): boolean {
  return error instanceof UnrecoverableError || namesOf(error).includes(UnrecoverableError.name);
}

function matches(filter: ErrorFilter, error: unknown): boolean {
  if (typeof filter === "function") return filter(error);
  const names = namesOf(error);
  return filter.some((c) => error instanceof c || names.includes(c.name));
}

/** Checks `retryOn` / `dontRetryOn` at definition; errors name the task and the field. */
export function checkErrorFilter(
  task: string,
  field: "retryOn" | "dontRetryOn",
  filter: unknown,
): ErrorFilter | undefined {
  if (filter === undefined) return undefined;
  const isErrorClass = (c: unknown) =>
    typeof c === "function" && (c === Error || c.prototype instanceof Error);
  // A lone class is a function too: take it for the mistake it is, not a predicate.
  if (typeof filter === "function" && !isErrorClass(filter)) return filter as ErrorFilter;
  const ok = Array.isArray(filter) && filter.every(isErrorClass);
  if (!ok) {
    throw new StemError(
      "invalid_task_options",
      `task "${task}": ${field} must be a list of Error classes or a predicate (error) => boolean`,
    );
  }
  return filter as ErrorFilter;
}

/**
 * Why an error thrown by a handler must not be retried, or `undefined` when the retry
 * budget decides: `unrecoverable` for an UnrecoverableError, `not-retryable` when the
 * task's `retryOn` does not match it or its `dontRetryOn` does. A predicate that throws
 * counts as "not retryable" (and its error is reported in the reason's message).
 */
export function retryVeto(
  error: unknown,
  filters: { retryOn?: ErrorFilter; dontRetryOn?: ErrorFilter },
): { reason: "unrecoverable" | "not-retryable"; note?: string } | undefined {
  if (isUnrecoverable(error)) return { reason: "unrecoverable" };
  try {
    if (filters.dontRetryOn && matches(filters.dontRetryOn, error)) {
      return { reason: "not-retryable", note: "matched dontRetryOn" };
    }
    if (filters.retryOn && !matches(filters.retryOn, error)) {
      return { reason: "not-retryable", note: "did not match retryOn" };
    }
  } catch (predicateError) {
    return {
      reason: "not-retryable",
      note: `the retry predicate threw: ${(predicateError as Error)?.message ?? String(predicateError)}`,
    };
  }
  return undefined;
}
