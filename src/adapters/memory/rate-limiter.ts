import type { RateLimitDecision, RateLimiter } from "../contracts.ts";
import { type BucketRate, type BucketState, takeToken } from "../token-bucket.ts";
import { type Clock, systemClock } from "../../core/clock.ts";

/** Token buckets in process memory, shared by every worker of this process. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, BucketState>();

  constructor(private readonly clock: Clock = systemClock) {}

  async acquire(key: string, rate: BucketRate): Promise<RateLimitDecision> {
    const { state, allowed, retryAfterMs } = takeToken(
      this.buckets.get(key) ?? null,
      rate,
      this.clock.now(),
    );
    this.buckets.set(key, state);
    return { allowed, retryAfterMs };
  }

  async close(): Promise<void> {}
}
