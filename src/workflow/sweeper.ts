/**
 * The due-run sweeper: every poll interval, resumes workflow runs whose sleep or event
 * deadline has come. It runs in every workflow worker; a lock in the LockStore lets one
 * sweeper act at a time, and another takes over within a few intervals if it stops.
 */
import type { LockStore } from "../adapters/contracts.ts";
import { type DurationInput, parseDuration } from "../core/duration.ts";
import { StemError } from "../core/errors.ts";
import { LockedSweep } from "../core/locked-sweep.ts";
import type { WorkflowRuntime } from "./runtime.ts";

/** The LockStore key the sweepers share. */
export const SWEEPER_LOCK_KEY = "stem:workflow:sweeper";

export interface SweeperOptions {
  /** Without one every sweeper acts (fine for a single process). */
  lockStore?: LockStore;
  /** Default 1 s. */
  pollInterval?: DurationInput;
}

export class WorkflowSweeper {
  private readonly sweep: LockedSweep<string[]>;

  constructor(runtime: WorkflowRuntime, options: SweeperOptions = {}) {
    const pollMs = parseDuration(options.pollInterval ?? "1s", "pollInterval");
    if (pollMs < 10) throw new StemError("invalid_argument", "pollInterval must be at least 10 ms");
    this.sweep = new LockedSweep({
      label: "workflow sweeper",
      locks: options.lockStore,
      key: SWEEPER_LOCK_KEY,
      owner: runtime.runtimeId,
      ttlMs: Math.max(3 * pollMs, 5_000),
      clock: runtime.clock,
      work: () => runtime.sweep(),
      delayAfter: () => pollMs,
    });
  }

  /** Starts sweeping in the background. */
  start(): void {
    this.sweep.start();
  }

  /** One sweep if this sweeper holds (or takes) the lock; true when it swept. */
  async tick(): Promise<boolean> {
    return (await this.sweep.tick()) !== null;
  }

  /** Stops sweeping and gives the lock up so another sweeper can take over at once. Idempotent. */
  stop(): Promise<void> {
    return this.sweep.stop();
  }
}
