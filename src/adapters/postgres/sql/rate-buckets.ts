import { type Queryable, table } from "../database.ts";

/** Buckets deleted per call, so a sweep never holds locks for long. */
const DROP_BATCH = 1000;

/**
 * Deletes up to a batch of buckets that are full again by the database clock (a full
 * bucket is the same as none), so one bucket per key stays bounded. A bucket taken from
 * meanwhile is locked by its taker and has a later `full_at_ms` when the delete gets it.
 */
export async function dropIdleRateBuckets(sql: Queryable, schema: string): Promise<number> {
  const buckets = table(sql, schema, "rate_limits");
  const result = await sql`
    DELETE FROM ${buckets} WHERE key IN (
      SELECT key FROM ${buckets}
      WHERE full_at_ms <= extract(epoch FROM clock_timestamp()) * 1000
      LIMIT ${DROP_BATCH}
    ) AND full_at_ms <= extract(epoch FROM clock_timestamp()) * 1000`;
  return result.count;
}

/** How many buckets there are whose key starts with `prefix`. */
export async function countRateBuckets(
  sql: Queryable,
  schema: string,
  prefix: string,
): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM ${table(sql, schema, "rate_limits")}
    WHERE left(key, length(${prefix})) = ${prefix}`;
  return row.n;
}
