/** Keeps one execution's claim on a run: renews its lease until stopped. */
import type { WorkflowStore } from "../adapters/contracts.ts";
import { StemError } from "../core/errors.ts";
import { logger } from "../core/logger.ts";

/** One execution's claim: the owner id it claimed with and the fencing token it got. */
export interface RunClaim {
  runId: string;
  ownerId: string;
  fence: number;
}

/**
 * Renews a run lease while it executes; `signal` fires and `lost` turns true when renewal
 * fails or the execution is abandoned.
 */
export class LeaseKeeper {
  lost = false;
  private readonly abort = new AbortController();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(store: WorkflowStore, claim: RunClaim, leaseMs: number) {
    const { runId, ownerId, fence } = claim;
    this.timer = setInterval(
      async () => {
        try {
          if (!(await store.renewRunLease(runId, ownerId, leaseMs, { fence })))
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
