import type { DurationInput } from "./duration.ts";
import type { EnqueueOptions } from "./enqueue-options.ts";

/** What a running handler can see and do. */
export interface TaskContext<Args = Record<string, unknown>> {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  /** Which attempt this is: 1 on the first run, then 2, 3, … on retries and redeliveries. */
  readonly attempt: number;
  readonly args: Args;
  readonly headers: Readonly<Record<string, string>>;
  readonly meta: Readonly<Record<string, unknown>>;
  /** Id of the worker running the task. */
  readonly workerId: string;
  /**
   * Fires when the task should stop: soft time limit reached, revoked with terminate,
   * the worker lost the task's lease, or a hard shutdown. `signal.reason` says which.
   */
  readonly signal: AbortSignal;
  /** Result of the previous task in a chain, if any. */
  readonly previousResult?: unknown;
  /** Extends the task's lease so a long handler is not redelivered; also refreshes liveness. */
  heartbeat(): Promise<void>;
  /** Extends the lease by `by` (default: the task's visibility timeout). */
  extendLease(by?: DurationInput): Promise<boolean>;
  /** Stores progress (0–100) with optional data in the result backend. */
  progress(percent: number, data?: unknown): Promise<void>;
  /** Ends this attempt and schedules a retry after `countdown`; counts against maxRetries. */
  retry(options?: { countdown?: DurationInput; error?: unknown }): never;
  /** Enqueues a follow-up task carrying this task's lineage (parent and root ids). */
  enqueue(name: string, args?: Record<string, unknown>, options?: EnqueueOptions): Promise<string>;
}

/** Thrown by `ctx.retry()`; the worker turns it into a scheduled retry. */
export class RetryRequest extends Error {
  constructor(
    readonly countdownMs: number | undefined,
    readonly reason?: unknown,
  ) {
    super("task requested a retry");
    this.name = "RetryRequest";
  }
}

/** Reasons a task's AbortSignal fires, available as `signal.reason`. */
export class TaskAbort extends Error {
  constructor(
    readonly kind: "soft-time-limit" | "hard-time-limit" | "revoked" | "lease-lost" | "shutdown",
    message: string,
  ) {
    super(message);
    this.name = "TaskAbort";
  }
}
