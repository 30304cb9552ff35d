import { type Queryable, jobsChannel, table } from "../database.ts";

/**
 * Returns a leased job to its queue (nack with requeue): lease cleared, attempt
 * counted unless told otherwise (a release that does not count it gives its delivery
 * back too), held back `delayMs` when given, and waiting
 * consumers notified. No-op when the receipt no longer matches.
 */
export async function releaseJob(
  sql: Queryable,
  schema: string,
  delivery: { id: string; receipt: string },
  options: { countAttempt: boolean; delayMs: number },
): Promise<boolean> {
  const rows = await sql`
    WITH released AS (
      UPDATE ${table(sql, schema, "jobs")} SET
        receipt = NULL,
        consumer = NULL,
        lease_expires_at = NULL,
        attempt = attempt + ${options.countAttempt ? 1 : 0}::integer,
        deliveries = deliveries - ${options.countAttempt ? 0 : 1}::integer,
        not_before = CASE WHEN ${options.delayMs}::double precision > 0
          THEN now() + interval '1 millisecond' * ${options.delayMs}::double precision END
      WHERE id = ${delivery.id} AND receipt = ${delivery.receipt}
      RETURNING queue
    )
    SELECT pg_notify(${jobsChannel(schema)}, queue) FROM released`;
  return rows.length > 0;
}
