import type { RateLimitDecision, RateLimiter } from "../contracts.ts";
import { type BucketRate, type BucketState, bucketFullAt, takeToken } from "../token-bucket.ts";
import { type Clock, systemClock } from "../../core/clock.ts";

/** How often, at most, acquire drops the buckets that are full again. */
const SWEEP_INTERVAL_MS = 60_000;

/** Token buckets in process memory, shared by every worker of this process. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, { state: BucketState; fullAt: number }>();
  private lastSweep: number;

  constructor(private readonly clock: Clock = systemClock) {
    this.lastSweep = clock.now();
  }

  async acquire(key: string, rate: BucketRate): Promise<RateLimitDecision> {
    const now = this.clock.now();
    if (now - this.lastSweep >= SWEEP_INTERVAL_MS) this.sweep(now);
    const { state, allowed, retryAfterMs } = takeToken(
      this.buckets.get(key)?.state ?? null,
      rate,
      now,
    );
    this.buckets.set(key, { state, fullAt: bucketFullAt(state, rate) });
    return { allowed, retryAfterMs };
  }

  async dropIdle(): Promise<number> {
    return this.sweep(this.clock.now());
  }

  async countBuckets(prefix: string): Promise<number> {
    let count = 0;
    for (const key of this.buckets.keys()) if (key.startsWith(prefix)) count++;
    return count;
  }

  async close(): Promise<void> {}

  private sweep(now: number): number {
    this.lastSweep = now;
    let dropped = 0;
    for (const [key, bucket] of this.buckets) {
      if (bucket.fullAt <= now) {
        this.buckets.delete(key);
        dropped++;
      }
    }
    return dropped;
  }
}
