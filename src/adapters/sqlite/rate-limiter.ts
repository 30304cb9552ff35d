/**
 * Token buckets in a SQLite file, shared by every process using it: each acquire reads,
 * refills and writes its bucket inside one BEGIN IMMEDIATE transaction.
 */
import type { RateLimitDecision, RateLimiter } from "../contracts.ts";
import { type BucketRate, type BucketState, bucketFullAt, takeToken } from "../token-bucket.ts";
import type { SqliteDatabase } from "./database.ts";

const SELECT = "SELECT tokens, updated_at AS updatedAt FROM stem_rate_limits WHERE key = ?";

/** `full_at` is when the bucket will have refilled; a full bucket equals no row, so pruning may drop it then. */
const UPSERT = `
INSERT INTO stem_rate_limits (key, tokens, updated_at, full_at) VALUES ($key, $tokens, $updatedAt, $fullAt)
ON CONFLICT (key) DO UPDATE SET
  tokens = excluded.tokens, updated_at = excluded.updated_at, full_at = excluded.full_at`;

const DROP_IDLE = "DELETE FROM stem_rate_limits WHERE full_at <= ?";
const COUNT = "SELECT count(*) AS n FROM stem_rate_limits WHERE substr(key, 1, length(?1)) = ?1";

/** One token bucket per key, shared by every process using the file. */
export class SqliteRateLimiter implements RateLimiter {
  constructor(private readonly db: SqliteDatabase) {}

  async acquire(key: string, rate: BucketRate): Promise<RateLimitDecision> {
    const select = this.db.statement<BucketState, [string]>(SELECT);
    const upsert = this.db.statement<
      unknown,
      [{ key: string; tokens: number; updatedAt: number; fullAt: number }]
    >(UPSERT);
    return this.db.write(() => {
      const now = this.db.now();
      const { state, allowed, retryAfterMs } = takeToken(select.get(key), rate, now);
      upsert.run({
        key,
        tokens: state.tokens,
        updatedAt: state.updatedAt,
        fullAt: bucketFullAt(state, rate),
      });
      return { allowed, retryAfterMs };
    });
  }

  /** The prune does this too, once a minute at most. */
  async dropIdle(): Promise<number> {
    return this.db.write(() => this.db.statement(DROP_IDLE).run(this.db.now()).changes);
  }

  async countBuckets(prefix: string): Promise<number> {
    const count = this.db.statement<{ n: number }, [string]>(COUNT);
    return count.get(prefix)?.n ?? 0;
  }

  /** The connection owns the database; nothing to release here. */
  async close(): Promise<void> {}
}
