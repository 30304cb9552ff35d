import type { TimelineEntry } from "./timeline.ts";

/** Where a task is in its life. */
export type TaskState =
  | "pending"
  | "queued"
  | "running"
  | "succeeded"
  | "failed"
  | "retrying"
  | "revoked"
  | "dead";

/** States after which nothing more happens to a task. */
export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set([
  "succeeded",
  "failed",
  "revoked",
  "dead",
]);

export function isTerminal(state: TaskState): boolean {
  return TERMINAL_STATES.has(state);
}

/**
 * Whether a task's stored status proves it was published. A status past `queued` (running,
 * retrying, finished) does. A `queued` one does not: for a caller-chosen id the producer
 * writes it just before publishing, so a producer that failed or died in between leaves it
 * behind without a task. Beat and canvas continuations publish such a task again —
 * harmless when it does exist, as the broker refuses an id it holds, and a delivered task
 * has its final status written before it is acked.
 */
export function wasPublished(status: TaskStatus | null): boolean {
  return status !== null && hasStarted(status.state);
}

/** A task in `state` has been delivered to a worker at least once (it is past `queued`). */
export function hasStarted(state: TaskState): boolean {
  return state !== "queued" && state !== "pending";
}

/** A task failure as stored: the error's type, message and stack. */
export interface TaskError {
  type: string;
  message: string;
  stack?: string;
  retryable?: boolean;
  meta?: Record<string, unknown>;
}

/** What the result backend keeps about one task. Times are epoch milliseconds. */
export interface TaskStatus {
  id: string;
  name: string;
  queue: string;
  state: TaskState;
  /** The arguments the task was enqueued with (absent on canvas records). */
  args?: Record<string, unknown>;
  result?: unknown;
  error?: TaskError;
  /** Attempts so far: 0 until a worker runs the task, then the number of the latest (from 1). */
  attempt: number;
  meta: Record<string, unknown>;
  /** Last progress report from the handler (`ctx.progress`). */
  progress?: { percent: number; data?: unknown; at: number };
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** Worker that last touched the task. */
  workerId?: string;
  /**
   * Written: the history entries this write adds, which the backend appends to those it
   * keeps (see core/timeline.ts). Read: the whole kept history, oldest first.
   */
  timeline?: TimelineEntry[];
}

/** Builds a TaskError from anything a handler threw. */
export function taskErrorFrom(error: unknown, retryable = false): TaskError {
  if (error instanceof Error) {
    return {
      type: error.name || error.constructor?.name || "Error",
      message: error.message,
      stack: error.stack,
      retryable,
    };
  }
  return { type: typeof error, message: String(error), retryable };
}
