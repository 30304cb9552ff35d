/** Locks on Redis: `SET NX PX` with the owner as value; renew and release compare the owner in Lua. */

import type { LockStore } from "../contracts.ts";
import type { RedisClient } from "./client.ts";
import type { RedisKeys } from "./keys.ts";
import { releaseLockScript } from "./lua/release-lock-1.ts";
import { renewLockScript } from "./lua/renew-lock-1.ts";
import { type LuaScript, runScript } from "./scripts.ts";

/** Every script the lock store runs. */
export const LOCK_SCRIPTS: readonly LuaScript[] = [renewLockScript, releaseLockScript];

const ttl = (ms: number) => Math.max(1, Math.ceil(ms));

export class RedisLockStore implements LockStore {
  /** `client` must have LOCK_SCRIPTS registered. */
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async acquire(key: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.client.set(this.keys.lock(key), owner, "PX", ttl(ttlMs), "NX")) === "OK";
  }

  async renew(key: string, owner: string, ttlMs: number): Promise<boolean> {
    return (
      (await runScript<number>(
        this.client,
        renewLockScript,
        [this.keys.lock(key)],
        [owner, ttl(ttlMs)],
      )) === 1
    );
  }

  async release(key: string, owner: string): Promise<boolean> {
    return (
      (await runScript<number>(this.client, releaseLockScript, [this.keys.lock(key)], [owner])) ===
      1
    );
  }

  async ownerOf(key: string): Promise<string | null> {
    return this.client.get(this.keys.lock(key));
  }

  /** Nothing of its own to release; the connection owns the client. */
  async close(): Promise<void> {}
}
