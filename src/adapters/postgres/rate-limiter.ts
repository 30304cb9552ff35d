import type { RateLimitDecision, RateLimiter } from "../contracts.ts";
import type { BucketRate } from "../token-bucket.ts";
import type { PgDatabase } from "./database.ts";
import { countRateBuckets, dropIdleRateBuckets } from "./sql/rate-buckets.ts";
import { takeRateToken } from "./sql/take-token.ts";

/** Token buckets shared by every process on the schema, timed by the database clock. */
export class PostgresRateLimiter implements RateLimiter {
  constructor(private readonly db: PgDatabase) {}

  acquire(key: string, rate: BucketRate): Promise<RateLimitDecision> {
    return this.db.run("rate limit", (sql) => takeRateToken(sql, this.db.schema, key, rate));
  }

  /** The connection's periodic sweep does this too. */
  dropIdle(): Promise<number> {
    return this.db.run("drop idle rate buckets", (sql) => dropIdleRateBuckets(sql, this.db.schema));
  }

  countBuckets(prefix: string): Promise<number> {
    return this.db.run("count rate buckets", (sql) =>
      countRateBuckets(sql, this.db.schema, prefix),
    );
  }

  async close(): Promise<void> {}
}
