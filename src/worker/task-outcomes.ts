/**
 * How a task's outcome is recorded: its statuses and timeline entries, retries, dead
 * letters and revocations, then the settled hooks, the ack and the unique lock's release.
 * The TaskRunner decides what happened; this writes it down.
 */

import type { Delivery } from "../adapters/contracts.ts";
import { RetryRequest, TaskAbort } from "../core/context.ts";
import { formatDuration } from "../core/duration.ts";
import { attemptNumber, type Envelope, MetaKeys } from "../core/envelope.ts";
import { retryVeto } from "../core/failure-control.ts";
import { logger } from "../core/logger.ts";
import { signals } from "../core/signals.ts";
import { type TaskError, type TaskState, type TaskStatus, taskErrorFrom } from "../core/states.ts";
import { checkStatusStorable } from "../core/storable.ts";
import { type TimelineEntry, type TimelineEvent } from "../core/timeline.ts";
import { HandlerCrashed } from "./executor.ts";
import type { HeldTask, RunnerDeps } from "./runner-deps.ts";
import { type StatusSink, statusSinkFor } from "./status-sink.ts";

/** Records the outcomes of the tasks a TaskRunner runs. */
export class TaskOutcomes {
  constructor(private readonly deps: RunnerDeps) {}

  /** Where this task's statuses go (nowhere for an `ignoreResult` task). */
  sink(envelope: Envelope): StatusSink {
    return statusSinkFor(envelope, this.deps.completions);
  }

  status(envelope: Envelope, state: TaskState, fields: Partial<TaskStatus> = {}): TaskStatus {
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
  entry(event: TimelineEvent, fields: Partial<TimelineEntry> = {}): TimelineEntry {
    return { event, at: this.deps.clock.now(), worker: this.deps.workerId, ...fields };
  }

  async deadLetter(delivery: Delivery, reason: string, message: string): Promise<void> {
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

  /**
   * Dead-letters, without running it, a task delivered more often than its limit allows:
   * its handler kills or hangs the worker, or its outcome never gets stored. Reason
   * `crashed` when the delivery before this one lost its lease, else `max-deliveries`;
   * the last attempt's error is kept when the result backend has one.
   */
  async deadLetterOverLimit(held: HeldTask, limit: number): Promise<void> {
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

  async settleRevoked(held: HeldTask, reason: string, terminated: boolean): Promise<void> {
    const envelope = held.delivery.envelope;
    const status = this.status(envelope, "revoked", {
      meta: { revokedReason: reason },
      finishedAt: this.deps.clock.now(),
      startedAt: held.startedAt,
      timeline: [this.entry(reason === "expired" ? "expired" : "revoked", { reason })],
    });
    await this.afterSettled(envelope, status);
    // Released first: once the final state can be seen (or waited on), enqueueing with
    // the same unique key makes a new task.
    await this.releaseUnique(envelope);
    await this.sink(envelope).finish(status, held.delivery);
    signals.taskRevoked.emit({ envelope, workerId: this.deps.workerId, reason, terminated });
  }

  async succeed(held: HeldTask, value: unknown, started: number): Promise<TaskState> {
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
    // Released first: once the final state can be seen (or waited on), enqueueing with
    // the same unique key makes a new task.
    await this.releaseUnique(envelope);
    await this.sink(envelope).finish(status, held.delivery);
    return "succeeded";
  }

  async fail(held: HeldTask, error: unknown, started: number): Promise<TaskState> {
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
  async deadLetterFailure(
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
    await this.releaseUnique(envelope);
    await this.sink(envelope).write(status);
    await this.deps.broker.deadLetter(delivery, reason, {
      error: taskError.message,
      ...details,
      attempts: attempt,
      deliveries: delivery.deliveries,
    });
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

  async afterSettled(envelope: Envelope, status: TaskStatus): Promise<void> {
    for (const hook of this.deps.onSettled) await hook(envelope, status);
  }

  async releaseUnique(envelope: Envelope): Promise<void> {
    const key = envelope.meta[MetaKeys.uniqueKey];
    if (typeof key === "string" && this.deps.lockStore) {
      await this.deps.lockStore.release(key, envelope.id);
    }
  }
}
