/**
 * The workflow store's interface and the records it keeps (re-exported by contracts.ts).
 *
 * Times are epoch milliseconds throughout.
 */

// ---------------------------------------------------------------------------------------
// Workflows

/** Where a workflow run is in its life. */
export type WorkflowStatus = "running" | "suspended" | "completed" | "failed" | "cancelled";

/** Limits after which a run is cancelled automatically (ms). */
export interface WorkflowCancellationPolicy {
  /** Cancel a run that has existed this long, whatever it is doing. */
  maxRunDuration?: number;
  /** Cancel a run that has stayed suspended (sleeping or waiting for an event) this long. */
  maxSuspendDuration?: number;
}

/** One durable workflow run as the store keeps it. Absent values are null. */
export interface WorkflowRun {
  id: string;
  workflow: string;
  status: WorkflowStatus;
  /** Number of distinct steps checkpointed (`step#0`, `step#1` count as one step). */
  cursor: number;
  /** The caller's params plus runtime metadata under `__stem.workflow.*` keys. */
  params: Record<string, unknown>;
  parentRunId: string | null;
  createdAt: number;
  /** Bumped by every change, including each saved checkpoint. */
  updatedAt: number;
  /** The final result once completed. */
  result: unknown;
  /** The step last marked running. */
  currentStep: string | null;
  /** The topic a suspended run waits on. */
  waitTopic: string | null;
  /** When a sleeping run (or an event wait with a deadline) becomes due. */
  resumeAt: number | null;
  /** The last step failure: `{ error, type, stack, at, terminal }`. */
  lastError: Record<string, unknown> | null;
  /**
   * While suspended, what the suspension recorded (`type`, `step`, `iteration`,
   * `resumeAt`, `topic`, ...); once resumed, the same with the resume `payload`.
   * An empty object once completed.
   */
  suspensionData: Record<string, unknown> | null;
  /** The execution holding the run's lease (one id per execution, not per worker). */
  ownerId: string | null;
  leaseExpiresAt: number | null;
  /**
   * The fencing token of the latest claim: each claim by a new owner takes the next number
   * (from 1; 0 = never claimed). Writes fenced with an older token are refused.
   */
  fencingToken: number;
  cancellationPolicy: WorkflowCancellationPolicy | null;
  /** Why the run was cancelled: `{ reason, cancelledAt, ... }`. */
  cancellationData: Record<string, unknown> | null;
}

/** What `createRun` takes. */
export interface CreateWorkflowRun {
  workflow: string;
  params?: Record<string, unknown>;
  /** Caller-chosen id (default: a new UUID v7). A duplicate is refused. */
  runId?: string;
  parentRunId?: string;
  cancellationPolicy?: WorkflowCancellationPolicy;
}

/** A saved checkpoint. */
export interface WorkflowStepEntry {
  /** Checkpoint name: the step name, with `#<iteration>` for auto-versioned steps. */
  name: string;
  value: unknown;
  /** Insertion order within the run, from 0. */
  position: number;
  completedAt: number;
}

/** A run suspended until an event on `topic` arrives. */
export interface WorkflowWatcher {
  runId: string;
  stepName: string;
  topic: string;
  /** The suspension data recorded with the watcher. */
  data: Record<string, unknown>;
  createdAt: number;
  /** When the wait times out (the run is then due), or null. */
  deadline: number | null;
}

/** A watcher resolved by an event: the run is resumed with `resumeData`. */
export interface WorkflowWatcherResolution {
  runId: string;
  stepName: string;
  topic: string;
  /** The watcher's data plus `payload`, `topic` and `deliveredAt`. */
  resumeData: Record<string, unknown>;
}

/**
 * Fences a write to the execution that makes it: `fence` is the token its `claimRun`
 * returned. A fenced write is refused with WorkflowFenceError (nothing changed) when the
 * run has been claimed since; without `fence` the write is not fenced.
 */
export interface WorkflowFence {
  fence?: number;
}

export interface WorkflowRunQuery {
  workflow?: string;
  status?: WorkflowStatus;
  /** Default 50. */
  limit?: number;
  offset?: number;
}

/**
 * Durable state of workflow runs: the runs, their checkpoints, suspensions (sleeps and
 * event watchers) and execution leases. Times come from the store's clock. Operations
 * that change a run do nothing to a run that is completed, failed or cancelled (except
 * `rewindToStep`, which revives it), and throw StemError("not_found") for an unknown run.
 */
export interface WorkflowStore {
  /** Creates a run with status `running` and cursor 0; returns its id. A duplicate `runId` throws StemError("conflict"). */
  createRun(run: CreateWorkflowRun): Promise<string>;
  /** Null when unknown. */
  get(runId: string): Promise<WorkflowRun | null>;
  /** Newest first. */
  listRuns(query?: WorkflowRunQuery): Promise<WorkflowRun[]>;
  /** Running runs that no one holds a live lease on, oldest update first. */
  listRunnableRuns(options?: { limit?: number; offset?: number }): Promise<WorkflowRun[]>;

  /** A checkpoint's value; undefined when there is none. */
  readStep(runId: string, step: string): Promise<unknown>;
  /** Saves (or overwrites) a checkpoint and bumps the run's `updatedAt` and cursor, atomically. */
  saveStep(runId: string, step: string, value: unknown, options?: WorkflowFence): Promise<void>;
  /** Checkpoints in insertion order. */
  listSteps(runId: string): Promise<WorkflowStepEntry[]>;
  /**
   * Deletes the checkpoint of `step` (every `step#n`) and every later one, sets the cursor
   * to the step's index and suspends the run with suspensionData
   * `{ step, iteration: 0, iterationStep: step }` (clearing its result, error, waits and
   * cancellation) so it can be resumed from there. StemError("not_found") when the run has
   * no checkpoint for `step`.
   */
  rewindToStep(runId: string, step: string): Promise<void>;

  /** Suspends the run until `resumeAt`; it is then returned by `dueRuns`. */
  suspendUntil(
    runId: string,
    step: string,
    resumeAt: number,
    data?: Record<string, unknown>,
    options?: WorkflowFence,
  ): Promise<void>;
  /**
   * Atomically suspends the run waiting on `topic` and registers its watcher (one per run;
   * a new one replaces the old). With a deadline the run is also due then. When an event
   * kept by `resolveWatchers` (`retainFor`) is waiting on the topic, the oldest one is
   * taken (and deleted) in the same step and resolves the new watcher at once: the run is
   * resumed as by `resolveWatchers`, and its resolution is returned (null otherwise).
   */
  suspendOnTopic(
    runId: string,
    step: string,
    topic: string,
    options?: { deadline?: number; data?: Record<string, unknown> } & WorkflowFence,
  ): Promise<WorkflowWatcherResolution | null>;
  /**
   * Atomically takes up to `limit` (default 256) watchers of `topic`, oldest first, and
   * resumes their runs (status running, suspensionData = resumeData): each waiting run is
   * resolved by exactly one caller, however many emit at once. With `retainFor` (ms), an
   * event that resolves no watcher is kept that long, in the same atomic step, for the next
   * run to wait on the topic (`suspendOnTopic`); each kept event resumes one run, oldest first.
   */
  resolveWatchers(
    topic: string,
    payload: unknown,
    options?: { limit?: number; retainFor?: number },
  ): Promise<WorkflowWatcherResolution[]>;
  /** Watchers of `topic`, oldest first. */
  listWatchers(topic: string): Promise<WorkflowWatcher[]>;
  /** Ids of suspended runs waiting on `topic`. */
  runsWaitingOn(topic: string): Promise<string[]>;
  /**
   * Takes up to `limit` (default 256) suspended runs due at `now` (resumeAt or watcher
   * deadline <= now), earliest first, and drops their watchers so a late event cannot
   * resume them twice. A taken run is not returned again for a redelivery window (one
   * minute): resume or cancel it meanwhile; if its taker died, it comes back after that.
   */
  dueRuns(now: number, limit?: number): Promise<string[]>;

  /** Status running, recording the step being executed; bumps updatedAt. */
  markRunning(runId: string, options?: { stepName?: string } & WorkflowFence): Promise<void>;
  /** Status completed with the result; suspension data becomes `{}`; lease and waits cleared. */
  markCompleted(runId: string, result: unknown, options?: WorkflowFence): Promise<void>;
  /**
   * Records `lastError`. Non-terminal: the run stays running (it will be retried).
   * Terminal: status failed.
   */
  markFailed(
    runId: string,
    error: { message: string; type?: string; stack?: string },
    options?: { terminal?: boolean } & WorkflowFence,
  ): Promise<void>;
  /** Status running, waits cleared; `data` (when given) becomes the suspension data to resume with. */
  markResumed(runId: string, data?: Record<string, unknown>): Promise<void>;
  /**
   * Status cancelled with cancellationData `{ reason, cancelledAt, ...details }`; waits and
   * lease cleared. False when the run is already finished.
   */
  cancel(runId: string, reason?: string, details?: Record<string, unknown>): Promise<boolean>;

  /**
   * Takes the run's execution lease for one execution (`ownerId` names that execution)
   * when it is free or expired, and returns the claim's fencing token (the run's previous
   * token + 1), which the execution passes as `fence` to its writes. A repeat by the
   * holder (a retried call) extends the lease and returns the same token. Null when
   * another owner holds a live lease or the run is finished.
   */
  claimRun(runId: string, ownerId: string, leaseMs: number): Promise<number | null>;
  /** Extends the lease; false when `ownerId` (with `fence`, that claim) no longer holds it. */
  renewRunLease(
    runId: string,
    ownerId: string,
    leaseMs: number,
    options?: WorkflowFence,
  ): Promise<boolean>;
  /** Gives the lease up; a no-op unless `ownerId` (with `fence`, that claim) holds it. */
  releaseRun(runId: string, ownerId: string, options?: WorkflowFence): Promise<void>;
  /**
   * Deletes completed, failed and cancelled runs last updated before `before` (epoch ms),
   * with their checkpoints, oldest update first, up to `limit` (default 1000) per call, and drops kept events
   * whose time has passed; returns how many runs it deleted. With `dryRun` it deletes
   * nothing and returns how many runs it would delete (all of them, ignoring `limit`).
   */
  pruneRuns(before: number, options?: { limit?: number; dryRun?: boolean }): Promise<number>;
  close(): Promise<void>;
}
