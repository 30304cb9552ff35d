import { type Queryable, table } from "../database.ts";

/**
 * Milliseconds (by the database clock) until something in `queues` becomes ready on
 * its own: the earliest delayed job's notBefore or the earliest lease expiry. Null
 * when nothing is waiting on time.
 */
export async function nextJobChangeIn(
  sql: Queryable,
  schema: string,
  queues: string[],
): Promise<number | null> {
  const jobs = table(sql, schema, "jobs");
  const [row] = await sql<{ wait_ms: number | null }[]>`
    SELECT extract(epoch FROM least(
      (SELECT min(lease_expires_at) FROM ${jobs}
        WHERE queue = ANY(${queues}::text[]) AND receipt IS NOT NULL AND lease_expires_at > now()),
      (SELECT min(not_before) FROM ${jobs}
        WHERE queue = ANY(${queues}::text[]) AND receipt IS NULL AND not_before > now())
    ) - now())::double precision * 1000 AS wait_ms`;
  return row.wait_ms === null ? null : Math.max(0, row.wait_ms);
}
