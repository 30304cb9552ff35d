/**
 * Task lifecycle events: what producers and workers announce as tasks move through their
 * states, for `client.events()`, `stem observe events` and waits that should not poll.
 *
 * Events are best effort: delivered at most once to subscribers live when they are sent,
 * never replayed, and may be missed (a dropped connection, a slow subscriber). The result
 * backend stays the record of truth; an event says "look now".
 */

/** Every kind of task event, in the order a task usually meets them. */
export const TASK_EVENT_STATES = [
  "queued",
  "started",
  "progress",
  "retried",
  "succeeded",
  "failed",
  "dead-lettered",
  "revoked",
] as const;

/**
 * What happened to a task:
 * - `queued`: published by a producer (or handed back to its queue by a stopping worker);
 * - `started`: a worker began an attempt;
 * - `progress`: the handler reported progress (`ctx.progress`);
 * - `retried`: an attempt failed and another is scheduled (`error`, `nextRetryAt`);
 * - `succeeded`: the task finished with a result (read it from the result backend);
 * - `failed`: the task failed for good (`error`); it is dead-lettered too;
 * - `dead-lettered`: the task went to its queue's dead letters (after `failed`, or without
 *   running: unknown task, bad signature — `reason`);
 * - `revoked`: the task was revoked or expired (`reason`).
 */
export type TaskEventState = (typeof TASK_EVENT_STATES)[number];

/** States after which a task has no more events (but a replayed dead letter starts anew). */
export const FINAL_EVENT_STATES: ReadonlySet<TaskEventState> = new Set([
  "succeeded",
  "failed",
  "dead-lettered",
  "revoked",
]);

/** One task lifecycle event. Extras are kept small: long messages and data are cut. */
export interface TaskEvent {
  state: TaskEventState;
  taskId: string;
  /** The task name. */
  name: string;
  queue: string;
  /** When it happened (epoch ms, the sender's clock). */
  at: number;
  /** The attempt concerned (from 1; 0 before the task first ran). */
  attempt: number;
  /** The worker that sent it (absent for `queued` from a producer). */
  workerId?: string;
  /** `retried`, `failed`, `dead-lettered`: the error message (cut to 500 characters). */
  error?: string;
  /** `retried`: when the next attempt is due (epoch ms). */
  nextRetryAt?: number;
  /** `revoked` and `dead-lettered` before running: why. */
  reason?: string;
  /**
   * `progress`: the reported percentage and data; data whose JSON is over 1,000 bytes is
   * left out and `truncated` set.
   */
  progress?: { percent: number; data?: unknown; truncated?: true };
}

/** Which events to receive; each field narrows (all given must match). Empty = every event. */
export interface TaskEventFilter {
  /** Only events of these queues. */
  queue?: string | string[];
  /** Only events of these task names. */
  name?: string | string[];
  /** Only these states. */
  state?: TaskEventState | TaskEventState[];
  /** Only events of these task ids. */
  taskId?: string | string[];
}
