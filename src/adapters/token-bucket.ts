/**
 * The token-bucket arithmetic every RateLimiter shares; stores differ only in where the
 * bucket state lives and how they make the read-modify-write atomic.
 */
export interface BucketState {
  tokens: number;
  updatedAt: number;
}

export interface BucketRate {
  tokens: number;
  intervalMs: number;
  burst?: number;
}

/** Refills the bucket up to now and tries to take one token. */
export function takeToken(
  state: BucketState | null,
  rate: BucketRate,
  now: number,
): { state: BucketState; allowed: boolean; retryAfterMs: number } {
  const capacity = Math.max(1, rate.burst ?? 1);
  const perMs = rate.tokens / rate.intervalMs;
  const start = state ?? { tokens: capacity, updatedAt: now };
  const tokens = Math.min(capacity, start.tokens + Math.max(0, now - start.updatedAt) * perMs);
  if (tokens >= 1) {
    return { state: { tokens: tokens - 1, updatedAt: now }, allowed: true, retryAfterMs: 0 };
  }
  return {
    state: { tokens, updatedAt: now },
    allowed: false,
    retryAfterMs: Math.ceil((1 - tokens) / perMs),
  };
}

/** When a bucket in `state` will be back to capacity, which is the same as no bucket: it may be deleted then. */
export function bucketFullAt(state: BucketState, rate: BucketRate): number {
  const capacity = Math.max(1, rate.burst ?? 1);
  const perMs = rate.tokens / rate.intervalMs;
  return state.updatedAt + Math.ceil(Math.max(0, capacity - state.tokens) / perMs);
}
