import { logger } from "../core/logger.ts";
import type {
  Broker,
  Delivery,
  LockStore,
  RateLimiter,
  ResultBackend,
} from "../adapters/contracts.ts";
import type { Clock } from "../core/clock.ts";
import { RetryRequest, TaskAbort, type TaskContext } from "../core/context.ts";
import { formatDuration } from "../core/duration.ts";
import { retryVeto } from "../core/failure-control.ts";
import { attemptNumber, type Envelope, MetaKeys } from "../core/envelope.ts";
import type { RegisteredTask, TaskRegistry } from "../core/registry.ts";
import type { RetryStrategy } from "../core/retry.ts";
import { signals } from "../core/signals.ts";
import { type TaskError, type TaskState, type TaskStatus, taskErrorFrom } from "../core/states.ts";
import type { Stem } from "../core/stem.ts";
import type { Completions } from "./completions.ts";
import { type Executor, HandlerCrashed } from "./executor.ts";
import { RateGate } from "./rate-gate.ts";
import { rateLimitBucket } from "../core/rate-limit.ts";
import type { Revocations } from "./revocations.ts";
import { taskContext } from "./task-context.ts";
import { type StatusSink, statusSinkFor } from "./status-sink.ts";
import { executeThrough } from "./execute-middleware.ts";
import type { Middleware } from "../core/middleware.ts";
import { checkStatusStorable } from "../core/storable.ts";
import { type TimelineEntry, type TimelineEvent, startEntries } from "../core/timeline.ts";
import { currentInstrumentation } from "../observability/instrumentation.ts";

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

/**
 * Deliveries allowed per attempt the retry budget gives, when neither the task nor the
 * worker sets `maxDeliveries`: each attempt may be cut off twice (a crash, a deploy, a
 * lost lease) before the task is judged to be what kills or hangs its workers.
 */
export const DELIVERIES_PER_ATTEMPT = 3;

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

type Outcome =
  | { kind: "ok"; value: unknown }
  | { kind: "error"; error: unknown }
  /**
   * `running` is set when the executor could not stop the handler (inline isolation): it
   * settles once the handler returns, which is when its slot may go to another task.
   */
  | { kind: "interrupted"; abort: TaskAbort; running?: Promise<void> };

/** Runs one delivery through the worker's pipeline, from checks to the final ack. */
export class TaskRunner {
  private readonly rateGate?: RateGate;

  constructor(private readonly deps: RunnerDeps) {
    if (deps.rateLimiter) {
      this.rateGate = new RateGate(deps.rateLimiter, deps.clock, deps.workerId);
    }
  }

  /** Where this task's statuses go (nowhere for an `ignoreResult` task). */
  private sink(envelope: Envelope): StatusSink {
    return statusSinkFor(envelope, this.deps.completions);
  }

  private status(
    envelope: Envelope,
    state: TaskState,
    fields: Partial<TaskStatus> = {},
  ): TaskStatus {
    const now = this.deps.clock.now();
    return {
      id: envelope.id,
      name: envelope.name,
      queue: envelope.queue,
      state,
      args: envelope.args,
      attempt: attemptNumber(envelope),
      meta: envelope.maxRetries === undefined ? {} : { maxRetries: envelope.maxRetries },
      createdAt: envelope.enqueuedAt,
      updatedAt: now,
      workerId: this.deps.workerId,
      ...fields,
    };
  }

  /** A timeline entry for an event this worker sees now. */
  private entry(event: TimelineEvent, fields: Partial<TimelineEntry> = {}): TimelineEntry {
    return { event, at: this.deps.clock.now(), worker: this.deps.workerId, ...fields };
  }

  /**
   * Checks a fresh delivery before it takes a slot: unknown task, bad signature, revoked,
   * expired, rate limit (no token: sent back to the broker until its turn). Returns false
   * when the delivery was settled or released here and must not run.
   */
  async admit(held: HeldTask): Promise<boolean> {
    const { delivery } = held;
    const envelope = delivery.envelope;
    held.admittedAt = this.deps.clock.now();
    const task = this.deps.registry.get(envelope.name);
    if (!task) {
      await this.deadLetter(
        delivery,
        "unknown-task",
        `no task named "${envelope.name}" is registered on this worker`,
      );
      return false;
    }
    held.task = task;
    const badSignature = await this.deps.verify?.(envelope);
    if (badSignature) {
      await this.deadLetter(delivery, "signature", badSignature);
      return false;
    }
    const revoked = this.deps.revocations.get(envelope.id);
    if (revoked) {
      await this.settleRevoked(held, revoked.reason ?? "revoked", false);
      return false;
    }
    const expiresAt = envelope.meta[MetaKeys.expiresAt];
    if (typeof expiresAt === "number" && expiresAt <= this.deps.clock.now()) {
      await this.settleRevoked(held, "expired", false);
      return false;
    }
    const limit = this.deliveryLimit(envelope, task);
    if (delivery.deliveries > limit) {
      await this.deadLetterOverLimit(held, limit);
      return false;
    }
    const rate = task.options.rateLimit;
    if (rate && this.rateGate) {
      let bucket: string;
      try {
        bucket = rateLimitBucket(envelope, rate);
      } catch (error) {
        await this.deadLetter(delivery, "rate-limit-key", (error as Error).message);
        return false;
      }
      const delayMs = await this.rateGate.admit(bucket, rate, envelope.id);
      if (delayMs > 0) {
        // No token: back to the broker until one will be free, so the task holds no
        // prefetch slot meanwhile. Not an attempt: it never ran. Its status says why
        // (`stem observe why`), written before the nack as in `handBack`.
        const dueAt = this.deps.clock.now() + delayMs;
        await this.sink(envelope).write(
          this.status(envelope, "queued", {
            attempt: envelope.attempt,
            workerId: undefined,
            timeline: [
              this.entry("rate-limited", {
                dueAt,
                reason: `${rate.tokens} per ${formatDuration(rate.intervalMs)}, bucket ${bucket}`,
              }),
            ],
          }),
        );
        await this.deps.broker.nack(delivery, { requeue: true, delayMs, countAttempt: false });
        return false;
      }
    }
    return true;
  }

  private async deadLetter(delivery: Delivery, reason: string, message: string): Promise<void> {
    const envelope = delivery.envelope;
    logger.warn(`task ${envelope.id} (${envelope.name}) dead-lettered: ${message}`);
    // Written even for an `ignoreResult` task: checks have not passed, so its meta is not trusted.
    await this.deps.completions.write(
      this.status(envelope, "dead", {
        error: { type: reason, message },
        finishedAt: this.deps.clock.now(),
        timeline: [this.entry("dead-lettered", { reason, error: message })],
      }),
    );
    await this.deps.broker.deadLetter(delivery, reason, {
      error: message,
      deliveries: delivery.deliveries,
    });
    signals.taskDeadLettered.emit({ envelope, reason, workerId: this.deps.workerId });
  }

  /** How many deliveries a task may have: its own limit, the worker's, or a multiple of its attempts. */
  private deliveryLimit(envelope: Envelope, task: RegisteredTask): number {
    const maxRetries = envelope.maxRetries ?? task.options.maxRetries;
    return (
      numberMeta(envelope, MetaKeys.maxDeliveries) ??
      task.options.maxDeliveries ??
      this.deps.maxDeliveries ??
      DELIVERIES_PER_ATTEMPT * (maxRetries + 1)
    );
  }

  /**
   * Dead-letters, without running it, a task delivered more often than its limit allows:
   * its handler kills or hangs the worker, or its outcome never gets stored. Reason
   * `crashed` when the delivery before this one lost its lease, else `max-deliveries`;
   * the last attempt's error is kept when the result backend has one.
   */
  private async deadLetterOverLimit(held: HeldTask, limit: number): Promise<void> {
    const { delivery } = held;
    const envelope = delivery.envelope;
    const reason = delivery.afterLeaseLoss ? "crashed" : "max-deliveries";
    let last: TaskError | undefined;
    try {
      last = (await this.deps.backend.get(envelope.id))?.error;
    } catch (error) {
      logger.warn(
        `task ${envelope.id}: reading its last error failed: ${(error as Error).message}`,
      );
    }
    const why = delivery.afterLeaseLoss
      ? "the last delivery's lease ran out (its worker died or hung)"
      : "no earlier delivery finished it";
    const message =
      `delivered ${delivery.deliveries} times, over the limit of ${limit}: ${why}` +
      (last ? `; last error: ${last.type}: ${last.message}` : "");
    await this.deadLetterFailure(
      held,
      { type: reason, message, stack: last?.stack, retryable: false },
      reason,
      { lastError: last?.message, lastErrorType: last?.type },
    );
  }

  private async settleRevoked(held: HeldTask, reason: string, terminated: boolean): Promise<void> {
    const envelope = held.delivery.envelope;
    const status = this.status(envelope, "revoked", {
      meta: { revokedReason: reason },
      finishedAt: this.deps.clock.now(),
      startedAt: held.startedAt,
      timeline: [this.entry(reason === "expired" ? "expired" : "revoked", { reason })],
    });
    await this.afterSettled(envelope, status);
    await this.sink(envelope).finish(status, held.delivery);
    await this.releaseUnique(envelope);
    signals.taskRevoked.emit({ envelope, workerId: this.deps.workerId, reason, terminated });
  }

  /**
   * Hands a delivery back to the broker without counting the attempt (a shutdown). A task
   * that had started gets its `queued` status back first, so it is never left `running`,
   * and the write cannot land after another worker has picked the task up. Once per task:
   * a second call waits for the first.
   */
  giveBack(held: HeldTask): Promise<void> {
    held.returning ??= this.handBack(held);
    return held.returning;
  }

  private async handBack(held: HeldTask): Promise<void> {
    const envelope = held.delivery.envelope;
    if (held.startedAt !== undefined) {
      await this.sink(envelope).write(
        this.status(envelope, "queued", {
          attempt: envelope.attempt,
          workerId: undefined,
          timeline: [this.entry("returned", { reason: "the worker is shutting down" })],
        }),
      );
    }
    await this.deps.broker.nack(held.delivery, { countAttempt: false });
  }

  /** Runs an admitted task to its final state (inside its trace span when telemetry is on). */
  run(held: HeldTask): Promise<TaskState | "lost" | "shutdown"> {
    const instrumentation = currentInstrumentation();
    if (!instrumentation) return this.runTask(held);
    return instrumentation.execute(held.delivery.envelope, this.deps.workerId, () =>
      this.runTask(held),
    );
  }

  private async runTask(held: HeldTask): Promise<TaskState | "lost" | "shutdown"> {
    const { delivery } = held;
    const envelope = delivery.envelope;
    const task = held.task!;
    const started = this.deps.clock.now();
    held.startedAt = started;
    const base = { envelope, workerId: this.deps.workerId };
    const timeline = startEntries(envelope, delivery, this.deps.workerId, {
      deliveredAt: held.admittedAt ?? started,
      now: started,
      leaseMs: this.leaseMsOf(envelope, task),
    });
    this.sink(envelope).note(this.status(envelope, "running", { startedAt: started, timeline }));
    signals.taskReceived.emit(base);
    signals.taskPrerun.emit(base);

    const outcome = await this.execute(held, task);
    held.ended = true;
    const running = outcome.kind === "interrupted" ? outcome.running : undefined;
    if (!running) {
      held.handlerSettled?.();
      return this.record(held, outcome, started);
    }
    // An inline handler that cannot be stopped keeps its slot until it returns, so the
    // worker never runs more handlers at once than its concurrency. The state recorded
    // now stands: whatever the handler does later is dropped.
    let returned = false;
    void running.then(() => (returned = true));
    const state = await this.record(held, outcome, started);
    if (!returned) {
      const why = outcome.kind === "interrupted" ? outcome.abort.message : "";
      logger.warn(
        `task ${envelope.id} (${envelope.name}): the handler ignored the abort (${why}) and is still running; inline isolation cannot stop it, so its slot stays taken until it returns (only thread isolation can kill a handler)`,
      );
      await running;
      logger.info(
        `task ${envelope.id} (${envelope.name}): the abandoned handler returned; its outcome is discarded (the task stays ${state})`,
      );
    }
    held.handlerSettled?.();
    return state;
  }

  /** Stores what an attempt came to (unless its lease is gone) and returns the state. */
  private async record(
    held: HeldTask,
    outcome: Outcome,
    started: number,
  ): Promise<TaskState | "lost" | "shutdown"> {
    const envelope = held.delivery.envelope;
    const base = { envelope, workerId: this.deps.workerId };
    const durationMs = this.deps.clock.now() - started;
    if (held.lost) {
      logger.warn(`task ${envelope.id} (${envelope.name}) lost its lease; its result is discarded`);
      return "lost";
    }
    let state: TaskState;
    if (outcome.kind === "ok") {
      state = await this.succeed(held, outcome.value, started);
      if (state === "succeeded") {
        signals.taskSucceeded.emit({ ...base, result: outcome.value, durationMs });
      }
    } else if (outcome.kind === "interrupted") {
      if (outcome.abort.kind === "shutdown") return "shutdown";
      if (outcome.abort.kind === "lease-lost") return "lost";
      if (outcome.abort.kind === "revoked") {
        await this.settleRevoked(held, outcome.abort.message, true);
        state = "revoked";
      } else {
        state = await this.fail(held, outcome.abort, started);
      }
    } else {
      state = await this.fail(held, outcome.error, started);
    }
    signals.taskPostrun.emit({ ...base, state, durationMs });
    return state;
  }

  private execute(held: HeldTask, task: RegisteredTask): Promise<Outcome> {
    const envelope = held.delivery.envelope;
    const controller = new AbortController();
    const ctx = this.context(held, task, controller.signal);
    const execution = executeThrough(this.deps.middleware, ctx, () =>
      this.deps.executor.execute(task, ctx),
    );
    const softMs = numberMeta(envelope, MetaKeys.softTimeLimitMs) ?? task.options.softTimeLimitMs;
    const hardMs = numberMeta(envelope, MetaKeys.hardTimeLimitMs) ?? task.options.hardTimeLimitMs;
    return new Promise<Outcome>((resolve) => {
      const timers: ReturnType<typeof setTimeout>[] = [];
      let done = false;
      const settle = (outcome: Outcome) => {
        if (done) return;
        done = true;
        for (const t of timers) clearTimeout(t);
        held.interrupt = undefined;
        resolve(outcome);
      };
      execution.result.then(
        (value) => settle({ kind: "ok", value }),
        (error) => settle({ kind: "error", error }),
      );
      held.interrupt = (abort) => {
        controller.abort(abort);
        // A soft limit only asks the handler to stop; everything else ends the attempt now.
        if (abort.kind === "soft-time-limit") return;
        held.ended = true;
        // An inline handler only sees its aborted signal. Unless the worker is shutting
        // down (its tasks go back to the broker anyway), its slot is held until it returns.
        const stopped = execution.terminate();
        const running =
          stopped || abort.kind === "shutdown"
            ? undefined
            : execution.result.then(
                () => {},
                () => {},
              );
        settle({ kind: "interrupted", abort, running });
      };
      if (softMs !== undefined) {
        timers.push(
          setTimeout(
            () =>
              controller.abort(
                new TaskAbort("soft-time-limit", `soft time limit (${softMs} ms) exceeded`),
              ),
            softMs,
          ),
        );
      }
      if (hardMs !== undefined) {
        timers.push(
          setTimeout(
            () =>
              held.interrupt?.(
                new TaskAbort("hard-time-limit", `hard time limit (${hardMs} ms) exceeded`),
              ),
            hardMs,
          ),
        );
      }
    });
  }

  private context(held: HeldTask, task: RegisteredTask, signal: AbortSignal): TaskContext {
    const { delivery } = held;
    const envelope = delivery.envelope;
    const deps = this.deps;
    return taskContext({
      envelope,
      workerId: deps.workerId,
      signal,
      stem: deps.stem,
      leaseMs: this.leaseMsOf(envelope, task),
      extendLease: async (byMs) => {
        const asked = deps.clock.now();
        const ok = await deps.broker.extendLease(delivery, byMs);
        if (ok) held.leaseUntil = asked + byMs;
        return ok;
      },
      // A handler that goes on after its attempt ended (terminated by a revoke, a time
      // limit or a shutdown) must not turn the recorded outcome back into `running`.
      recordProgress: (percent, data) => {
        if (held.ended) return;
        this.sink(envelope).note(
          this.status(envelope, "running", {
            startedAt: held.startedAt,
            progress: { percent, data, at: deps.clock.now() },
            timeline: [this.entry("progress", { percent })],
          }),
        );
      },
    });
  }

  private async succeed(held: HeldTask, value: unknown, started: number): Promise<TaskState> {
    const envelope = held.delivery.envelope;
    const status = this.status(envelope, "succeeded", {
      result: value === undefined ? null : value,
      startedAt: started,
      finishedAt: this.deps.clock.now(),
      timeline: [this.entry("succeeded", { attempt: attemptNumber(envelope) })],
    });
    try {
      checkStatusStorable(status);
    } catch (error) {
      // Checked alone, before it joins a batch: a result no backend can store fails its
      // own task (through retries and the dead letters), not the batch.
      return this.fail(held, error, started);
    }
    await this.afterSettled(envelope, status);
    await this.sink(envelope).finish(status, held.delivery);
    await this.releaseUnique(envelope);
    return "succeeded";
  }

  private async fail(held: HeldTask, error: unknown, started: number): Promise<TaskState> {
    const { delivery, task } = held;
    const envelope = delivery.envelope;
    const now = this.deps.clock.now();
    const isRetryRequest = error instanceof RetryRequest;
    const cause = isRetryRequest ? (error.reason ?? error) : error;
    const maxRetries = envelope.maxRetries ?? task?.options.maxRetries ?? 0;
    const attempt = attemptNumber(envelope);
    // Stem's own failures (a time limit, a crashed thread) and ctx.retry() are not the
    // handler's errors: only the retry budget decides for them.
    const veto =
      isRetryRequest || cause instanceof TaskAbort || cause instanceof HandlerCrashed
        ? undefined
        : retryVeto(cause, task?.options ?? {});
    if (veto) {
      const taskError = taskErrorFrom(cause, false);
      await this.deadLetterFailure(
        held,
        taskError,
        veto.reason,
        { type: taskError.type, ...(veto.note ? { note: veto.note } : {}) },
        started,
      );
      return "failed";
    }
    // maxRetries retries: attempts 1 … maxRetries + 1.
    if (attempt <= maxRetries) {
      const strategy = task?.options.retryStrategy ?? this.deps.retryStrategy;
      const delayMs =
        (isRetryRequest ? error.countdownMs : undefined) ?? strategy.nextDelay(attempt, cause);
      const taskError = taskErrorFrom(cause, true);
      logger.info(
        `task ${envelope.name} ${envelope.id} attempt ${attempt} failed: ${taskError.message}; attempt ${attempt + 1} in ${formatDuration(delayMs)} (at ${new Date(now + delayMs).toISOString()})`,
      );
      await this.sink(envelope).write(
        this.status(envelope, "retrying", {
          error: taskError,
          startedAt: started,
          meta: { maxRetries, nextRetryAt: now + delayMs, retryDelayMs: delayMs },
          timeline: [
            this.entry("retried", {
              at: now,
              attempt,
              error: taskError.message,
              dueAt: now + delayMs,
            }),
          ],
        }),
      );
      await this.deps.broker.nack(delivery, { requeue: true, delayMs });
      signals.taskRetry.emit({
        envelope,
        workerId: this.deps.workerId,
        error: taskError,
        nextRetryAt: now + delayMs,
      });
      return "retrying";
    }
    const taskError = taskErrorFrom(cause, false);
    await this.deadLetterFailure(
      held,
      taskError,
      // A handler whose thread died under it is dead-lettered as crashed, not as failing.
      cause instanceof HandlerCrashed ? "crashed" : "max-retries-exhausted",
      { type: taskError.type },
      started,
    );
    return "failed";
  }

  /** Ends a task `failed` and moves it to the dead letters with `reason`. */
  private async deadLetterFailure(
    held: HeldTask,
    taskError: TaskError,
    reason: string,
    details: Record<string, unknown>,
    started?: number,
  ): Promise<void> {
    const { delivery, task } = held;
    const envelope = delivery.envelope;
    const maxRetries = envelope.maxRetries ?? task?.options.maxRetries ?? 0;
    const attempt = attemptNumber(envelope);
    const status = this.status(envelope, "failed", {
      error: taskError,
      startedAt: started,
      finishedAt: this.deps.clock.now(),
      meta: { maxRetries, deadLettered: true, deliveries: delivery.deliveries },
      timeline: [
        this.entry("failed", { attempt, error: taskError.message }),
        this.entry("dead-lettered", { reason, error: taskError.message }),
      ],
    });
    await this.afterSettled(envelope, status);
    await this.sink(envelope).write(status);
    await this.deps.broker.deadLetter(delivery, reason, {
      error: taskError.message,
      ...details,
      attempts: attempt,
      deliveries: delivery.deliveries,
    });
    await this.releaseUnique(envelope);
    logger.warn(
      `task ${envelope.id} (${envelope.name}) failed after ${attempt} attempt(s) (${reason}): ${taskError.message}`,
    );
    signals.taskFailed.emit({
      envelope,
      workerId: this.deps.workerId,
      error: taskError,
      deadLettered: true,
    });
  }

  /** The lease a task runs under: its own, its task's, or the worker's. */
  private leaseMsOf(envelope: Envelope, task: RegisteredTask): number {
    return envelope.visibilityTimeoutMs ?? task.options.visibilityTimeoutMs ?? this.deps.leaseMs;
  }

  private async afterSettled(envelope: Envelope, status: TaskStatus): Promise<void> {
    for (const hook of this.deps.onSettled) await hook(envelope, status);
  }

  private async releaseUnique(envelope: Envelope): Promise<void> {
    const key = envelope.meta[MetaKeys.uniqueKey];
    if (typeof key === "string" && this.deps.lockStore) {
      await this.deps.lockStore.release(key, envelope.id);
    }
  }
}

function numberMeta(envelope: Envelope, key: string): number | undefined {
  const v = envelope.meta[key];
  return typeof v === "number" ? v : undefined;
}
