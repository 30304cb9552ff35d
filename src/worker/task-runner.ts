import { TaskAbort, type TaskContext } from "../core/context.ts";
import { formatDuration } from "../core/duration.ts";
import { type Envelope, MetaKeys } from "../core/envelope.ts";
import { logger } from "../core/logger.ts";
import { rateLimitBucket } from "../core/rate-limit.ts";
import type { RegisteredTask } from "../core/registry.ts";
import { signals } from "../core/signals.ts";
import { type TaskState } from "../core/states.ts";
import { startEntries } from "../core/timeline.ts";
import { currentInstrumentation } from "../observability/instrumentation.ts";
import { executeThrough } from "./execute-middleware.ts";
import { RateGate } from "./rate-gate.ts";
import { taskContext } from "./task-context.ts";
import { TaskOutcomes } from "./task-outcomes.ts";

/**
 * Deliveries allowed per attempt the retry budget gives, when neither the task nor the
 * worker sets `maxDeliveries`: each attempt may be cut off twice (a crash, a deploy, a
 * lost lease) before the task is judged to be what kills or hangs its workers.
 */
export const DELIVERIES_PER_ATTEMPT = 3;

import type { HeldTask, RunnerDeps } from "./runner-deps.ts";

export type { EnvelopeVerifier, HeldTask, RunnerDeps, SettledHook } from "./runner-deps.ts";

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
  private readonly outcomes: TaskOutcomes;

  constructor(private readonly deps: RunnerDeps) {
    this.outcomes = new TaskOutcomes(deps);
    if (deps.rateLimiter) {
      this.rateGate = new RateGate(deps.rateLimiter, deps.clock, deps.workerId);
    }
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
      await this.outcomes.deadLetter(
        delivery,
        "unknown-task",
        `no task named "${envelope.name}" is registered on this worker`,
      );
      return false;
    }
    held.task = task;
    const badSignature = await this.deps.verify?.(envelope);
    if (badSignature) {
      await this.outcomes.deadLetter(delivery, "signature", badSignature);
      return false;
    }
    const revoked = this.deps.revocations.get(envelope.id);
    if (revoked) {
      await this.outcomes.settleRevoked(held, revoked.reason ?? "revoked", false);
      return false;
    }
    const expiresAt = envelope.meta[MetaKeys.expiresAt];
    if (typeof expiresAt === "number" && expiresAt <= this.deps.clock.now()) {
      await this.outcomes.settleRevoked(held, "expired", false);
      return false;
    }
    const limit = this.deliveryLimit(envelope, task);
    if (delivery.deliveries > limit) {
      await this.outcomes.deadLetterOverLimit(held, limit);
      return false;
    }
    const rate = task.options.rateLimit;
    if (rate && this.rateGate) {
      let bucket: string;
      try {
        bucket = rateLimitBucket(envelope, rate);
      } catch (error) {
        await this.outcomes.deadLetter(delivery, "rate-limit-key", (error as Error).message);
        return false;
      }
      const delayMs = await this.rateGate.admit(bucket, rate, envelope.id);
      if (delayMs > 0) {
        // No token: back to the broker until one will be free, so the task holds no
        // prefetch slot meanwhile. Not an attempt: it never ran. Its status says why
        // (`stem observe why`), written before the nack as in `handBack`.
        const dueAt = this.deps.clock.now() + delayMs;
        await this.outcomes.sink(envelope).write(
          this.outcomes.status(envelope, "queued", {
            attempt: envelope.attempt,
            workerId: undefined,
            timeline: [
              this.outcomes.entry("rate-limited", {
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
      await this.outcomes.sink(envelope).write(
        this.outcomes.status(envelope, "queued", {
          attempt: envelope.attempt,
          workerId: undefined,
          timeline: [this.outcomes.entry("returned", { reason: "the worker is shutting down" })],
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
    this.outcomes
      .sink(envelope)
      .note(this.outcomes.status(envelope, "running", { startedAt: started, timeline }));
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
      state = await this.outcomes.succeed(held, outcome.value, started);
      if (state === "succeeded") {
        signals.taskSucceeded.emit({ ...base, result: outcome.value, durationMs });
      }
    } else if (outcome.kind === "interrupted") {
      if (outcome.abort.kind === "shutdown") return "shutdown";
      if (outcome.abort.kind === "lease-lost") return "lost";
      if (outcome.abort.kind === "revoked") {
        await this.outcomes.settleRevoked(held, outcome.abort.message, true);
        state = "revoked";
      } else {
        state = await this.outcomes.fail(held, outcome.abort, started);
      }
    } else {
      state = await this.outcomes.fail(held, outcome.error, started);
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
        this.outcomes.sink(envelope).note(
          this.outcomes.status(envelope, "running", {
            startedAt: held.startedAt,
            progress: { percent, data, at: deps.clock.now() },
            timeline: [this.outcomes.entry("progress", { percent })],
          }),
        );
      },
    });
  }

  /** The lease a task runs under: its own, its task's, or the worker's. */
  private leaseMsOf(envelope: Envelope, task: RegisteredTask): number {
    return envelope.visibilityTimeoutMs ?? task.options.visibilityTimeoutMs ?? this.deps.leaseMs;
  }
}

function numberMeta(envelope: Envelope, key: string): number | undefined {
  const v = envelope.meta[key];
  return typeof v === "number" ? v : undefined;
}
