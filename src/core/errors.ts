/**
 * The one error family Stem throws. Each error has a stable `code` that the CLI
 * maps to an exit code and a one-line message; callers can switch on it.
 */
export type StemErrorCode =
  | "invalid_argument"
  | "invalid_task_options"
  | "unknown_task"
  | "not_found"
  | "timeout"
  | "conflict"
  | "duplicate_task"
  | "unsupported_url"
  | "store_unavailable"
  | "store_corrupt"
  | "schema_too_new"
  | "task_failed"
  | "signature_invalid"
  | "closed"
  | "middleware_failed";

/** Base class of every error Stem raises on purpose. */
export class StemError extends Error {
  readonly code: StemErrorCode;
  constructor(code: StemErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StemError";
    this.code = code;
  }
}

/** Raised by `ScheduleStore.upsert` when the caller's version is stale. */
export class VersionConflictError extends StemError {
  constructor(
    readonly id: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(
      "conflict",
      `schedule entry "${id}" changed concurrently (expected version ${expectedVersion}, found ${actualVersion})`,
    );
    this.name = "VersionConflictError";
  }
}

/**
 * Raised when a store opened with `existingOnly` does not exist yet (no SQLite file, no
 * Postgres schema): nothing was created. `location` is the file path or schema and URL.
 */
export class StoreMissingError extends StemError {
  constructor(readonly location: string) {
    super("not_found", `no Stem store exists at ${location}`);
    this.name = "StoreMissingError";
  }
}

/** Raised when waiting for a task or a result runs past its timeout. */
export class TimeoutError extends StemError {
  constructor(message: string) {
    super("timeout", message);
    this.name = "TimeoutError";
  }
}

/** StemError codes of store failures that may pass (a blip, a failover, a reconnect). */
const TRANSIENT_CODES: ReadonlySet<StemErrorCode> = new Set([
  "store_unavailable",
  "closed",
  "timeout",
]);

/**
 * Whether trying the same call again may succeed: a store failure that may pass, or an
 * error Stem did not raise on purpose (a dropped connection). Bad input (an unknown task,
 * invalid options) is not.
 */
export function isTransientError(error: unknown): boolean {
  return !(error instanceof StemError) || TRANSIENT_CODES.has(error.code);
}

/** Turns any thrown value into an Error without losing its message. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === "string" ? value : JSON.stringify(value));
}

/**
 * A workflow store refused a write fenced with a claim that no longer holds the run:
 * another execution has claimed it since. The execution that made the write no longer
 * owns the run and must stop without writing anything else.
 */
export class WorkflowFenceError extends StemError {
  constructor(
    readonly runId: string,
    readonly fence: number,
    readonly current: number | null,
  ) {
    super(
      "conflict",
      `workflow run ${runId} was claimed by another execution${current === null ? "" : ` (claim ${current})`}; the write of claim ${fence} was refused`,
    );
    this.name = "WorkflowFenceError";
  }
}
