import type { LockStore } from "../contracts.ts";
import { type Clock, systemClock } from "../../core/clock.ts";

/** Locks in process memory. */
export class MemoryLockStore implements LockStore {
  private readonly locks = new Map<string, { owner: string; expiresAt: number }>();

  constructor(private readonly clock: Clock = systemClock) {}

  private holder(key: string): { owner: string; expiresAt: number } | undefined {
    const lock = this.locks.get(key);
    if (lock && lock.expiresAt <= this.clock.now()) {
      this.locks.delete(key);
      return undefined;
    }
    return lock;
  }

  async acquire(key: string, owner: string, ttlMs: number): Promise<boolean> {
    if (this.holder(key)) return false;
    this.locks.set(key, { owner, expiresAt: this.clock.now() + ttlMs });
    return true;
  }

  async renew(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const lock = this.holder(key);
    if (!lock || lock.owner !== owner) return false;
    lock.expiresAt = this.clock.now() + ttlMs;
    return true;
  }

  async release(key: string, owner: string): Promise<boolean> {
    const lock = this.holder(key);
    if (!lock || lock.owner !== owner) return false;
    this.locks.delete(key);
    return true;
  }

  async ownerOf(key: string): Promise<string | null> {
    return this.holder(key)?.owner ?? null;
  }

  async close(): Promise<void> {}
}
