/**
 * How each WorkflowStore operation changes a stored run, as pure functions every adapter
 * shares: the adapter reads the run under its own atomicity (a transaction, a lock, a
 * single-threaded map), applies the transition, and writes the result back.
 */
import type {
  CreateWorkflowRun,
  WorkflowRun,
  WorkflowStatus,
  WorkflowWatcher,
  WorkflowWatcherResolution,
} from "../adapters/contracts.ts";
import { StemError, WorkflowFenceError } from "../core/errors.ts";
import { uuidv7 } from "../core/uuid.ts";

/** A run plus the store-internal due time (its score in the due set; null = not due). */
export interface StoredRun {
  run: WorkflowRun;
  dueAt: number | null;
}

/** How long a run taken by `dueRuns` stays hidden before it is offered again. */
export const DUE_REDELIVERY_MS = 60_000;
/** Default page size of `listRuns`. */
export const DEFAULT_RUN_LIST_LIMIT = 50;
/** Default batch of `dueRuns` and `resolveWatchers`. */
export const DEFAULT_BATCH = 256;

const FINISHED = new Set<WorkflowStatus>(["completed", "failed", "cancelled"]);

/** Completed, failed or cancelled: nothing will run again (unless rewound). */
export function isFinished(status: WorkflowStatus): boolean {
  return FINISHED.has(status);
}

/** A copy through JSON, as every store keeps values: what it returns is what SQL would. */
export function jsonCopy<T>(value: T): T {
  return value === undefined ? (null as T) : (JSON.parse(JSON.stringify(value)) as T);
}

export function runNotFound(runId: string): StemError {
  return new StemError("not_found", `workflow run ${runId} not found`);
}

export function duplicateRun(runId: string): StemError {
  return new StemError("conflict", `a workflow run with id ${runId} already exists`);
}

/** A fresh run: status running, cursor 0. */
export function newRun(input: CreateWorkflowRun, now: number): StoredRun {
  if (typeof input.workflow !== "string" || input.workflow.length === 0) {
    throw new StemError("invalid_argument", "a workflow run needs a workflow name");
  }
  return {
    dueAt: null,
    run: {
      id: input.runId ?? uuidv7(),
      workflow: input.workflow,
      status: "running",
      cursor: 0,
      params: jsonCopy(input.params ?? {}),
      parentRunId: input.parentRunId ?? null,
      createdAt: now,
      updatedAt: now,
      result: null,
      currentStep: null,
      waitTopic: null,
      resumeAt: null,
      lastError: null,
      suspensionData: null,
      ownerId: null,
      leaseExpiresAt: null,
      fencingToken: 0,
      cancellationPolicy: input.cancellationPolicy ? jsonCopy(input.cancellationPolicy) : null,
      cancellationData: null,
    },
  };
}

/** Applies `change` unless the run is finished; returns whether it applied. */
function live(stored: StoredRun, now: number, change: (run: WorkflowRun) => void): boolean {
  if (isFinished(stored.run.status)) return false;
  change(stored.run);
  stored.run.updatedAt = now;
  return true;
}

function clearWaits(stored: StoredRun): void {
  stored.run.waitTopic = null;
  stored.run.resumeAt = null;
  stored.dueAt = null;
}

export function markRunning(stored: StoredRun, now: number, stepName?: string): boolean {
  return live(stored, now, (run) => {
    run.status = "running";
    if (stepName !== undefined) run.currentStep = stepName;
  });
}

/** A checkpoint was saved: the cursor moves and updatedAt is bumped (even on a finished run). */
export function checkpointSaved(stored: StoredRun, cursor: number, now: number): void {
  stored.run.cursor = cursor;
  stored.run.updatedAt = now;
}

export function markCompleted(stored: StoredRun, result: unknown, now: number): boolean {
  return live(stored, now, (run) => {
    run.status = "completed";
    run.result = jsonCopy(result);
    run.suspensionData = {};
    run.ownerId = null;
    run.leaseExpiresAt = null;
    clearWaits(stored);
  });
}

export function markFailed(
  stored: StoredRun,
  error: { message: string; type?: string; stack?: string },
  terminal: boolean,
  now: number,
): boolean {
  return live(stored, now, (run) => {
    run.lastError = {
      error: error.message,
      type: error.type ?? "Error",
      stack: error.stack ?? null,
      at: now,
      terminal,
    };
    if (terminal) {
      run.status = "failed";
      run.ownerId = null;
      run.leaseExpiresAt = null;
      clearWaits(stored);
    }
  });
}

export function markResumed(
  stored: StoredRun,
  data: Record<string, unknown> | undefined,
  now: number,
): boolean {
  return live(stored, now, (run) => {
    run.status = "running";
    if (data !== undefined) run.suspensionData = jsonCopy(data);
    clearWaits(stored);
  });
}

export function suspendUntil(
  stored: StoredRun,
  step: string,
  resumeAt: number,
  data: Record<string, unknown> | undefined,
  now: number,
): boolean {
  return live(stored, now, (run) => {
    run.status = "suspended";
    run.currentStep = step;
    run.waitTopic = null;
    run.resumeAt = resumeAt;
    run.suspensionData = { ...jsonCopy(data ?? {}), resumeAt };
    stored.dueAt = resumeAt;
  });
}

export function suspendOnTopic(
  stored: StoredRun,
  step: string,
  topic: string,
  deadline: number | undefined,
  data: Record<string, unknown> | undefined,
  now: number,
): boolean {
  if (typeof topic !== "string" || topic.length === 0) {
    throw new StemError("invalid_argument", "an event topic must be a non-empty string");
  }
  return live(stored, now, (run) => {
    run.status = "suspended";
    run.currentStep = step;
    run.waitTopic = topic;
    run.resumeAt = deadline ?? null;
    run.suspensionData = jsonCopy(data ?? {});
    stored.dueAt = deadline ?? null;
  });
}

/** The watcher a topic suspension registers. */
export function watcherFor(
  runId: string,
  step: string,
  topic: string,
  deadline: number | undefined,
  data: Record<string, unknown> | undefined,
  now: number,
): WorkflowWatcher {
  return {
    runId,
    stepName: step,
    topic,
    data: jsonCopy(data ?? {}),
    createdAt: now,
    deadline: deadline ?? null,
  };
}

/** What a run resolved by an event resumes with: the watcher's data plus the delivery. */
export function resumeDataFor(
  watcher: WorkflowWatcher,
  payload: unknown,
  now: number,
): Record<string, unknown> {
  return { ...watcher.data, payload: jsonCopy(payload), topic: watcher.topic, deliveredAt: now };
}

/**
 * Resolves a watcher with an event's payload: the run resumes with the watcher's data plus
 * the delivery. Null (nothing changed) when the run is finished.
 */
export function resolveWatcher(
  stored: StoredRun,
  watcher: WorkflowWatcher,
  payload: unknown,
  now: number,
): WorkflowWatcherResolution | null {
  const resumeData = resumeDataFor(watcher, payload, now);
  if (!markResumed(stored, resumeData, now)) return null;
  return {
    runId: watcher.runId,
    stepName: watcher.stepName,
    topic: watcher.topic,
    resumeData: jsonCopy(resumeData),
  };
}

/** An event kept for runs that wait on its topic later (`resolveWatchers` with `retainFor`). */
export interface KeptEvent {
  payload: unknown;
  /** It is dropped from this time on. */
  expiresAt: number;
}

/** Still deliverable at `now`. */
export function isKept(event: KeptEvent, now: number): boolean {
  return event.expiresAt > now;
}

export function cancel(
  stored: StoredRun,
  reason: string | undefined,
  details: Record<string, unknown> | undefined,
  now: number,
): boolean {
  return live(stored, now, (run) => {
    run.status = "cancelled";
    run.cancellationData = {
      ...jsonCopy(details ?? {}),
      reason: reason ?? "cancelled",
      cancelledAt: now,
    };
    run.ownerId = null;
    run.leaseExpiresAt = null;
    clearWaits(stored);
  });
}

/** Back to `step`: suspended at it, iteration 0, with everything it produced cleared. */
export function rewound(stored: StoredRun, step: string, cursor: number, now: number): void {
  const run = stored.run;
  run.status = "suspended";
  run.cursor = cursor;
  run.currentStep = step;
  run.result = null;
  run.lastError = null;
  run.cancellationData = null;
  run.suspensionData = { step, iteration: 0, iterationStep: step };
  run.updatedAt = now;
  clearWaits(stored);
}

/** Taken by `dueRuns`: hidden from the due set for the redelivery window. */
export function takenAsDue(stored: StoredRun, now: number): void {
  stored.dueAt = now + DUE_REDELIVERY_MS;
}

/** Due at `now`: suspended with a due time that has come. */
export function isDue(stored: StoredRun, now: number): boolean {
  return stored.run.status === "suspended" && stored.dueAt !== null && stored.dueAt <= now;
}

function leaseLive(run: WorkflowRun, now: number): boolean {
  return run.ownerId !== null && run.leaseExpiresAt !== null && run.leaseExpiresAt > now;
}

/** Running with no live lease: a worker may pick it up. */
export function isRunnable(run: WorkflowRun, now: number): boolean {
  return run.status === "running" && !leaseLive(run, now);
}

/** Refuses a write fenced with a claim older than the run's latest (WorkflowFenceError). */
export function checkFence(run: WorkflowRun, fence: number | undefined): void {
  if (fence !== undefined && fence !== run.fencingToken)
    throw new WorkflowFenceError(run.id, fence, run.fencingToken);
}

/**
 * Claims the run's lease for `ownerId`; returns the claim's fencing token, or null when
 * another owner holds a live lease or the run is finished. A repeat by the holder keeps
 * its token.
 */
export function claim(
  stored: StoredRun,
  ownerId: string,
  leaseMs: number,
  now: number,
): number | null {
  const run = stored.run;
  if (isFinished(run.status)) return null;
  const held = leaseLive(run, now);
  if (held && run.ownerId !== ownerId) return null;
  if (!held || run.ownerId !== ownerId) run.fencingToken = (run.fencingToken ?? 0) + 1;
  run.ownerId = ownerId;
  run.leaseExpiresAt = now + leaseMs;
  return run.fencingToken;
}

/** Whether `ownerId` (and, when given, the claim `fence`) holds the run. */
function holds(run: WorkflowRun, ownerId: string, fence: number | undefined): boolean {
  return run.ownerId === ownerId && (fence === undefined || fence === run.fencingToken);
}

export function renew(
  stored: StoredRun,
  ownerId: string,
  leaseMs: number,
  now: number,
  fence?: number,
): boolean {
  const run = stored.run;
  if (!holds(run, ownerId, fence) || !leaseLive(run, now)) return false;
  run.leaseExpiresAt = now + leaseMs;
  return true;
}

export function release(stored: StoredRun, ownerId: string, fence?: number): boolean {
  const run = stored.run;
  if (!holds(run, ownerId, fence)) return false;
  run.ownerId = null;
  run.leaseExpiresAt = null;
  return true;
}

/** Finished and last updated before `before`: `pruneRuns` deletes it. */
export function isPrunable(run: WorkflowRun, before: number): boolean {
  return isFinished(run.status) && run.updatedAt < before;
}

/** Default batch of `pruneRuns`. */
export const DEFAULT_PRUNE_BATCH = 1000;
