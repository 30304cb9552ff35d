/**
 * The workflow runtime: starts runs, executes them on workers (through the internal
 * `stem.workflow.run` task, under a run lease), resumes them when they are due or an
 * event arrives, and cancels and rewinds them. Producers and workers each make one on
 * the same stores; only workers execute runs.
 */
import type {
  WorkflowRun,
  WorkflowRunQuery,
  WorkflowStore,
  WorkflowWatcher,
} from "../adapters/contracts.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { type DurationInput, parseDuration } from "../core/duration.ts";
import { StemError, TimeoutError, WorkflowFenceError } from "../core/errors.ts";
import { logger } from "../core/logger.ts";
import type { RetryBackoff } from "../core/retry.ts";
import { signals } from "../core/signals.ts";
import type { TaskHandler } from "../core/task.ts";
import { type AnyWorkflowDefinition, WorkflowRegistry } from "./definition.ts";
import { ScriptExecution } from "./execution.ts";
import { LeaseKeeper, type RunClaim } from "./lease-keeper.ts";
import { policyViolation, resolvePolicy } from "./policy.ts";
import { paramsWithMetadata, runtimeMetadataOf } from "./run-metadata.ts";
import {
  WORKFLOW_RUN_TASK,
  WorkflowMetaKeys,
  type WorkflowRunTaskArgs,
  type WorkflowRunTaskResult,
  workflowRunTask,
} from "./run-task.ts";
import { DEFAULT_BATCH, DEFAULT_PRUNE_BATCH, isFinished } from "./run-transitions.ts";
import type {
  ExecuteOutcome,
  WorkflowEnqueuer,
  WorkflowRunDetail,
  WorkflowRuntimeOptions,
} from "./runtime-options.ts";
import { recordStepFailure } from "./step-failure.ts";
import type { StartWorkflowOptions, WorkflowContinuationReason } from "./types.ts";

export type {
  ExecuteOutcome,
  WorkflowEnqueuer,
  WorkflowRunDetail,
  WorkflowRuntimeOptions,
} from "./runtime-options.ts";

import { uuidv7 } from "../core/uuid.ts";

/** How often, at most, a sweep prunes finished runs. */
const PRUNE_INTERVAL_MS = 10 * 60_000;

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
  readonly eventRetentionMs: number;
  readonly runRetentionMs: number;
  private readonly stem: WorkflowEnqueuer;
  private lastPruneAt = Number.NEGATIVE_INFINITY;
  /** Executions started by this runtime, numbering their owner ids. */
  private executions = 0;

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
    this.eventRetentionMs = parseDuration(options.eventRetention ?? "24h", "eventRetention");
    this.runRetentionMs = parseDuration(options.runRetention ?? "7d", "runRetention");
    this.runtimeId = options.runtimeId ?? `${process.pid}.${uuidv7().slice(-12)}.${++runtimes}`;
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
   * `payload` (however many processes emit at once). An event that finds no run waiting is
   * kept for `eventRetention` (24 h by default): the next run to wait on the topic within
   * that time receives it at once, and it is then gone (each kept event resumes one run;
   * several are received oldest first, one per wait). Returns the ids of the runs resumed now.
   */
  async emit(topic: string, payload: unknown = null): Promise<string[]> {
    if (typeof topic !== "string" || topic.length === 0) {
      throw new StemError("invalid_argument", "an event topic must be a non-empty string");
    }
    const resumed: string[] = [];
    for (let batch = 0; ; batch++) {
      const resolutions = await this.store.resolveWatchers(topic, payload, {
        limit: DEFAULT_BATCH,
        // Only the first batch may keep the event: later ones follow runs it resumed.
        retainFor: batch === 0 ? this.eventRetentionMs : 0,
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
      await systemClock.sleep(Math.min(pause, left));
      pause = Math.min(pause * 2, 100);
    }
  }

  /**
   * Executes a run until it completes, suspends or fails, under a claim of its own (a
   * lease renewed meanwhile and a fencing token on every write): another execution of the
   * same run, on this worker or another, finds it busy. `attempt` (the run task's attempt
   * number, from 1) and `maxRetries` decide whether a failing step is retried (the error is
   * thrown so the task is retried) or fails the run.
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
    // One owner id per execution, so two deliveries of a run on one worker exclude each other.
    const ownerId = `${this.runtimeId}/${++this.executions}`;
    const fence = await this.store.claimRun(runId, ownerId, this.runLeaseMs);
    if (fence === null) return "busy";
    const claim: RunClaim = { runId, ownerId, fence };
    const lease = new LeaseKeeper(this.store, claim, this.runLeaseMs);
    // The worker gave the task up (shutdown, lost task lease, revoke, hard time limit): its
    // redelivery runs the run again, so this execution must stop writing.
    const onAbort = () => {
      const reason = options.signal?.reason as { kind?: string } | undefined;
      if (reason?.kind !== "soft-time-limit")
        lease.abandon(`the worker stopped the task executing run ${runId}`);
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      return await this.executeClaimed(claim, definition, lease, options);
    } catch (error) {
      if (!(error instanceof WorkflowFenceError)) throw error;
      logger.info(`workflow run ${runId}: execution ${ownerId} stopped: ${error.message}`);
      return "lease-lost";
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
      lease.stop();
      await this.store.releaseRun(runId, ownerId, { fence }).catch((error) => {
        logger.warn(
          `workflow run ${runId}: releasing its lease failed: ${(error as Error).message}`,
        );
      });
    }
  }

  /** The body of `executeRun` once the run is claimed; store writes carry the claim's fence. */
  private async executeClaimed(
    claim: RunClaim,
    definition: AnyWorkflowDefinition,
    lease: LeaseKeeper,
    options: { signal?: AbortSignal; attempt?: number; maxRetries?: number },
  ): Promise<ExecuteOutcome> {
    const { runId, fence } = claim;
    for (;;) {
      const run = await this.store.get(runId);
      if (!run || run.status !== "running")
        return run && isFinished(run.status) ? "finished" : "not-runnable";
      if (await this.cancelIfOverPolicy({ ...run, suspensionData: null })) return "cancelled";
      const execution = new ScriptExecution({
        store: this.store,
        clock: this.clock,
        run,
        fence,
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
        return await this.stepFailed(run, error, options, lease, fence);
      }
      // An event kept for the topic resumed the run as it suspended: replay it at once.
      if (end.kind === "resumed") continue;
      if (end.kind !== "completed") return end.kind;
      if (lease.lost) return "lease-lost";
      await this.store.markCompleted(runId, end.result, { fence });
      // Cancelled while its last step ran: the store kept it cancelled.
      if ((await this.store.get(runId))?.status !== "completed") return "cancelled";
      signals.workflowRunCompleted.emit({
        runId,
        workflow: run.workflow,
        status: "completed",
        metadata: { result: end.result },
      });
      return "completed";
    }
  }

  /** A failing step: retried (rethrown) or the run fails; nothing once the claim is lost. */
  private async stepFailed(
    run: WorkflowRun,
    thrown: unknown,
    options: { attempt?: number; maxRetries?: number },
    lease: LeaseKeeper | null,
    fence?: number,
  ): Promise<ExecuteOutcome> {
    if (lease?.lost) return "lease-lost";
    return recordStepFailure(this.store, run, thrown, {
      attempt: options.attempt ?? 1,
      maxRetries: options.maxRetries ?? this.maxRetries,
      fence,
    });
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
   * Deletes finished (completed, failed, cancelled) runs not updated for `olderThan`, with
   * their checkpoints; returns how many. With `dryRun`, deletes nothing and returns how
   * many it would delete.
   */
  async pruneRuns(olderThan: DurationInput, options: { dryRun?: boolean } = {}): Promise<number> {
    const before = this.clock.now() - parseDuration(olderThan, "olderThan");
    if (options.dryRun) return this.store.pruneRuns(before, { dryRun: true });
    let total = 0;
    for (;;) {
      const deleted = await this.store.pruneRuns(before, { limit: DEFAULT_PRUNE_BATCH });
      total += deleted;
      if (deleted < DEFAULT_PRUNE_BATCH) return total;
    }
  }

  /**
   * One sweep: resumes runs that are due (wake time or event deadline reached), cancels
   * those past their policy, and re-enqueues running runs that nothing has touched for
   * `recoverAfter` (their task was lost before it was published), and (at most every ten
   * minutes) prunes finished runs older than `runRetention`. Returns the runs resumed.
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
    // Last, so a failing prune never holds up resuming and recovering runs.
    if (this.runRetentionMs > 0 && this.clock.now() - this.lastPruneAt >= PRUNE_INTERVAL_MS) {
      this.lastPruneAt = this.clock.now();
      const pruned = await this.pruneRuns(this.runRetentionMs);
      if (pruned > 0) logger.info(`pruned ${pruned} finished workflow run(s)`);
    }
    return resumed;
  }
}
