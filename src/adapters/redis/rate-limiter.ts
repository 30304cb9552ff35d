/** Token buckets on Redis, shared by every limiter on the server and timed by the server clock. */

import { StemError } from "../../core/errors.ts";
import type { RateLimitDecision, RateLimiter } from "../contracts.ts";
import type { BucketRate } from "../token-bucket.ts";
import { type RedisClient, scanKeys } from "./client.ts";
import type { RedisKeys } from "./keys.ts";
import { takeTokenScript } from "./lua/take-token-1.ts";
import { type LuaScript, runScript } from "./scripts.ts";

/** Every script the rate limiter runs. */
export const RATE_SCRIPTS: readonly LuaScript[] = [takeTokenScript];

export class RedisRateLimiter implements RateLimiter {
  /** `client` must have RATE_SCRIPTS registered. */
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async acquire(key: string, rate: BucketRate): Promise<RateLimitDecision> {
    return this.take(key, rate);
  }

  /** `now` replaces the server clock; tests use it to compare with the shared arithmetic. */
  async take(key: string, rate: BucketRate, now?: number): Promise<RateLimitDecision> {
    if (!(rate.tokens > 0) || !(rate.intervalMs > 0)) {
      throw new StemError(
        "invalid_argument",
        `rate limit for "${key}" needs tokens > 0 and intervalMs > 0 (got ${rate.tokens} per ${rate.intervalMs} ms)`,
      );
    }
    const [allowed, retryAfterMs] = await runScript<[number, number]>(
      this.client,
      takeTokenScript,
      [this.keys.rateBucket(key)],
      [rate.tokens, rate.intervalMs, rate.burst ?? 1, now ?? ""],
    );
    return { allowed: allowed === 1, retryAfterMs };
  }

  /** Nothing to do: each bucket key expires on its own once the bucket is full again. */
  async dropIdle(): Promise<number> {
    return 0;
  }

  async countBuckets(prefix: string): Promise<number> {
    const pattern = `${this.keys.rateBucket(prefix).replace(/[*?[\]\\]/g, "\\$&")}*`;
    return (await scanKeys(this.client, pattern)).size;
  }

  /** Nothing of its own to release; the connection owns the client. */
  async close(): Promise<void> {}
}
