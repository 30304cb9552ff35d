/**
 * The workflow runtime: starts runs, executes them on workers (through the internal
 * `stem.workflow.run` task, under a run lease), resumes them when they are due or an
 * event arrives, and cancels and rewinds them. Producers and workers each make one on
 * the same stores; only workers execute runs.
 */
import type {
  WorkflowRun,
  WorkflowRunQuery,
  WorkflowStepEntry,
  WorkflowStore,
  WorkflowWatcher,
} from "../adapters/contracts.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { type DurationInput, parseDuration } from "../core/duration.ts";
import type { EnqueueOptions } from "../core/enqueue-options.ts";
import { StemError, TimeoutError, toError } from "../core/errors.ts";
import { logger } from "../core/logger.ts";
import type { RetryBackoff } from "../core/retry.ts";
import type { TaskHandler } from "../core/task.ts";
import { signals } from "../core/signals.ts";
import { type AnyWorkflowDefinition, WorkflowRegistry } from "./definition.ts";
import { WorkflowEventTimeoutError } from "./errors.ts";
import { ScriptExecution } from "./execution.ts";
import { policyViolation, resolvePolicy } from "./policy.ts";
import { paramsWithMetadata, runtimeMetadataOf } from "./run-metadata.ts";
import {
  WORKFLOW_RUN_TASK,
  WorkflowMetaKeys,
  type WorkflowRunTaskArgs,
  type WorkflowRunTaskResult,
  workflowRunTask,
} from "./run-task.ts";
import { DEFAULT_BATCH, isFinished } from "./run-transitions.ts";
import type { StartWorkflowOptions, WorkflowContinuationReason } from "./types.ts";

/** Anything that enqueues tasks (the producer `Stem`). */
export interface WorkflowEnqueuer {
  enqueue(name: string, args?: Record<string, unknown>, options?: EnqueueOptions): Promise<string>;
}

export interface WorkflowRuntimeOptions {
  store: WorkflowStore;
  /** Enqueues `stem.workflow.run` tasks and the tasks steps enqueue. */
  stem: WorkflowEnqueuer;
  workflows?: Iterable<AnyWorkflowDefinition>;
  clock?: Clock;
  /** Queue for new runs' tasks. Default `default`. */
  queue?: string;
  /** Execution lease on a run, renewed while it executes. Default 30 s. */
  runLease?: DurationInput;
  /** Retries of a failing step before the run fails. Default 5. */
  maxRetries?: number;
  /** Delay between those retries. Default exponential from 2 s. */
  retryBackoff?: RetryBackoff;
  /** A running run nobody holds and nothing touched for this long is enqueued again. Default 5 min. */
  recoverAfter?: DurationInput;
  /** Identifies this runtime as a lease owner. */
  runtimeId?: string;
}

/** What `executeRun` did. */
export type ExecuteOutcome =
  | "completed"
  | "suspended"
  | "cancelled"
  | "failed"
  | "retrying"
  | "busy"
  | "lease-lost"
  | "finished"
  | "not-runnable"
  | "missing";

/** A run with its checkpoints and the watcher it waits on, for `stem wf show`. */
export interface WorkflowRunDetail {
  run: WorkflowRun;
  steps: WorkflowStepEntry[];
  watcher: WorkflowWatcher | null;
}

let runtimes = 0;

export class WorkflowRuntime {
  readonly store: WorkflowStore;
  readonly registry: WorkflowRegistry;
  readonly clock: Clock;
  readonly queue: string;
  readonly runtimeId: string;
  readonly runLeaseMs: number;
  readonly maxRetries: number;
  readonly retryBackoff?: RetryBackoff;
  readonly recoverAfterMs: number;
  private readonly stem: WorkflowEnqueuer;

  constructor(options: WorkflowRuntimeOptions) {
    this.store = options.store;
    this.stem = options.stem;
    this.registry = new WorkflowRegistry(options.workflows ?? []);
    this.clock = options.clock ?? systemClock;
    this.queue = options.queue ?? "default";
    this.runLeaseMs = parseDuration(options.runLease ?? "30s", "runLease");
    if (this.runLeaseMs < 100)
      throw new StemError("invalid_argument", "runLease must be at least 100 ms");
    this.maxRetries = options.maxRetries ?? 5;
    if (!Number.isInteger(this.maxRetries) || this.maxRetries < 0) {
      throw new StemError(
        "invalid_argument",
        `maxRetries must be a non-negative integer, got ${options.maxRetries}`,
      );
    }
    this.retryBackoff = options.retryBackoff;
    this.recoverAfterMs = parseDuration(options.recoverAfter ?? "5m", "recoverAfter");
    this.runtimeId =
      options.runtimeId ?? `${process.pid}.${Bun.randomUUIDv7().slice(-12)}.${++runtimes}`;
  }

  register(definition: AnyWorkflowDefinition): this {
    this.registry.register(definition);
    return this;
  }

  /**
   * Creates a run and enqueues its first execution; returns the run id. A runtime that
   * knows some workflows refuses other names; one that knows none (a producer such as
   * `stem wf start` without --tasks) starts any name and the worker fails runs it does
   * not know.
   */
  async startWorkflow(name: string, options: StartWorkflowOptions = {}): Promise<string> {
    if (this.registry.size > 0 && !this.registry.get(name)) {
      throw new StemError(
        "unknown_task",
        `unknown workflow "${name}" (registered: ${this.registry.names().join(", ")})`,
      );
    }
    const params = options.params ?? {};
    if (typeof params !== "object" || params === null || Array.isArray(params)) {
      throw new StemError("invalid_argument", "workflow params must be an object");
    }
    for (const key of Object.keys(params)) {
      if (key.startsWith("__stem.workflow.")) {
        throw new StemError(
          "invalid_argument",
          `workflow param "${key}" is reserved for the runtime`,
        );
      }
    }
    const queue = options.queue ?? this.queue;
    const runId = await this.store.createRun({
      workflow: name,
      params: paramsWithMetadata(params, { orchestrationQueue: queue, continuationQueue: queue }),
      runId: options.runId,
      parentRunId: options.parentRunId,
      cancellationPolicy: resolvePolicy(options.cancellationPolicy),
    });
    signals.workflowRunStarted.emit({
      runId,
      workflow: name,
      status: "running",
      metadata: { queue },
    });
    await this.enqueueRun(runId, queue, "start");
    return runId;
  }

  /** Enqueues one execution of a run on `queue`. */
  async enqueueRun(
    runId: string,
    queue: string,
    reason: WorkflowContinuationReason,
    delayMs?: number,
  ): Promise<string> {
    const run = reason === "start" ? null : await this.store.get(runId);
    const metadata = run ? runtimeMetadataOf(run) : null;
    return this.stem.enqueue(
      WORKFLOW_RUN_TASK,
      { runId, reason },
      {
        queue,
        delay: delayMs,
        maxRetries: this.maxRetries,
        meta: {
          [WorkflowMetaKeys.runId]: runId,
          [WorkflowMetaKeys.orchestrationQueue]: metadata?.orchestrationQueue ?? queue,
          [WorkflowMetaKeys.continuationQueue]: metadata?.continuationQueue ?? queue,
          [WorkflowMetaKeys.continuationReason]: reason,
          [WorkflowMetaKeys.maxRetries]: this.maxRetries,
        },
      },
    );
  }

  /** Enqueues a continuation on the run's own continuation queue (persisted at start). */
  private async continueRun(
    run: WorkflowRun,
    reason: WorkflowContinuationReason,
    delayMs?: number,
  ): Promise<void> {
    const queue = runtimeMetadataOf(run)?.continuationQueue ?? this.queue;
    await this.enqueueRun(run.id, queue, reason, delayMs);
  }

  /**
   * Delivers an event: every run waiting on `topic` right now is resumed exactly once with
   * `payload` (however many processes emit at once). An event nobody waits for is not kept:
   * a run that starts waiting later does not see it. Returns the ids of the resumed runs.
   */
  async emit(topic: string, payload: unknown = null): Promise<string[]> {
    if (typeof topic !== "string" || topic.length === 0) {
      throw new StemError("invalid_argument", "an event topic must be a non-empty string");
    }
    const resumed: string[] = [];
    for (;;) {
      const resolutions = await this.store.resolveWatchers(topic, payload, {
        limit: DEFAULT_BATCH,
      });
      for (const resolution of resolutions) {
        const run = await this.store.get(resolution.runId);
        if (!run || isFinished(run.status)) continue;
        if (await this.cancelIfOverPolicy(run)) continue;
        signals.workflowRunResumed.emit({
          runId: run.id,
          workflow: run.workflow,
          status: "running",
          step: resolution.stepName,
          metadata: { reason: "event", topic },
        });
        await this.continueRun(run, "event");
        resumed.push(run.id);
      }
      if (resolutions.length < DEFAULT_BATCH) return resumed;
    }
  }

  /** Cancels a run; false when it had already finished. The reason is kept in `cancellationData`. */
  async cancel(
    runId: string,
    reason = "cancelled",
    details: Record<string, unknown> = {},
  ): Promise<boolean> {
    const run = await this.requireRun(runId);
    const done = await this.store.cancel(runId, reason, details);
    if (done) {
      signals.workflowRunCancelled.emit({
        runId,
        workflow: run.workflow,
        status: "cancelled",
        metadata: { reason, ...details },
      });
    }
    return done;
  }

  private async cancelForPolicy(
    run: WorkflowRun,
    reason: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    logger.info(`workflow run ${run.id} (${run.workflow}) cancelled: ${reason}`);
    await this.cancel(run.id, reason, { policy: reason, ...details });
  }

  /** Cancels a run that woke past its policy's limits; true when it did. */
  private async cancelIfOverPolicy(run: WorkflowRun): Promise<boolean> {
    const violation = policyViolation(run, this.clock.now(), true);
    if (!violation) return false;
    await this.cancelForPolicy(run, violation.reason, violation.details);
    return true;
  }

  /**
   * Rewinds a run to `step`: that step's checkpoints (every iteration) and all later ones
   * are deleted and the run executes again from there. Works on finished runs too; refused
   * while a worker is executing the run.
   */
  async rewind(runId: string, step: string): Promise<void> {
    const run = await this.requireRun(runId);
    if (run.ownerId && run.leaseExpiresAt !== null && run.leaseExpiresAt > this.clock.now()) {
      throw new StemError(
        "conflict",
        `workflow run ${runId} is executing on ${run.ownerId}; rewind it once it suspends or finishes`,
      );
    }
    await this.store.rewindToStep(runId, step);
    await this.store.markResumed(runId);
    signals.workflowRunResumed.emit({
      runId,
      workflow: run.workflow,
      status: "running",
      step,
      metadata: { reason: "rewind" },
    });
    await this.continueRun(run, "manual");
  }

  getRun(runId: string): Promise<WorkflowRun | null> {
    return this.store.get(runId);
  }

  listRuns(query?: WorkflowRunQuery): Promise<WorkflowRun[]> {
    return this.store.listRuns(query);
  }

  /** A run with its checkpoints and watcher; StemError("not_found") when unknown. */
  async describe(runId: string): Promise<WorkflowRunDetail> {
    const run = await this.requireRun(runId);
    const steps = await this.store.listSteps(runId);
    let watcher: WorkflowWatcher | null = null;
    if (run.waitTopic) {
      watcher =
        (await this.store.listWatchers(run.waitTopic)).find((w) => w.runId === runId) ?? null;
    }
    return { run, steps, watcher };
  }

  private async requireRun(runId: string): Promise<WorkflowRun> {
    const run = await this.store.get(runId);
    if (!run) throw new StemError("not_found", `workflow run ${runId} not found`);
    return run;
  }

  /**
   * Waits until the run completes, fails or is cancelled and returns it. Throws
   * TimeoutError after `timeout` (default 5 min).
   */
  async waitForCompletion(
    runId: string,
    options: { timeout?: DurationInput } = {},
  ): Promise<WorkflowRun> {
    const timeoutMs = parseDuration(options.timeout ?? "5m", "timeout");
    const deadline = Date.now() + timeoutMs;
    let pause = 5;
    for (;;) {
      const run = await this.requireRun(runId);
      if (isFinished(run.status)) return run;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new TimeoutError(
          `workflow run ${runId} did not finish within ${timeoutMs} ms (status: ${run.status})`,
        );
      }
      await Bun.sleep(Math.min(pause, left));
      pause = Math.min(pause * 2, 100);
    }
  }

  /**
   * Executes a run until it completes, suspends or fails, holding its lease meanwhile.
   * `attempt` (the run task's attempt number, from 1) and `maxRetries` decide whether a
   * failing step is retried (the error is thrown so the task is retried) or fails the run.
   */
  async executeRun(
    runId: string,
    options: { signal?: AbortSignal; attempt?: number; maxRetries?: number } = {},
  ): Promise<ExecuteOutcome> {
    const initial = await this.store.get(runId);
    if (!initial) return "missing";
    if (isFinished(initial.status)) return "finished";
    // A suspended run waits for its wake-up, event or rewind; this is a stale task.
    if (initial.status !== "running") return "not-runnable";
    const definition = this.registry.get(initial.workflow);
    if (!definition) {
      // Retried like a failing step: another worker on the queue may know the workflow.
      const message = `unknown workflow "${initial.workflow}" (this worker runs: ${this.registry.names().join(", ") || "none"})`;
      return this.stepFailed(initial, new StemError("unknown_task", message), options, null);
    }
    if (!(await this.store.claimRun(runId, this.runtimeId, this.runLeaseMs))) return "busy";
    const lease = new LeaseKeeper(this.store, runId, this.runtimeId, this.runLeaseMs);
    // The worker gave the task up (shutdown, lost task lease, revoke, hard time limit): its
    // redelivery runs the run again, so this execution must stop writing.
    const onAbort = () => {
      const reason = options.signal?.reason as { kind?: string } | undefined;
      if (reason?.kind !== "soft-time-limit")
        lease.abandon(`the worker stopped the task executing run ${runId}`);
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const run = await this.store.get(runId);
      if (!run || run.status !== "running")
        return run && isFinished(run.status) ? "finished" : "not-runnable";
      if (await this.cancelIfOverPolicy({ ...run, suspensionData: null })) return "cancelled";
      const execution = new ScriptExecution({
        store: this.store,
        clock: this.clock,
        run,
        definition,
        signal: options.signal ? AbortSignal.any([options.signal, lease.signal]) : lease.signal,
        leaseLost: () => lease.lost,
        enqueue: (name, args, enqueueOptions = {}) =>
          this.stem.enqueue(name, args, {
            ...enqueueOptions,
            meta: { [WorkflowMetaKeys.runId]: runId, ...enqueueOptions.meta },
          }),
        cancelForPolicy: (r, reason, details) => this.cancelForPolicy(r, reason, details),
      });
      let end: Awaited<ReturnType<ScriptExecution["execute"]>>;
      try {
        end = await execution.execute();
      } catch (error) {
        return await this.stepFailed(run, error, options, lease);
      }
      if (end.kind !== "completed") return end.kind;
      if (lease.lost) return "lease-lost";
      await this.store.markCompleted(runId, end.result);
      // Cancelled while its last step ran: the store kept it cancelled.
      if ((await this.store.get(runId))?.status !== "completed") return "cancelled";
      signals.workflowRunCompleted.emit({
        runId,
        workflow: run.workflow,
        status: "completed",
        metadata: { result: end.result },
      });
      return "completed";
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
      lease.stop();
      await this.store.releaseRun(runId, this.runtimeId).catch((error) => {
        logger.warn(
          `workflow run ${runId}: releasing its lease failed: ${(error as Error).message}`,
        );
      });
    }
  }

  private async stepFailed(
    run: WorkflowRun,
    thrown: unknown,
    options: { attempt?: number; maxRetries?: number },
    lease: LeaseKeeper | null,
  ): Promise<ExecuteOutcome> {
    if (lease?.lost) return "lease-lost";
    const error = toError(thrown);
    const attempt = options.attempt ?? 1;
    const maxRetries = options.maxRetries ?? this.maxRetries;
    // A timed-out event wait fails the same way every time: no point retrying it.
    const terminal = thrown instanceof WorkflowEventTimeoutError || attempt > maxRetries;
    await this.store.markFailed(
      run.id,
      { message: error.message, type: error.name, stack: error.stack },
      { terminal },
    );
    const step = (await this.store.get(run.id))?.currentStep ?? undefined;
    if (terminal) {
      logger.warn(
        `workflow run ${run.id} (${run.workflow}) failed in step ${step}: ${error.message}`,
      );
      signals.workflowRunFailed.emit({
        runId: run.id,
        workflow: run.workflow,
        status: "failed",
        step,
        metadata: { error: error.message, attempts: attempt },
      });
      return "failed";
    }
    throw error;
  }

  /** The task handler workers register to execute runs. */
  taskHandler(): TaskHandler<WorkflowRunTaskArgs, WorkflowRunTaskResult> {
    return workflowRunTask(this);
  }

  /**
   * A task found the run leased by another execution. The holder may be about to release
   * it with the run resumed meanwhile (an event arriving just after the run suspended), or
   * may have died: either way the run is tried again shortly (within a second, or when the
   * lease runs out if sooner) until the lease is free.
   */
  async deferBusyRun(runId: string): Promise<void> {
    const run = await this.store.get(runId);
    if (!run || isFinished(run.status)) return;
    const left = (run.leaseExpiresAt ?? this.clock.now()) - this.clock.now();
    await this.continueRun(run, "deferred", Math.min(Math.max(left, 100), 1000));
  }

  /**
   * One sweep: resumes runs that are due (wake time or event deadline reached), cancels
   * those past their policy, and re-enqueues running runs that nothing has touched for
   * `recoverAfter` (their task was lost before it was published). Returns the runs resumed.
   */
  async sweep(): Promise<string[]> {
    const resumed: string[] = [];
    for (;;) {
      const due = await this.store.dueRuns(this.clock.now(), DEFAULT_BATCH);
      for (const runId of due) {
        const run = await this.store.get(runId);
        if (!run || run.status !== "suspended") continue;
        if (await this.cancelIfOverPolicy(run)) continue;
        await this.store.markResumed(runId, run.suspensionData ?? undefined);
        signals.workflowRunResumed.emit({
          runId,
          workflow: run.workflow,
          status: "running",
          step: run.currentStep ?? undefined,
          metadata: { reason: "due", type: run.suspensionData?.type ?? null },
        });
        await this.continueRun(run, "due");
        resumed.push(runId);
      }
      if (due.length < DEFAULT_BATCH) break;
    }
    const staleBefore = this.clock.now() - this.recoverAfterMs;
    for (const run of await this.store.listRunnableRuns({ limit: DEFAULT_BATCH })) {
      if (run.updatedAt > staleBefore) break;
      logger.warn(
        `workflow run ${run.id} (${run.workflow}) was idle for ${this.recoverAfterMs} ms; enqueueing it again`,
      );
      await this.store.markRunning(run.id);
      await this.continueRun(run, "recovery");
    }
    return resumed;
  }
}

/**
 * Renews a run lease while it executes; `signal` fires and `lost` turns true when renewal
 * fails or the execution is abandoned.
 */
class LeaseKeeper {
  lost = false;
  private readonly abort = new AbortController();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(store: WorkflowStore, runId: string, owner: string, leaseMs: number) {
    this.timer = setInterval(
      async () => {
        try {
          if (!(await store.renewRunLease(runId, owner, leaseMs)))
            this.markLost(`the lease on run ${runId} was taken over`);
        } catch (error) {
          logger.warn(
            `workflow run ${runId}: renewing its lease failed: ${(error as Error).message}`,
          );
        }
      },
      Math.max(50, Math.floor(leaseMs / 3)),
    );
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  private markLost(message: string): void {
    if (this.lost) return;
    this.lost = true;
    logger.warn(message);
    this.abort.abort(new StemError("conflict", message));
  }

  /** This execution stops owning the run: no more renewals, and no more writes. */
  abandon(message: string): void {
    this.stop();
    this.markLost(message);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
