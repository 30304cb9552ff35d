import type { TaskContext } from "./context.ts";
import { type DurationInput, parseDuration } from "./duration.ts";
import { StemError } from "./errors.ts";
import { type ErrorFilter, checkErrorFilter } from "./failure-control.ts";
import {
  type RateLimitFailMode,
  type RateLimitKey,
  type ResolvedRateLimit,
  resolveRateLimit,
} from "./rate-limit.ts";
import { type RetryBackoff, type RetryStrategy, retryStrategyFrom } from "./retry.ts";

/** Per-task settings. Durations accept ms or strings like `30s`. */
export interface TaskOptions {
  /** Queue the task goes to unless the enqueue call says otherwise. */
  queue?: string;
  /** Retries after the first failure before the task is dead-lettered. Default 0. */
  maxRetries?: number;
  /** 0–9, higher runs first. Default 0. */
  priority?: number;
  /** `"10/s"`, `"100/m"`, `"5/h"`: shared by every worker on the same store. */
  rateLimit?: string;
  /**
   * One `rateLimit` bucket per key instead of one for the task, e.g. one `10/s` per tenant:
   * `"args.tenant"` (a dotted path into the args), `"headers.x-tenant"` (an enqueue header)
   * or a function `(args, headers) => key`. A delivery whose key is missing is dead-lettered
   * (reason `rate-limit-key`). Idle buckets expire once full again.
   */
  rateLimitKey?: RateLimitKey;
  /**
   * Tasks naming the same group share one bucket (per key when keyed), e.g. every task that
   * sends mail through one SMTP server. Each of them declares the group's one `rateLimit`;
   * two tasks registered with one group and different rates are an error.
   */
  rateLimitGroup?: string;
  /**
   * When the limiter store cannot be reached: `"closed"` (default) sends the task back to
   * the broker until the store answers (no attempt or delivery spent), `"open"` runs it
   * without its limit. Either way the worker logs once per outage.
   */
  rateLimitFailMode?: RateLimitFailMode;
  /** Fires the context's AbortSignal when exceeded; the handler may clean up. */
  softTimeLimit?: DurationInput;
  /** Fails the attempt when exceeded; a thread-isolated handler is terminated. */
  hardTimeLimit?: DurationInput;
  /** Lease length while the task is in flight. Default: the worker's. */
  visibilityTimeout?: DurationInput;
  /**
   * Deliveries allowed before the task is dead-lettered without running (reason
   * `max-deliveries`, or `crashed` when its last delivery lost its lease): bounds a task
   * that kills or hangs its worker, which retries alone cannot. Default: the worker's
   * `maxDeliveries`, else 3 × (maxRetries + 1).
   */
  maxDeliveries?: number;
  /**
   * At most this many of this task running at once across every worker on the same store
   * (a positive integer). A task over the limit goes back to the queue, without costing
   * an attempt or a delivery, and is tried again shortly. Slots are leased like the task
   * itself (its visibility timeout), so a crashed worker's slots come back.
   */
  globalConcurrency?: number;
  /** Refuse a second enqueue of an identical task while the first is pending. */
  unique?: boolean;
  /** How long uniqueness lasts. Default: visibilityTimeout, else 5 minutes. */
  uniqueFor?: DurationInput;
  /** Delay between retries. Default: the worker's strategy (exponential with jitter). */
  retryBackoff?: RetryBackoff;
  /**
   * Keep no status and no result (Celery's `ignore_result`): nothing is written at enqueue
   * or when the task settles; it is still leased, retried and dead-lettered (the dead
   * letter carries the error). `waitForTask` on it is refused. Applies when the producer
   * knows the task (registered with it) or the enqueue sets `ignoreResult`. Default false.
   */
  ignoreResult?: boolean;
  /**
   * Retry only errors matching this (Celery's `autoretry_for`): error classes or a
   * predicate. Any other error fails the task at once (dead letter reason `not-retryable`).
   * In thread isolation a class matches by name (the error's class or an ancestor's).
   * Stem's own failures (hard time limit, a crashed thread) follow `maxRetries` only.
   */
  retryOn?: ErrorFilter;
  /** Never retry errors matching this (checked before `retryOn`). */
  dontRetryOn?: ErrorFilter;
}

/** TaskOptions with durations in ms and the rate limit parsed, checked once at definition. */
export interface ResolvedTaskOptions {
  queue?: string;
  maxRetries: number;
  priority?: number;
  rateLimit?: ResolvedRateLimit;
  softTimeLimitMs?: number;
  hardTimeLimitMs?: number;
  visibilityTimeoutMs?: number;
  maxDeliveries?: number;
  globalConcurrency?: number;
  unique: boolean;
  uniqueForMs?: number;
  retryStrategy?: RetryStrategy;
  ignoreResult: boolean;
  retryOn?: ErrorFilter;
  dontRetryOn?: ErrorFilter;
}

/** Descriptive metadata shown by `stem tasks ls`. */
export interface TaskMetadata {
  description?: string;
  tags?: string[];
  idempotent?: boolean;
}

/** A class-style task: `class EmailTask implements TaskHandler<{ to: string }, string>`. */
export interface TaskHandler<Args = Record<string, unknown>, Result = unknown> {
  readonly name: string;
  readonly options?: TaskOptions;
  readonly metadata?: TaskMetadata;
  run(ctx: TaskContext<Args>, args: Args): Promise<Result> | Result;
}

/** Anything registered as a task. */
// biome-ignore lint/suspicious/noExplicitAny: handlers of any argument and result types share one registry
export type AnyTaskHandler = TaskHandler<any, any>;

/** Validates options and resolves durations; errors name the task and the field. */
export function resolveTaskOptions(name: string, options: TaskOptions = {}): ResolvedTaskOptions {
  const field = (f: string) => `task "${name}": ${f}`;
  const ms = (value: DurationInput | undefined, f: string) => {
    if (value === undefined) return undefined;
    try {
      return parseDuration(value, field(f));
    } catch (error) {
      throw new StemError("invalid_task_options", (error as Error).message);
    }
  };
  const maxRetries = options.maxRetries ?? 0;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) {
    throw new StemError(
      "invalid_task_options",
      `${field("maxRetries")} must be a non-negative integer, got ${maxRetries}`,
    );
  }
  for (const name of ["maxDeliveries", "globalConcurrency"] as const) {
    const value = options[name];
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw new StemError(
        "invalid_task_options",
        `${field(name)} must be a positive integer, got ${value}`,
      );
    }
  }
  if (
    options.priority !== undefined &&
    (!Number.isInteger(options.priority) || options.priority < 0 || options.priority > 9)
  ) {
    throw new StemError(
      "invalid_task_options",
      `${field("priority")} must be an integer from 0 to 9, got ${options.priority}`,
    );
  }
  if (
    options.queue !== undefined &&
    (typeof options.queue !== "string" || options.queue.trim() === "")
  ) {
    throw new StemError("invalid_task_options", `${field("queue")} must be a non-empty string`);
  }
  if (options.ignoreResult !== undefined && typeof options.ignoreResult !== "boolean") {
    throw new StemError("invalid_task_options", `${field("ignoreResult")} must be a boolean`);
  }
  const resolved: ResolvedTaskOptions = {
    queue: options.queue,
    maxRetries,
    priority: options.priority,
    rateLimit: resolveRateLimit(name, options),
    softTimeLimitMs: ms(options.softTimeLimit, "softTimeLimit"),
    hardTimeLimitMs: ms(options.hardTimeLimit, "hardTimeLimit"),
    visibilityTimeoutMs: ms(options.visibilityTimeout, "visibilityTimeout"),
    maxDeliveries: options.maxDeliveries,
    globalConcurrency: options.globalConcurrency,
    unique: options.unique ?? false,
    uniqueForMs: ms(options.uniqueFor, "uniqueFor"),
    retryStrategy: options.retryBackoff ? retryStrategyFrom(options.retryBackoff) : undefined,
    ignoreResult: options.ignoreResult ?? false,
    retryOn: checkErrorFilter(name, "retryOn", options.retryOn),
    dontRetryOn: checkErrorFilter(name, "dontRetryOn", options.dontRetryOn),
  };
  if (
    resolved.softTimeLimitMs !== undefined &&
    resolved.hardTimeLimitMs !== undefined &&
    resolved.softTimeLimitMs > resolved.hardTimeLimitMs
  ) {
    throw new StemError(
      "invalid_task_options",
      `${field("softTimeLimit")} must not exceed hardTimeLimit`,
    );
  }
  return resolved;
}

/** Checks a task name: non-empty, no whitespace. */
export function validateTaskName(name: unknown): string {
  if (typeof name !== "string" || name.length === 0 || /\s/.test(name)) {
    throw new StemError(
      "invalid_task_options",
      `task name must be a non-empty string without spaces, got ${JSON.stringify(name)}`,
    );
  }
  return name;
}
