import { type Queryable, table } from "../database.ts";

/**
 * Deletes a queue's jobs that are not in flight: pending, delayed, and those whose
 * lease ran out. Returns how many.
 */
export async function purgeQueue(sql: Queryable, schema: string, queue: string): Promise<number> {
  const result = await sql`
    DELETE FROM ${table(sql, schema, "jobs")}
    WHERE queue = ${queue} AND (receipt IS NULL OR lease_expires_at <= now())`;
  return result.count;
}
