/**
 * The due-run sweeper: every poll interval, resumes workflow runs whose sleep or event
 * deadline has come. It runs in every workflow worker; a lock in the LockStore lets one
 * sweeper act at a time, and another takes over within a few intervals if it stops.
 */
import type { LockStore } from "../adapters/contracts.ts";
import { type DurationInput, parseDuration } from "../core/duration.ts";
import { StemError } from "../core/errors.ts";
import { logger } from "../core/logger.ts";
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
  private readonly pollMs: number;
  private readonly lockTtlMs: number;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | null = null;
  private holding = false;
  private lastError = "";

  constructor(
    private readonly runtime: WorkflowRuntime,
    private readonly options: SweeperOptions = {},
  ) {
    this.pollMs = parseDuration(options.pollInterval ?? "1s", "pollInterval");
    if (this.pollMs < 10)
      throw new StemError("invalid_argument", "pollInterval must be at least 10 ms");
    this.lockTtlMs = Math.max(3 * this.pollMs, 5_000);
  }

  /** Starts sweeping in the background. */
  start(): void {
    this.loop ??= this.run();
  }

  private async run(): Promise<void> {
    const clock = this.runtime.clock;
    while (!this.stopping.signal.aborted) {
      await this.tick();
      await clock.sleep(this.pollMs, this.stopping.signal);
    }
  }

  /** One sweep if this sweeper holds (or takes) the lock; true when it swept. */
  async tick(): Promise<boolean> {
    try {
      if (!(await this.holdLock())) return false;
      await this.runtime.sweep();
      this.lastError = "";
      return true;
    } catch (error) {
      // Reported once per distinct failure (a store outage would repeat every interval).
      const message = (error as Error).message;
      if (message !== this.lastError) logger.warn(`workflow sweeper: ${message}`);
      this.lastError = message;
      return false;
    }
  }

  private async holdLock(): Promise<boolean> {
    const locks = this.options.lockStore;
    if (!locks) return true;
    const owner = this.runtime.runtimeId;
    this.holding = this.holding
      ? await locks.renew(SWEEPER_LOCK_KEY, owner, this.lockTtlMs)
      : await locks.acquire(SWEEPER_LOCK_KEY, owner, this.lockTtlMs);
    return this.holding;
  }

  private stopped?: Promise<void>;

  /** Stops sweeping and gives the lock up so another sweeper can take over at once. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= this.finish();
    return this.stopped;
  }

  private async finish(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    if (this.holding && this.options.lockStore) {
      this.holding = false;
      await this.options.lockStore
        .release(SWEEPER_LOCK_KEY, this.runtime.runtimeId)
        .catch((error) => {
          // The lock expires on its own; another sweeper takes over after its ttl.
          logger.warn(`workflow sweeper: releasing the lock failed: ${(error as Error).message}`);
        });
    }
  }
}
