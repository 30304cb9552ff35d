import type postgres from "postgres";
import type { RateLimitDecision } from "../../contracts.ts";
import { type BucketRate, bucketFullAt, takeToken } from "../../token-bucket.ts";
import { table } from "../database.ts";

/**
 * One token-bucket step for `key` in a transaction: the bucket row is created if missing
 * or else locked by the upsert, so concurrent limiters (any process) take turns and the
 * idle-bucket sweep cannot delete it between read and write; time is the database's
 * `clock_timestamp()`, so they share one clock. The arithmetic is the shared `takeToken`.
 */
export async function takeRateToken(
  sql: postgres.Sql,
  schema: string,
  key: string,
  rate: BucketRate,
): Promise<RateLimitDecision> {
  return sql.begin(async (tx) => {
    const buckets = table(tx, schema, "rate_limits");
    const [row] = await tx<
      { tokens: number | null; updated_at_ms: number | null; now_ms: number }[]
    >`
      INSERT INTO ${buckets} AS b (key) VALUES (${key})
      ON CONFLICT (key) DO UPDATE SET key = b.key
      RETURNING b.tokens, b.updated_at_ms,
        extract(epoch FROM clock_timestamp())::double precision * 1000 AS now_ms`;
    const stored =
      row.tokens === null || row.updated_at_ms === null
        ? null
        : { tokens: row.tokens, updatedAt: row.updated_at_ms };
    const { state, allowed, retryAfterMs } = takeToken(stored, rate, row.now_ms);
    await tx`
      UPDATE ${buckets} SET tokens = ${state.tokens}, updated_at_ms = ${state.updatedAt},
        full_at_ms = ${bucketFullAt(state, rate)}
      WHERE key = ${key}`;
    return { allowed, retryAfterMs };
  });
}
