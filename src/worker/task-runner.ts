import { logger } from "../core/logger.ts";
import type { Broker, Delivery, LockStore, RateLimiter } from "../adapters/contracts.ts";
import type { Clock } from "../core/clock.ts";
import { RetryRequest, TaskAbort, type TaskContext } from "../core/context.ts";
import { parseDuration } from "../core/duration.ts";
import { type Envelope, Headers, MetaKeys } from "../core/envelope.ts";
import type { RegisteredTask, TaskRegistry } from "../core/registry.ts";
import type { RetryStrategy } from "../core/retry.ts";
import { signals } from "../core/signals.ts";
import { type TaskState, type TaskStatus, taskErrorFrom } from "../core/states.ts";
import type { Stem } from "../core/stem.ts";
import type { Completions } from "./completions.ts";
import { type Executor, HandlerCrashed } from "./executor.ts";
import { RateGate } from "./rate-gate.ts";
import type { Revocations } from "./revocations.ts";
import { currentInstrumentation } from "../observability/instrumentation.ts";

/** Checks an envelope before it runs (payload signatures); a reason means "dead-letter it". */
export type EnvelopeVerifier = (envelope: Envelope) => Promise<string | null> | string | null;

/**
 * Called with a task's final status (succeeded, failed or revoked) before it is stored and
 * acked (canvas: group and chain bookkeeping). Not called for messages dead-lettered
 * before checks passed (unknown task, bad signature): their meta is not trusted.
 */
export type SettledHook = (envelope: Envelope, status: TaskStatus) => Promise<void>;

export interface RunnerDeps {
  workerId: string;
  broker: Broker;
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
  verify?: EnvelopeVerifier;
  onSettled: SettledHook[];
}

/** A delivery the worker holds: waiting for a slot, or running. */
export interface HeldTask {
  delivery: Delivery;
  task?: RegisteredTask;
  startedAt?: number;
  /** Set while running: stops the handler for the given reason. */
  interrupt?: (abort: TaskAbort) => void;
  /** The lease is gone (extension failed): the result must not be written or acked. */
  lost?: boolean;
  /**
   * The attempt ended (hard limit, revoke, lost lease) while the handler may still run:
   * its outcome is decided, so later progress and results from the handler are dropped.
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
    if (deps.rateLimiter) this.rateGate = new RateGate(deps.rateLimiter, deps.clock);
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
      attempt: envelope.attempt,
      meta: envelope.maxRetries === undefined ? {} : { maxRetries: envelope.maxRetries },
      createdAt: envelope.enqueuedAt,
      updatedAt: now,
      workerId: this.deps.workerId,
      ...fields,
    };
  }

  /**
   * Checks a fresh delivery before it takes a slot: unknown task, bad signature, revoked,
   * expired, rate limit (no token: sent back to the broker until its turn). Returns false
   * when the delivery was settled or released here and must not run.
   */
  async admit(held: HeldTask): Promise<boolean> {
    const { delivery } = held;
    const envelope = delivery.envelope;
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
    const rate = task.options.rateLimit;
    if (rate && this.rateGate) {
      const delayMs = await this.rateGate.admit(`rate:${envelope.name}`, rate, envelope.id);
      if (delayMs > 0) {
        // No token: back to the broker until one will be free, so the task holds no
        // prefetch slot meanwhile. Not an attempt: it never ran.
        await this.deps.broker.nack(delivery, { requeue: true, delayMs, countAttempt: false });
        return false;
      }
    }
    return true;
  }

  private async deadLetter(delivery: Delivery, reason: string, message: string): Promise<void> {
    const envelope = delivery.envelope;
    logger.warn(`task ${envelope.id} (${envelope.name}) dead-lettered: ${message}`);
    await this.deps.completions.write(
      this.status(envelope, "dead", {
        error: { type: reason, message },
        finishedAt: this.deps.clock.now(),
      }),
    );
    await this.deps.broker.deadLetter(delivery, reason, { error: message });
    signals.taskDeadLettered.emit({ envelope, reason, workerId: this.deps.workerId });
  }

  private async settleRevoked(held: HeldTask, reason: string, terminated: boolean): Promise<void> {
    const envelope = held.delivery.envelope;
    const status = this.status(envelope, "revoked", {
      meta: { revokedReason: reason },
      finishedAt: this.deps.clock.now(),
      startedAt: held.startedAt,
    });
    await this.afterSettled(envelope, status);
    await this.deps.completions.finish(status, held.delivery);
    await this.releaseUnique(envelope);
    signals.taskRevoked.emit({ envelope, workerId: this.deps.workerId, reason, terminated });
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
    this.deps.completions.note(this.status(envelope, "running", { startedAt: started }));
    signals.taskReceived.emit(base);
    signals.taskPrerun.emit(base);

    const outcome = await this.execute(held, task);
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
      signals.taskSucceeded.emit({ ...base, result: outcome.value, durationMs });
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
    const execution = this.deps.executor.execute(task, ctx);
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
    const leaseMs =
      envelope.visibilityTimeoutMs ?? task.options.visibilityTimeoutMs ?? deps.leaseMs;
    const extend = async (byMs: number) => {
      const ok = await deps.broker.extendLease(delivery, byMs);
      if (ok) delivery.leaseExpiresAt = deps.clock.now() + byMs;
      return ok;
    };
    return {
      id: envelope.id,
      name: envelope.name,
      queue: envelope.queue,
      attempt: envelope.attempt,
      args: envelope.args,
      headers: envelope.headers,
      meta: envelope.meta,
      workerId: deps.workerId,
      signal,
      previousResult: envelope.meta["stem.chain.previousResult"],
      heartbeat: async () => {
        await extend(leaseMs);
      },
      extendLease: (by) => extend(by === undefined ? leaseMs : parseDuration(by, "extendLease")),
      progress: async (percent, data) => {
        // After a hard limit or revoke the recorded state stands: a late handler's progress is dropped.
        if (held.ended) return;
        deps.completions.note(
          this.status(envelope, "running", {
            startedAt: held.startedAt,
            progress: { percent, data, at: deps.clock.now() },
          }),
        );
      },
      retry: (options = {}) => {
        throw new RetryRequest(
          options.countdown === undefined
            ? undefined
            : parseDuration(options.countdown, "countdown"),
          options.error,
        );
      },
      // Bound to the task's trace, so children link to it even when asked from a thread.
      enqueue: bindToTrace((name, args = {}, options = {}) =>
        deps.stem.enqueue(name, args, {
          ...options,
          headers: { ...inheritedHeaders(envelope), ...options.headers },
          meta: {
            [MetaKeys.parentTaskId]: envelope.id,
            [MetaKeys.rootTaskId]: envelope.meta[MetaKeys.rootTaskId] ?? envelope.id,
            ...options.meta,
          },
        }),
      ),
    };
  }

  private async succeed(held: HeldTask, value: unknown, started: number): Promise<TaskState> {
    const envelope = held.delivery.envelope;
    const status = this.status(envelope, "succeeded", {
      result: value === undefined ? null : value,
      startedAt: started,
      finishedAt: this.deps.clock.now(),
    });
    await this.afterSettled(envelope, status);
    await this.deps.completions.finish(status, held.delivery);
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
    if (envelope.attempt < maxRetries) {
      const strategy = task?.options.retryStrategy ?? this.deps.retryStrategy;
      const delayMs =
        (isRetryRequest ? error.countdownMs : undefined) ??
        strategy.nextDelay(envelope.attempt, cause);
      const taskError = taskErrorFrom(cause, true);
      await this.deps.completions.write(
        this.status(envelope, "retrying", {
          error: taskError,
          startedAt: started,
          meta: { maxRetries, nextRetryAt: now + delayMs, retryDelayMs: delayMs },
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
    const status = this.status(envelope, "failed", {
      error: taskError,
      startedAt: started,
      finishedAt: now,
      meta: { maxRetries, deadLettered: true },
    });
    await this.afterSettled(envelope, status);
    await this.deps.completions.write(status);
    // A handler whose thread died under it is dead-lettered as crashed, not as failing.
    const reason = cause instanceof HandlerCrashed ? "crashed" : "max-retries-exhausted";
    await this.deps.broker.deadLetter(delivery, reason, {
      error: taskError.message,
      type: taskError.type,
      attempts: envelope.attempt + 1,
    });
    await this.releaseUnique(envelope);
    logger.warn(
      `task ${envelope.id} (${envelope.name}) failed after ${envelope.attempt + 1} attempt(s): ${taskError.message}`,
    );
    signals.taskFailed.emit({
      envelope,
      workerId: this.deps.workerId,
      error: taskError,
      deadLettered: true,
    });
    return "failed";
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

function bindToTrace<F extends (...args: never[]) => unknown>(fn: F): F {
  return currentInstrumentation()?.bind(fn) ?? fn;
}

function numberMeta(envelope: Envelope, key: string): number | undefined {
  const v = envelope.meta[key];
  return typeof v === "number" ? v : undefined;
}

/** Headers a child task inherits: the caller's own, not Stem's per-message ones. */
function inheritedHeaders(envelope: Envelope): Record<string, string> {
  const out: Record<string, string> = {};
  const own = new Set<string>([
    Headers.signature,
    Headers.signatureKey,
    Headers.groupId,
    Headers.chordId,
    Headers.traceparent,
    Headers.tracestate,
    Headers.scheduledFrom,
    Headers.scheduleId,
  ]);
  for (const [k, v] of Object.entries(envelope.headers)) if (!own.has(k)) out[k] = v;
  return out;
}
