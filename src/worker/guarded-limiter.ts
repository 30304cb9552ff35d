/**
 * A worker's view of its rate-limiter store through an outage. A call that fails or
 * hangs marks the store unreachable: one warning, then, instead of every task waiting on
 * a dead store, calls answer "unreachable" at once while a single probe per interval asks
 * the store again; the first answer ends the outage with one info line.
 */
import type { RateLimitDecision, RateLimiter } from "../adapters/contracts.ts";
import type { Clock } from "../core/clock.ts";
import { toError } from "../core/errors.ts";
import { logger } from "../core/logger.ts";

/** A store call that has not answered by then counts as failed (a dead TCP peer hangs). */
const ACQUIRE_TIMEOUT_MS = 3000;
/** How often, during an outage, one call goes to the store to see whether it is back. */
const PROBE_INTERVAL_MS = 1000;

/** `null` means the store could not be reached: the caller applies the task's fail mode. */
export type GuardedDecision = RateLimitDecision | null;

export class GuardedLimiter {
  /** Set while the store is unreachable. */
  private outage: { lastProbe: number; probing: boolean } | undefined;

  constructor(
    private readonly limiter: RateLimiter,
    private readonly clock: Clock,
    private readonly workerId: string,
  ) {}

  async acquire(
    key: string,
    rate: { tokens: number; intervalMs: number },
  ): Promise<GuardedDecision> {
    const outage = this.outage;
    if (outage) {
      if (outage.probing || this.clock.now() - outage.lastProbe < PROBE_INTERVAL_MS) return null;
      outage.probing = true;
      outage.lastProbe = this.clock.now();
    }
    try {
      const decision = await this.withTimeout(this.limiter.acquire(key, rate));
      if (this.outage) {
        this.outage = undefined;
        logger.info(`worker ${this.workerId}: the rate limiter store answers again`);
      }
      return decision;
    } catch (error) {
      if (!this.outage) {
        this.outage = { lastProbe: this.clock.now(), probing: false };
        logger.warn(
          `worker ${this.workerId}: the rate limiter store is unreachable (${toError(error).message}); ` +
            `rate-limited tasks wait in the broker until it answers, those with rateLimitFailMode "open" run without their limit`,
        );
      }
      return null;
    } finally {
      if (this.outage) this.outage.probing = false;
    }
  }

  private withTimeout<T>(call: Promise<T>): Promise<T> {
    const stop = new AbortController();
    const timeout = this.clock.sleep(ACQUIRE_TIMEOUT_MS, stop.signal).then(() => {
      if (!stop.signal.aborted) {
        throw new Error(`no answer within ${ACQUIRE_TIMEOUT_MS} ms`);
      }
    });
    // A call that answers after its timeout is ignored, its failure too.
    call.catch(() => {});
    return Promise.race([call, timeout as Promise<never>]).finally(() => stop.abort());
  }
}
