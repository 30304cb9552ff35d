import type { QueueStats } from "../../contracts.ts";
import { type Queryable, table } from "../database.ts";

/**
 * Pending, in-flight, delayed and dead counts for `queues` (every queue ever published
 * to, by name, when omitted). A job whose lease ran out counts as pending.
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
  const rows = await sql<QueueStats[]>`
    SELECT q.name AS queue,
      coalesce(j.pending, 0)::integer AS pending,
      coalesce(j.inflight, 0)::integer AS inflight,
      coalesce(j.delayed, 0)::integer AS delayed,
      coalesce(d.dead, 0)::integer AS dead
    FROM unnest(${names}::text[]) AS q(name)
    LEFT JOIN (
      SELECT queue,
        count(*) FILTER (WHERE receipt IS NOT NULL AND lease_expires_at > now()) AS inflight,
        count(*) FILTER (WHERE NOT (receipt IS NOT NULL AND lease_expires_at > now())
          AND not_before > now()) AS delayed,
        count(*) FILTER (WHERE NOT (receipt IS NOT NULL AND lease_expires_at > now())
          AND (not_before IS NULL OR not_before <= now())) AS pending
      FROM ${table(sql, schema, "jobs")} WHERE queue = ANY(${names}::text[])
      GROUP BY queue
    ) j ON j.queue = q.name
    LEFT JOIN (
      SELECT queue, count(*) AS dead FROM ${table(sql, schema, "dead_letters")}
      WHERE queue = ANY(${names}::text[]) GROUP BY queue
    ) d ON d.queue = q.name`;
  const byName = new Map(rows.map((r) => [r.queue, { ...r }]));
  return names.map((name) => byName.get(name)!);
}
