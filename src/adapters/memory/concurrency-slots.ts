import type { ConcurrencySlots, SlotUsage } from "../contracts.ts";
import { type Clock, systemClock } from "../../core/clock.ts";
import { checkSlotLease, checkSlotLimit } from "../slot-arguments.ts";

interface Key {
  limit: number;
  /** Holder → lease expiry. */
  holders: Map<string, number>;
}

/** Concurrency slots in process memory (one process is the whole cluster). */
export class MemoryConcurrencySlots implements ConcurrencySlots {
  private readonly keys = new Map<string, Key>();

  constructor(private readonly clock: Clock = systemClock) {}

  /** The key with its expired holders dropped. */
  private live(key: string): Key | undefined {
    const entry = this.keys.get(key);
    if (!entry) return undefined;
    const now = this.clock.now();
    for (const [holder, expiresAt] of entry.holders)
      if (expiresAt <= now) entry.holders.delete(holder);
    return entry;
  }

  async acquire(key: string, holder: string, limit: number, leaseMs: number): Promise<boolean> {
    checkSlotLimit(key, limit);
    checkSlotLease(key, leaseMs);
    let entry = this.live(key);
    if (!entry) {
      entry = { limit, holders: new Map() };
      this.keys.set(key, entry);
    }
    entry.limit = limit;
    if (!entry.holders.has(holder) && entry.holders.size >= limit) return false;
    entry.holders.set(holder, this.clock.now() + leaseMs);
    return true;
  }

  async renew(key: string, holder: string, leaseMs: number): Promise<boolean> {
    checkSlotLease(key, leaseMs);
    const entry = this.live(key);
    if (!entry?.holders.has(holder)) return false;
    entry.holders.set(holder, this.clock.now() + leaseMs);
    return true;
  }

  async release(key: string, holder: string): Promise<boolean> {
    return this.live(key)?.holders.delete(holder) ?? false;
  }

  async setLimit(key: string, limit: number): Promise<void> {
    checkSlotLimit(key, limit);
    const entry = this.live(key);
    if (entry) entry.limit = limit;
    else this.keys.set(key, { limit, holders: new Map() });
  }

  async usage(key: string): Promise<SlotUsage | null> {
    const entry = this.live(key);
    if (!entry) return null;
    const holders = [...entry.holders.keys()].sort();
    return { key, limit: entry.limit, used: holders.length, holders };
  }

  async list(): Promise<SlotUsage[]> {
    const keys = [...this.keys.keys()].sort();
    const usages = await Promise.all(keys.map((key) => this.usage(key)));
    return usages.filter((u): u is SlotUsage => u !== null);
  }

  async close(): Promise<void> {}
}
