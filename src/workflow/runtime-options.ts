/** What a WorkflowRuntime is made with, and what its operations report. */
import type {
  WorkflowRun,
  WorkflowStepEntry,
  WorkflowStore,
  WorkflowWatcher,
} from "../adapters/contracts.ts";
import type { Clock } from "../core/clock.ts";
import type { DurationInput } from "../core/duration.ts";
import type { EnqueueOptions } from "../core/enqueue-options.ts";
import type { RetryBackoff } from "../core/retry.ts";
import type { AnyWorkflowDefinition } from "./definition.ts";

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
  /** Identifies this runtime; its executions claim runs as `<runtimeId>/<n>`. */
  runtimeId?: string;
  /**
   * How long an event that finds no run waiting on its topic is kept for the next run to
   * wait on it. Default 24 h; 0 keeps none.
   */
  eventRetention?: DurationInput;
  /**
   * Finished (completed, failed, cancelled) runs not updated for this long are deleted by
   * the sweep. Default 7 days; 0 keeps them forever.
   */
  runRetention?: DurationInput;
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
