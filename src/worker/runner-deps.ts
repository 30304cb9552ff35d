/** What a TaskRunner works with: its dependencies, and the deliveries it holds. */
import type {
  Broker,
  Delivery,
  LockStore,
  RateLimiter,
  ResultBackend,
} from "../adapters/contracts.ts";
import type { Clock } from "../core/clock.ts";
import type { TaskAbort } from "../core/context.ts";
import type { Envelope } from "../core/envelope.ts";
import type { Middleware } from "../core/middleware.ts";
import type { RegisteredTask, TaskRegistry } from "../core/registry.ts";
import type { RetryStrategy } from "../core/retry.ts";
import type { TaskStatus } from "../core/states.ts";
import type { Stem } from "../core/stem.ts";
import type { Completions } from "./completions.ts";
import type { Executor } from "./executor.ts";
import type { Revocations } from "./revocations.ts";

/** Checks an envelope before it runs (payload signatures); a reason means "dead-letter it". */
export type EnvelopeVerifier = (envelope: Envelope) => Promise<string | null> | string | null;

/**
 * Called with a task's final status (succeeded, failed or revoked) before it is stored and
 * acked (canvas: group and chain bookkeeping, task callbacks). A hook may add keys to
 * `status.meta` (the callbacks it started); the status is stored as the hooks leave it.
 * Not called for messages dead-lettered before checks passed (unknown task, bad
 * signature): their meta is not trusted.
 */
export type SettledHook = (envelope: Envelope, status: TaskStatus) => Promise<void>;

export interface RunnerDeps {
  workerId: string;
  broker: Broker;
  /** Read for the last attempt's error when a task is dead-lettered for its deliveries. */
  backend: ResultBackend;
  registry: TaskRegistry;
  completions: Completions;
  executor: Executor;
  stem: Stem;
  clock: Clock;
  retryStrategy: RetryStrategy;
  revocations: Revocations;
  rateLimiter?: RateLimiter;
  lockStore?: LockStore;
  leaseMs: number;
  /** Delivery limit for tasks without their own (default: see `deliveryLimit`). */
  maxDeliveries?: number;
  verify?: EnvelopeVerifier;
  onSettled: SettledHook[];
  /** Their `execute` runs around every handler, in order. */
  middleware: readonly Middleware[];
}

/** A delivery the worker holds: waiting for a slot, or running. */
export interface HeldTask {
  delivery: Delivery;
  /**
   * When the lease runs out, on the worker's clock (never compared with the broker's
   * `leaseExpiresAt`, which is on the server's clock for Redis and Postgres). Set from
   * the moment the lease was asked for, so it errs early.
   */
  leaseUntil: number;
  task?: RegisteredTask;
  /** When the worker took the delivery in (before it waited for a slot). */
  admittedAt?: number;
  startedAt?: number;
  /** Set while running: stops the handler for the given reason. */
  interrupt?: (abort: TaskAbort) => void;
  /** The lease is gone (extension failed): the result must not be written or acked. */
  lost?: boolean;
  /** Being handed back to the broker (shutdown); set once. */
  returning?: Promise<void>;
  /**
   * The attempt has ended (settled, or a hard limit, revoke or shutdown while the handler
   * may still run): its outcome is decided, so later progress and results are dropped.
   */
  ended?: boolean;
  /**
   * Called once the handler has settled, before its outcome is stored and acked: the
   * worker gives its concurrency slot to the next task while the outcome is written.
   */
  handlerSettled?: () => void;
}
