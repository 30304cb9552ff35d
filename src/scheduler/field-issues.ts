/**
 * Validation problems found in schedule specs and schedule files, and how they are
 * collected and reported. A problem names the field it is about by a path from the
 * value being checked (`["every"]`, `["schedule", "hours"]`), so a schedule-file reader
 * can map it to a line.
 */
import { StemError } from "../core/errors.ts";

/** A path into a checked value: object keys and list indexes. */
export type FieldPath = readonly (string | number)[];

/** One problem with one field. `message` reads on its own: `"5x" is not a duration`. */
export interface FieldIssue {
  path: FieldPath;
  message: string;
}

/**
 * Thrown by value checkers to report a problem with the value they were given. A
 * StemError("invalid_argument") whose message describes the value but not which field
 * held it; validation adds that.
 */
export class FieldProblem extends StemError {
  constructor(message: string) {
    super("invalid_argument", message);
    this.name = "FieldProblem";
  }
}

/**
 * Collects issues while a value is checked. `at(path, fn)` runs one check and records
 * its FieldProblem (any other error propagates: it is a bug, not bad input).
 */
export class IssueList {
  readonly issues: FieldIssue[] = [];

  add(path: FieldPath, message: string): void {
    this.issues.push({ path, message });
  }

  /** Runs `check`; on a FieldProblem records it under `path` and returns undefined. */
  at<T>(path: FieldPath, check: () => T): T | undefined {
    try {
      return check();
    } catch (error) {
      if (error instanceof FieldProblem) {
        this.add(path, error.message);
        return undefined;
      }
      throw error;
    }
  }

  get ok(): boolean {
    return this.issues.length === 0;
  }
}

/** `every`, `schedule.hours`, `args` — the path as users name the field; list indexes as `[2]`. */
export function fieldName(path: FieldPath): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${part}` : part;
  }
  return out;
}

/** `schedule "cleanup": field "every": "5x" is not a duration`. */
export function describeIssue(entryId: string, issue: FieldIssue): string {
  const field = fieldName(issue.path);
  return field
    ? `schedule "${entryId}": field "${field}": ${issue.message}`
    : `schedule "${entryId}": ${issue.message}`;
}

/** Throws one StemError("invalid_argument") listing every issue, or returns when there is none. */
export function throwIssues(entryId: string, issues: readonly FieldIssue[]): void {
  if (issues.length === 0) return;
  throw new StemError("invalid_argument", issues.map((i) => describeIssue(entryId, i)).join("; "));
}

/**
 * Runs a check outside of a validation pass (on a spec assumed valid, e.g. read from a
 * store) and turns its FieldProblem into StemError("invalid_argument") naming `what`.
 */
export function checked<T>(what: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof FieldProblem) {
      throw new StemError("invalid_argument", `${what}: ${error.message}`);
    }
    throw error;
  }
}

/** A readable rendering of a user's value for messages: strings quoted, others as JSON. */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "undefined";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  try {
    const text = JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return String(value);
  }
}
