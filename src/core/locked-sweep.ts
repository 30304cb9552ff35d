/**
 * A periodic job that several processes run but one at a time: each turn it takes (or
 * renews) a LockStore lock and does its work only while holding it; another process
 * takes over within the lock's ttl if the holder stops. Failures are logged once per
 * distinct message, since a store outage would repeat every turn.
 */
import type { LockStore } from "../adapters/contracts.ts";
import type { Clock } from "./clock.ts";
import { logger } from "./logger.ts";

export interface LockedSweepOptions<T> {
  /** Names the job in log lines. */
  label: string;
  /** Without one every process does the work (fine for a single process). */
  locks?: LockStore;
  key: string;
  owner: string;
  ttlMs: number;
  clock: Clock;
  work: () => Promise<T>;
  /** How long to wait after a turn; `done` is null when the turn did no work. */
  delayAfter: (done: T | null) => number;
}

export class LockedSweep<T> {
  private readonly stopping = new AbortController();
  private loop: Promise<void> | null = null;
  private holding = false;
  private lastError = "";
  private stopped?: Promise<void>;

  constructor(private readonly options: LockedSweepOptions<T>) {}

  /** Runs turns in the background until `stop()`. */
  start(): void {
    this.loop ??= this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      const done = await this.tick();
      await this.options.clock.sleep(this.options.delayAfter(done), this.stopping.signal);
    }
  }

  /** One turn: the work's result if this process holds (or takes) the lock, else null. */
  async tick(): Promise<T | null> {
    try {
      if (!(await this.hold())) return null;
      const done = await this.options.work();
      this.lastError = "";
      return done;
    } catch (error) {
      const message = (error as Error).message;
      if (message !== this.lastError) logger.warn(`${this.options.label}: ${message}`);
      this.lastError = message;
      return null;
    }
  }

  private async hold(): Promise<boolean> {
    const { locks, key, owner, ttlMs } = this.options;
    if (!locks) return true;
    this.holding = this.holding
      ? await locks.renew(key, owner, ttlMs)
      : await locks.acquire(key, owner, ttlMs);
    return this.holding;
  }

  /** Stops the turns and gives the lock up so another process can take over at once. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= this.finish();
    return this.stopped;
  }

  private async finish(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    const { locks, key, owner, label } = this.options;
    if (!this.holding || !locks) return;
    this.holding = false;
    await locks.release(key, owner).catch((error) => {
      // The lock expires on its own; another process takes over after its ttl.
      logger.warn(`${label}: releasing the lock failed: ${(error as Error).message}`);
    });
  }
}
