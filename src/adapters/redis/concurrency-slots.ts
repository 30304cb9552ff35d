/**
 * Global concurrency slots on Redis: a ZSET per key (holder → lease deadline on the server
 * clock) and one HASH of limits. Acquire, renew and release are Lua scripts, atomic on
 * the server.
 */

import type { ConcurrencySlots, SlotUsage } from "../contracts.ts";
import { checkSlotLease, checkSlotLimit } from "../slot-arguments.ts";
import type { RedisClient } from "./client.ts";
import type { RedisKeys } from "./keys.ts";
import { acquireSlotScript } from "./lua/acquire-slot-2.ts";
import { releaseSlotScript } from "./lua/release-slot-1.ts";
import { renewSlotScript } from "./lua/renew-slot-1.ts";
import { slotHoldersScript } from "./lua/slot-holders-1.ts";
import { type LuaScript, runScript, runScripts } from "./scripts.ts";

/** Every script the concurrency slots run. */
export const SLOT_SCRIPTS: readonly LuaScript[] = [
  acquireSlotScript,
  renewSlotScript,
  releaseSlotScript,
  slotHoldersScript,
];

const lease = (ms: number) => Math.max(1, Math.ceil(ms));

export class RedisConcurrencySlots implements ConcurrencySlots {
  /** `client` must have SLOT_SCRIPTS registered. */
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async acquire(key: string, holder: string, limit: number, leaseMs: number): Promise<boolean> {
    checkSlotLimit(key, limit);
    checkSlotLease(key, leaseMs);
    const granted = await runScript<number>(
      this.client,
      acquireSlotScript,
      [this.keys.slots(key), this.keys.slotLimits],
      [key, holder, limit, lease(leaseMs)],
    );
    return granted === 1;
  }

  async renew(key: string, holder: string, leaseMs: number): Promise<boolean> {
    checkSlotLease(key, leaseMs);
    const renewed = await runScript<number>(
      this.client,
      renewSlotScript,
      [this.keys.slots(key)],
      [holder, lease(leaseMs)],
    );
    return renewed === 1;
  }

  async release(key: string, holder: string): Promise<boolean> {
    const released = await runScript<number>(
      this.client,
      releaseSlotScript,
      [this.keys.slots(key)],
      [holder],
    );
    return released === 1;
  }

  async setLimit(key: string, limit: number): Promise<void> {
    checkSlotLimit(key, limit);
    await this.client.hset(this.keys.slotLimits, key, limit);
  }

  async usage(key: string): Promise<SlotUsage | null> {
    const limit = await this.client.hget(this.keys.slotLimits, key);
    if (limit === null) return null;
    const [usage] = await this.withHolders([[key, limit]]);
    return usage;
  }

  async list(): Promise<SlotUsage[]> {
    const limits = Object.entries(await this.client.hgetall(this.keys.slotLimits));
    limits.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return this.withHolders(limits);
  }

  /** Reads the live holders of each key (one pipeline) next to its limit. */
  private async withHolders(limits: [string, string][]): Promise<SlotUsage[]> {
    const replies = await runScripts(
      this.client,
      limits.map(([key]) => ({
        script: slotHoldersScript,
        keys: [this.keys.slots(key)],
        args: [],
      })),
    );
    return limits.map(([key, limit], i) => {
      const holders = (replies[i] as string[]).sort();
      return { key, limit: Number(limit), used: holders.length, holders };
    });
  }

  /** Nothing of its own to release; the connection owns the client. */
  async close(): Promise<void> {}
}
