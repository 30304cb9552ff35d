import type { TaskStatus } from "../../../core/states.ts";
import { type Queryable, json, table } from "../database.ts";

/**
 * Upserts whole task statuses in one statement, each expiring `ttlMs` from now by the
 * database clock. When an id appears twice in one call, the later status wins.
 */
export async function setStatuses(
  sql: Queryable,
  schema: string,
  statuses: TaskStatus[],
  ttlMs: number,
): Promise<void> {
  if (statuses.length === 0) return;
  const latest = [...new Map(statuses.map((s) => [s.id, s])).values()];
  await sql`
    INSERT INTO ${table(sql, schema, "task_results")} AS r
      (id, state, name, queue, status, updated_at, expires_at)
    SELECT s->>'id', s->>'state', coalesce(s->>'name', ''), coalesce(s->>'queue', ''), s,
      coalesce(to_timestamp((s->>'updatedAt')::double precision / 1000), now()),
      now() + interval '1 millisecond' * ${ttlMs}::double precision
    FROM jsonb_array_elements(${json(sql, latest)}) AS t(s)
    ON CONFLICT (id) DO UPDATE SET
      state = excluded.state, name = excluded.name, queue = excluded.queue,
      status = excluded.status, updated_at = excluded.updated_at, expires_at = excluded.expires_at`;
}
