/**
 * The run-state methods shared by the workflow stores that keep whole runs and apply the
 * transitions of run-transitions.ts to them (memory and SQLite). Each store says how one
 * change is made atomic (`change`); what a change does is the same everywhere.
 */
import type { WorkflowFence } from "../adapters/contracts.ts";
import * as t from "./run-transitions.ts";

export abstract class TransitionWorkflowStore {
  /**
   * Atomically: reads the run (a missing one throws), checks `fence`, applies `apply` and
   * stores the run unless `apply` returned false or null (it changed nothing).
   */
  protected abstract change<T>(
    runId: string,
    apply: (stored: t.StoredRun, now: number) => T,
    fence?: number,
  ): T;

  async markRunning(
    runId: string,
    options: { stepName?: string } & WorkflowFence = {},
  ): Promise<void> {
    this.change(runId, (s, now) => t.markRunning(s, now, options.stepName), options.fence);
  }

  async markCompleted(runId: string, result: unknown, options: WorkflowFence = {}): Promise<void> {
    this.change(runId, (s, now) => t.markCompleted(s, result, now), options.fence);
  }

  async markFailed(
    runId: string,
    error: { message: string; type?: string; stack?: string },
    options: { terminal?: boolean } & WorkflowFence = {},
  ): Promise<void> {
    this.change(
      runId,
      (s, now) => t.markFailed(s, error, options.terminal ?? false, now),
      options.fence,
    );
  }

  async markResumed(runId: string, data?: Record<string, unknown>): Promise<void> {
    this.change(runId, (s, now) => t.markResumed(s, data, now));
  }

  async cancel(
    runId: string,
    reason?: string,
    details?: Record<string, unknown>,
  ): Promise<boolean> {
    return this.change(runId, (s, now) => t.cancel(s, reason, details, now));
  }

  async claimRun(runId: string, ownerId: string, leaseMs: number): Promise<number | null> {
    return this.change(runId, (s, now) => t.claim(s, ownerId, leaseMs, now));
  }

  async renewRunLease(
    runId: string,
    ownerId: string,
    leaseMs: number,
    options: WorkflowFence = {},
  ): Promise<boolean> {
    return this.change(runId, (s, now) => t.renew(s, ownerId, leaseMs, now, options.fence));
  }

  async releaseRun(runId: string, ownerId: string, options: WorkflowFence = {}): Promise<void> {
    this.change(runId, (s) => t.release(s, ownerId, options.fence));
  }
}
