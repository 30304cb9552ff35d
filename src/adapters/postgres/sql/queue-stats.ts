import type { QueueStats } from "../../contracts.ts";
import { type Queryable, table } from "../database.ts";

/**
 * Pending, in-flight, delayed and dead counts for `queues` (every queue ever published
 * to, by name, when omitted). A job whose lease ran out counts as pending. The job total
 * is the sum of the queue's rows in queue_size_deltas (migration 12), the delayed count
 * the sum of its rows due later in queue_delay_deltas (migration 15), the in-flight count
 * reads its partial index, so a million pending jobs cost no more to count than none.
 */
export async function queueStats(
  sql: Queryable,
  schema: string,
  queues?: string[],
): Promise<QueueStats[]> {
  const names =
    queues ??
    (
      await sql<{ name: string }[]>`
      SELECT name FROM ${table(sql, schema, "queues")}
      UNION SELECT DISTINCT queue FROM ${table(sql, schema, "dead_letters")}
      ORDER BY 1`
    ).map((r) => r.name);
  if (names.length === 0) return [];
  const jobs = table(sql, schema, "jobs");
  // One statement, so the total and the in-flight and delayed counts share a snapshot.
  const rows = await sql<QueueStats[]>`
    SELECT q.name AS queue,
      greatest(coalesce(s.total, 0) - l.inflight - d.delayed, 0)::integer AS pending,
      l.inflight::integer AS inflight,
      d.delayed::integer AS delayed,
      x.dead::integer AS dead
    FROM unnest(${names}::text[]) AS q(name)
    LEFT JOIN LATERAL (
      SELECT sum(delta) AS total FROM ${table(sql, schema, "queue_size_deltas")}
      WHERE queue = q.name
    ) s ON true
    CROSS JOIN LATERAL (
      SELECT count(*) AS inflight FROM ${jobs}
      WHERE queue = q.name AND receipt IS NOT NULL AND lease_expires_at > now()
    ) l
    -- Delayed = due later and not leased: every job due later (from the log of delays,
    -- migration 15) minus the leased ones due later (only in-flight rows are read).
    CROSS JOIN LATERAL (
      SELECT
        (SELECT coalesce(sum(delta), 0) FROM ${table(sql, schema, "queue_delay_deltas")}
          WHERE queue = q.name AND not_before > now())
        - (SELECT count(*) FROM ${jobs} WHERE queue = q.name AND receipt IS NOT NULL
            AND lease_expires_at > now() AND not_before > now()) AS delayed
    ) d
    CROSS JOIN LATERAL (
      SELECT count(*) AS dead FROM ${table(sql, schema, "dead_letters")} WHERE queue = q.name
    ) x`;
  const byName = new Map(rows.map((r) => [r.queue, { ...r }]));
  return names.map((name) => byName.get(name)!);
}
