/** What workflow authors write against: step contexts, handlers and start options. */
import type { DurationInput } from "../core/duration.ts";
import type { EnqueueOptions } from "../core/enqueue-options.ts";

/**
 * What a step handler sees. `sleep()` and `awaitEvent()` record a suspension: return
 * right after calling them (the value returned then is discarded) and the run suspends
 * once the handler returns. The step runs again from the top when the run resumes.
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
   * Suspends the run for `duration`; on resume `takeResumeData()` returns `data` (or
   * `true`). When the step runs again after the wake time and calls `sleep` without having
   * taken the resume data, the sleep is over and it does not suspend again, so a handler
   * can simply call `sleep` with no guard. A handler that took the resume data (the
   * polling pattern) gets a new sleep each time it calls it.
   */
  sleep(duration: DurationInput, options?: { data?: unknown }): Promise<void>;
  /**
   * Waits for an event on `topic`. The first call records the wait and resolves
   * undefined (return then). When the run was resumed by that event, it resolves the
   * payload without waiting again. After `timeout` without an event the run resumes and
   * this throws WorkflowEventTimeoutError.
   */
  awaitEvent<T = unknown>(
    topic: string,
    options?: { timeout?: DurationInput; data?: Record<string, unknown> },
  ): Promise<T | undefined>;
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
