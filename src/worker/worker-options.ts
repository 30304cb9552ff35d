/** What a Worker is built with, and what it reports. */
import type {
  Broker,
  ConcurrencySlots,
  ControlBus,
  LockStore,
  RateLimiter,
  ResultBackend,
  RevokeStore,
  TaskEventBus,
} from "../adapters/contracts.ts";
import type { Clock } from "../core/clock.ts";
import type { DurationInput } from "../core/duration.ts";
import type { Middleware } from "../core/middleware.ts";
import type { TaskRegistry } from "../core/registry.ts";
import type { RetryStrategy } from "../core/retry.ts";
import type { Stem } from "../core/stem.ts";
import type { AnyTaskHandler } from "../core/task.ts";
import type { AutoscaleOptions } from "./autoscale.ts";
import type { EnvelopeVerifier, SettledHook } from "./task-runner.ts";

export type ShutdownMode = "warm" | "hard";

export interface WorkerOptions {
  broker: Broker;
  backend: ResultBackend;
  tasks: AnyTaskHandler[] | TaskRegistry;
  /** Queues to consume, in order of preference. Default: the default queue. */
  queues?: string[];
  /** Tasks run at once. Default 10. */
  concurrency?: number;
  /**
   * Deliveries held at once (running plus waiting for a slot; a task whose handler has
   * settled stops counting while its outcome is stored). Default: concurrency.
   */
  prefetch?: number;
  /** Grow and shrink concurrency with the backlog. */
  autoscale?: AutoscaleOptions;
  /**
   * `inline` (default) runs handlers on this event loop; `thread` in Bun Worker threads.
   * Only `thread` can kill a handler (hard time limit, terminating revoke): an inline one
   * is only signalled through `ctx.signal` and keeps its slot until it returns.
   */
  isolation?: "inline" | "thread";
  /** Module the handler threads import (required for thread isolation). */
  tasksModule?: string;
  /** Replace a handler thread after this many tasks. */
  maxTasksPerThread?: number;
  /** Retry delays for tasks without their own backoff. Default exponential with jitter. */
  retryStrategy?: RetryStrategy;
  /** Lease for tasks without their own visibility timeout. Default 30 s. */
  visibilityTimeout?: DurationInput;
  /**
   * Deliveries allowed for tasks without their own `maxDeliveries`; a delivery past it
   * is dead-lettered without running. Default 3 × (the task's maxRetries + 1).
   */
  maxDeliveries?: number;
  rateLimiter?: RateLimiter;
  /**
   * Where global concurrency slots are kept (tasks with `globalConcurrency`, queues in
   * `queueGlobalConcurrency`); without it those limits are not enforced.
   */
  concurrencySlots?: ConcurrencySlots;
  /**
   * Queue name → the most tasks of that queue running at once across every worker on
   * the store. Give every worker that consumes the queue the same limit.
   */
  queueGlobalConcurrency?: Record<string, number>;
  revokeStore?: RevokeStore;
  lockStore?: LockStore;
  controlBus?: ControlBus;
  /**
   * Where the worker announces task events (started, progress, retried, succeeded, ...),
   * batched with its status writes; usually the result backend's store's `taskEvents()`.
   */
  events?: TaskEventBus;
  /** Producer for tasks enqueued from handlers (ctx.enqueue). Default: one on the same stores. */
  stem?: Stem;
  hostname?: string;
  workerId?: string;
  /**
   * Default 10 s. A heartbeat is also written soon after the in-flight count changes, and
   * removed when the worker stops; three missed intervals mark the worker `lost`.
   */
  heartbeatInterval?: DurationInput;
  /**
   * Dead letters older than this are deleted by the workers' housekeeping (one worker at
   * a time when there is a lock store). Default 30 days (STEM_DEAD_LETTER_RETENTION for
   * clients); 0 keeps them forever.
   */
  deadLetterRetention?: DurationInput;
  /**
   * Run retention sweeps (dead letters, expired revocations, expired heartbeats) every
   * minute. Default true.
   */
  housekeeping?: boolean;
  /** How long a warm shutdown waits for running tasks before going hard. Default 30 s. */
  shutdownTimeout?: DurationInput;
  /** Handle SIGINT/SIGTERM: first is a warm shutdown, second forces it. Default false. */
  installSignalHandlers?: boolean;
  verify?: EnvelopeVerifier;
  /** Hooks run when a task settles, before its ack (canvas). */
  onSettled?: SettledHook[];
  /**
   * Middleware whose `execute` wraps every handler, in order. Default: the producer's
   * (`stem.middleware`), so `client.use` reaches the client's workers.
   */
  middleware?: Middleware[];
  clock?: Clock;
}

/** Counters a worker reports in heartbeats and `stem worker stats`. */
export interface WorkerStats {
  workerId: string;
  host: string;
  pid: number;
  queues: string[];
  pausedQueues: string[];
  concurrency: number;
  prefetch: number;
  inflight: number;
  processed: number;
  failed: number;
  startedAt: number;
  active: {
    id: string;
    name: string;
    queue: string;
    attempt: number;
    startedAt: number;
    runtimeMs: number;
  }[];
}
