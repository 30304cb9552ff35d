import type { DurationInput } from "./duration.ts";

/** Per-enqueue settings; each overrides the task's own option of the same name. */
export interface EnqueueOptions {
  /** Explicit task id (default: a new UUID v7). Publishing an id already queued is refused. */
  taskId?: string;
  queue?: string;
  /** 0–9, higher first. */
  priority?: number;
  /** Run no sooner than this long from now. */
  delay?: DurationInput;
  /** Run no sooner than this time (Date or epoch ms); wins over `delay`. */
  eta?: Date | number;
  /** Drop the task (state revoked, reason expired) if it has not started by then. */
  expires?: Date | number | DurationInput;
  headers?: Record<string, string>;
  meta?: Record<string, unknown>;
  maxRetries?: number;
  visibilityTimeout?: DurationInput;
  /** Keep no status or result for this task (see `TaskOptions.ignoreResult`); wins over the task's. */
  ignoreResult?: boolean;
  /** Overrides the task's `softTimeLimit` for this call. */
  softTimeLimit?: DurationInput;
  /** Overrides the task's `hardTimeLimit` for this call. */
  hardTimeLimit?: DurationInput;
  /** Overrides the task's (and the worker's) `maxDeliveries` for this call. */
  maxDeliveries?: number;
  /**
   * Refuse a second enqueue of the same task while the first is pending (the pending one's
   * id is returned), whether or not this producer registers the task. `key` replaces the
   * default (a hash of name, queue and args); `ttl` defaults to the task's `uniqueFor`,
   * else 5 minutes. `false` turns a unique task's uniqueness off for this call.
   */
  unique?: boolean | { key?: string; ttl?: DurationInput };
  /**
   * Tasks to start once this one succeeds (Celery's `link`), each with its result as
   * `ctx.previousResult` (and in its args with `previousAs` / `mergePrevious`). Started
   * exactly once by the worker that settles this task; see `linkError` for failures.
   */
  link?: LinkedCall | LinkedCall[];
  /**
   * Tasks to start once this one fails for good (Celery's `link_error`): retries exhausted,
   * unrecoverable, or dead-lettered over its delivery limit; not on a retry, nor when it is
   * revoked or expires. Each gets `args.failure`: `{ id, name, error }`.
   */
  linkError?: LinkedCall | LinkedCall[];
}

/**
 * A callback for `link` / `linkError`: a task call (`definition.call(args)` or
 * `task(name, args)`), with its own enqueue options. By default its id is derived from the
 * linking task's (`<id>:link:0`, `<id>:link-error:0`); a `taskId` in its options wins.
 */
export interface LinkedCall {
  name: string;
  args?: Record<string, unknown>;
  options?: EnqueueOptions;
  /** Put the linking task's result into this arg (see `PreviousResultOptions`). */
  previousAs?: string;
  /** Merge the linking task's result into the args (see `PreviousResultOptions`). */
  mergePrevious?: boolean;
}
