/** What workflow authors write against: step contexts, handlers and start options. */
import type { DurationInput } from "../core/duration.ts";
import type { EnqueueOptions } from "../core/enqueue-options.ts";

/**
 * What a step handler sees. `sleep()` and `awaitEvent()` suspend the run: on the pass that
 * suspends, the promise they return rejects with an internal interrupt that ends the
 * handler (let it propagate). The step runs again from the top when the run resumes;
 * then the same call returns (the sleep is over, or the event's payload arrives).
 */
export interface WorkflowStepContext<Params = Record<string, unknown>> {
  readonly workflow: string;
  readonly runId: string;
  readonly stepName: string;
  /** The params the run was started with. */
  readonly params: Params;
  /** The persisted result of the step before this one (undefined for the first). */
  readonly previousResult: unknown;
  /** For `autoVersion` steps: which repetition this is (0, 1, ...); 0 otherwise. */
  readonly iteration: number;
  /** Position of this step call in the run, from 0. */
  readonly stepIndex: number;
  /** Fires when the worker loses the run's lease or shuts down. */
  readonly signal: AbortSignal;
  /**
   * Suspends the run for `duration` (its wake time is stored). When the step runs again
   * after the wake time, the first `sleep` call returns at once: it is the same sleep,
   * already over, so a handler can simply `await step.sleep(...)` and carry on. A handler
   * that took the resume data handles the wake-up itself, and its next `sleep` suspends
   * again (the polling pattern). `takeResumeData()` gives `data` (or `true`) on resume.
   */
  sleep(duration: DurationInput, options?: { data?: unknown }): Promise<void>;
  /**
   * Waits for an event on `topic`: suspends the run until `emit(topic, payload)` (only
   * events emitted while the run waits count), then resolves with the payload. After
   * `timeout` without an event the run resumes and this rejects with
   * WorkflowEventTimeoutError.
   */
  awaitEvent<T = unknown>(
    topic: string,
    options?: { timeout?: DurationInput; data?: Record<string, unknown> },
  ): Promise<T>;
  /**
   * The payload this step was resumed with, once: `true` (or the sleep's data) after a
   * sleep, the event's payload after an event; undefined on a fresh run.
   */
  takeResumeData<T = unknown>(): T | undefined;
  /**
   * A stable identifier for outbound calls: `<workflow>/<runId>/<scope>`, where the scope
   * defaults to the step name (with `#<iteration>` after the first iteration).
   */
  idempotencyKey(scope?: string): string;
  /** Enqueues a task from the step (use `idempotencyKey` to make it safe to repeat). */
  enqueue(name: string, args?: Record<string, unknown>, options?: EnqueueOptions): Promise<string>;
}

/** A step's body. Returning null or undefined means "not done": it runs again on resume. */
export type WorkflowStepHandler<T = unknown, Params = Record<string, unknown>> = (
  step: WorkflowStepContext<Params>,
) => T | Promise<T>;

export interface WorkflowStepOptions {
  /**
   * Checkpoint each completion separately (`name#0`, `name#1`, ...) so the step can run
   * several times in one run; the handler sees the repetition as `step.iteration`.
   */
  autoVersion?: boolean;
}

/** What a WorkflowScript body receives. */
export interface WorkflowScriptContext<Params = Record<string, unknown>> {
  readonly workflow: string;
  readonly runId: string;
  readonly params: Params;
  /**
   * Runs a step, or returns its checkpointed result when it already completed. The script
   * is replayed from the top after every suspension, so code between steps must be
   * deterministic and cheap.
   */
  step<T>(
    name: string,
    handler: WorkflowStepHandler<T, Params>,
    options?: WorkflowStepOptions,
  ): Promise<T>;
}

/** Limits after which a run is cancelled automatically. */
export interface WorkflowCancellationPolicyInput {
  /** Cancel the run once it has existed this long. */
  maxRunDuration?: DurationInput;
  /** Cancel the run once it has been suspended this long. */
  maxSuspendDuration?: DurationInput;
}

export interface StartWorkflowOptions {
  params?: Record<string, unknown>;
  cancellationPolicy?: WorkflowCancellationPolicyInput;
  /** Caller-chosen run id (a duplicate is refused). */
  runId?: string;
  parentRunId?: string;
  /** Queue for this run's tasks (default: the runtime's queue). */
  queue?: string;
}

/** Why a `stem.workflow.run` task was enqueued. */
export type WorkflowContinuationReason =
  | "start"
  | "due"
  | "event"
  | "manual"
  | "recovery"
  | "deferred";
