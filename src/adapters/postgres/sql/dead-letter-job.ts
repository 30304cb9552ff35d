import { type Queryable, json, table } from "../database.ts";

/**
 * Moves a leased job to the dead letters in one statement (reason, meta, the time by
 * the database clock, truncated to ms). The stored envelope gets the row's attempt and
 * notBefore. A job dead-lettered again replaces its earlier entry. No-op when the
 * receipt no longer matches; returns whether the job moved.
 */
export async function deadLetterJob(
  sql: Queryable,
  schema: string,
  delivery: { id: string; receipt: string },
  reason: string,
  meta: Record<string, unknown>,
): Promise<boolean> {
  const rows = await sql`
    WITH moved AS (
      DELETE FROM ${table(sql, schema, "jobs")}
      WHERE id = ${delivery.id} AND receipt = ${delivery.receipt}
      RETURNING id, queue, envelope, attempt, not_before
    )
    INSERT INTO ${table(sql, schema, "dead_letters")} AS d (id, queue, envelope, reason, meta, dead_at)
    SELECT id, queue,
      CASE WHEN jsonb_typeof(envelope) = 'object' THEN
        (envelope - 'notBefore' - 'attempt')
          || jsonb_build_object('attempt', attempt)
          || CASE WHEN not_before IS NULL THEN '{}'::jsonb
             ELSE jsonb_build_object('notBefore', floor(extract(epoch FROM not_before) * 1000)::bigint) END
      ELSE envelope END,
      ${reason}, ${json(sql, meta)}, date_trunc('milliseconds', clock_timestamp())
    FROM moved
    ON CONFLICT (id) DO UPDATE SET
      queue = excluded.queue, envelope = excluded.envelope, reason = excluded.reason,
      meta = excluded.meta, dead_at = excluded.dead_at, seq = excluded.seq
    RETURNING d.id`;
  return rows.length > 0;
}
