import { logger } from "./logger.ts";
import type { Envelope } from "./envelope.ts";
import type { TaskError } from "./states.ts";

type Listener<T> = (payload: T) => void | Promise<void>;

/**
 * A named event with a typed payload. Listeners run in connection order; a listener that
 * throws (or rejects) is logged and ignored, so it never breaks task processing.
 */
export class Signal<T> {
  private listeners: Listener<T>[] = [];
  constructor(readonly name: string) {}

  /** Adds a listener; returns a function that removes it. */
  connect(listener: Listener<T>): () => void {
    this.listeners = [...this.listeners, listener];
    return () => this.disconnect(listener);
  }

  disconnect(listener: Listener<T>): void {
    this.listeners = this.listeners.filter((l) => l !== listener);
  }

  get hasListeners(): boolean {
    return this.listeners.length > 0;
  }

  /** Calls every listener; never throws. */
  emit(payload: T): void {
    for (const listener of this.listeners) {
      try {
        const result = listener(payload);
        if (result instanceof Promise) result.catch((error) => this.report(error));
      } catch (error) {
        this.report(error);
      }
    }
  }

  private report(error: unknown): void {
    logger.warn(`signal ${this.name}: listener failed: ${(error as Error)?.message ?? error}`);
  }

  /** Removes every listener (tests). */
  clear(): void {
    this.listeners = [];
  }
}

export interface TaskSignalPayload {
  envelope: Envelope;
  workerId: string;
}
export interface TaskSucceededPayload extends TaskSignalPayload {
  result: unknown;
  durationMs: number;
}
export interface TaskFailedPayload extends TaskSignalPayload {
  error: TaskError;
  /** True when the task went to the dead-letter queue. */
  deadLettered: boolean;
}
export interface TaskRetryPayload extends TaskSignalPayload {
  error: TaskError;
  nextRetryAt: number;
}
export interface TaskPostrunPayload extends TaskSignalPayload {
  state: string;
  durationMs: number;
}
export interface TaskRevokedPayload extends TaskSignalPayload {
  reason: string;
  terminated: boolean;
}
export interface WorkerSignalPayload {
  workerId: string;
  queues: string[];
}
export interface WorkerHeartbeatPayload extends WorkerSignalPayload {
  inflight: number;
  processed: number;
}
export interface ScheduleSignalPayload {
  entryId: string;
  taskName: string;
  scheduledFor: number;
}
export interface ScheduleDispatchedPayload extends ScheduleSignalPayload {
  taskId: string;
  driftMs: number;
}
export interface ScheduleFailedPayload extends ScheduleSignalPayload {
  error: string;
}
export interface DeadLetterPayload {
  envelope: Envelope;
  reason: string;
  workerId: string;
}

/** A workflow run changed state. */
export interface WorkflowRunSignalPayload {
  runId: string;
  workflow: string;
  status: "running" | "suspended" | "completed" | "failed" | "cancelled";
  /** The step concerned, when there is one. */
  step?: string;
  /** Details: the result, the error, the suspension (type, resumeAt, topic), the cancellation reason. */
  metadata?: Record<string, unknown>;
}

/** Every signal Stem emits, process-wide, named as in the product documents. */
export const signals = {
  beforeTaskPublish: new Signal<{ envelope: Envelope }>("before-task-publish"),
  afterTaskPublish: new Signal<{ envelope: Envelope }>("after-task-publish"),
  taskReceived: new Signal<TaskSignalPayload>("task-received"),
  taskPrerun: new Signal<TaskSignalPayload>("task-prerun"),
  taskPostrun: new Signal<TaskPostrunPayload>("task-postrun"),
  taskSucceeded: new Signal<TaskSucceededPayload>("task-succeeded"),
  taskFailed: new Signal<TaskFailedPayload>("task-failed"),
  taskRetry: new Signal<TaskRetryPayload>("task-retry"),
  taskRevoked: new Signal<TaskRevokedPayload>("task-revoked"),
  taskDeadLettered: new Signal<DeadLetterPayload>("task-dead-lettered"),
  workerStarting: new Signal<WorkerSignalPayload>("worker-init"),
  workerReady: new Signal<WorkerSignalPayload>("worker-ready"),
  workerStopping: new Signal<WorkerSignalPayload & { mode: string }>("worker-stopping"),
  workerShutdown: new Signal<WorkerSignalPayload>("worker-shutdown"),
  workerHeartbeat: new Signal<WorkerHeartbeatPayload>("worker-heartbeat"),
  scheduleEntryDue: new Signal<ScheduleSignalPayload>("schedule-entry-due"),
  scheduleEntryDispatched: new Signal<ScheduleDispatchedPayload>("schedule-entry-dispatched"),
  scheduleEntryFailed: new Signal<ScheduleFailedPayload>("schedule-entry-failed"),
  workflowRunStarted: new Signal<WorkflowRunSignalPayload>("workflow-run-started"),
  workflowStepCompleted: new Signal<WorkflowRunSignalPayload>("workflow-step-completed"),
  workflowRunSuspended: new Signal<WorkflowRunSignalPayload>("workflow-run-suspended"),
  workflowRunResumed: new Signal<WorkflowRunSignalPayload>("workflow-run-resumed"),
  workflowRunCompleted: new Signal<WorkflowRunSignalPayload>("workflow-run-completed"),
  workflowRunFailed: new Signal<WorkflowRunSignalPayload>("workflow-run-failed"),
  workflowRunCancelled: new Signal<WorkflowRunSignalPayload>("workflow-run-cancelled"),
};

export type StemSignals = typeof signals;
