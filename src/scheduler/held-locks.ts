/**
 * The schedule locks of one Beat batch: acquired together, renewed in the background while
 * the batch runs (a lock whose renewal fails is dropped, so `owns` turns false), and
 * released together.
 */
import type { LockStore } from "../adapters/contracts.ts";
import type { Clock } from "../core/clock.ts";
import { toError } from "../core/errors.ts";
import { logger } from "../core/logger.ts";

/** The lock key of an entry. */
export function scheduleLockKey(entryId: string): string {
  return `stem:schedule:${entryId}`;
}

/** The locks of one batch: acquired together, renewed while the batch runs, released together. */
export class HeldLocks {
  private readonly held = new Set<string>();
  private confirmedAt: number;
  private readonly stopRenewing = new AbortController();
  private renewing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly locks: LockStore,
    private readonly clock: Clock,
    private readonly owner: string,
    private readonly ttlMs: number,
  ) {
    this.confirmedAt = clock.now();
  }

  static async acquire(
    locks: LockStore,
    clock: Clock,
    owner: string,
    ttlMs: number,
    ids: string[],
  ): Promise<HeldLocks> {
    const batch = new HeldLocks(locks, clock, owner, ttlMs);
    const results = await Promise.allSettled(
      ids.map(async (id) => {
        if (await locks.acquire(scheduleLockKey(id), owner, ttlMs)) batch.held.add(id);
      }),
    );
    const failed = results.find((r) => r.status === "rejected");
    if (failed) {
      await batch.release();
      throw (failed as PromiseRejectedResult).reason;
    }
    if (batch.held.size > 0) batch.renewing = batch.renewLoop();
    return batch;
  }

  get size(): number {
    return this.held.size;
  }

  owns(id: string): boolean {
    return this.held.has(id);
  }

  private async renewLoop(): Promise<void> {
    const every = Math.max(50, Math.floor(this.ttlMs / 3));
    while (!this.stopRenewing.signal.aborted) {
      await this.clock.sleep(every, this.stopRenewing.signal);
      if (this.stopRenewing.signal.aborted) return;
      await this.renew();
    }
  }

  private async renew(): Promise<void> {
    const ids = [...this.held];
    const ok = await Promise.all(
      ids.map((id) =>
        this.locks.renew(scheduleLockKey(id), this.owner, this.ttlMs).catch(() => false),
      ),
    );
    ids.forEach((id, i) => {
      if (!ok[i]) this.held.delete(id);
    });
    this.confirmedAt = this.clock.now();
  }

  /** Renews now unless a renewal succeeded recently; afterwards `owns` is current. */
  async confirm(): Promise<void> {
    if (this.clock.now() - this.confirmedAt > this.ttlMs / 2) await this.renew();
  }

  async release(): Promise<void> {
    this.stopRenewing.abort();
    await this.renewing;
    const ids = [...this.held];
    this.held.clear();
    await Promise.all(
      ids.map((id) =>
        this.locks.release(scheduleLockKey(id), this.owner).catch((error) => {
          logger.warn(`could not release the lock of schedule "${id}": ${toError(error).message}`);
          return false;
        }),
      ),
    );
  }
}
