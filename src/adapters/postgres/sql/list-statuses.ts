import type { TaskStatusQuery } from "../../contracts.ts";
import type { TaskStatus } from "../../../core/states.ts";
import { type Queryable, table } from "../database.ts";

/** Live statuses matching the filters, newest update first (default limit 50). */
export async function listStatuses(
  sql: Queryable,
  schema: string,
  query: TaskStatusQuery,
): Promise<TaskStatus[]> {
  const state = query.state ?? null;
  const queue = query.queue ?? null;
  const name = query.name ?? null;
  const since = query.updatedSince ?? null;
  const until = query.updatedUntil ?? null;
  const rows = await sql<{ status: TaskStatus }[]>`
    SELECT status FROM ${table(sql, schema, "task_results")}
    WHERE expires_at > now()
      AND (${state}::text IS NULL OR state = ${state}::text)
      AND (${queue}::text IS NULL OR queue = ${queue}::text)
      AND (${name}::text IS NULL OR name = ${name}::text)
      AND (${since}::double precision IS NULL
        OR updated_at >= to_timestamp(${since}::double precision / 1000))
      AND (${until}::double precision IS NULL
        OR updated_at <= to_timestamp(${until}::double precision / 1000))
    ORDER BY updated_at DESC, id
    LIMIT ${query.limit ?? 50}::bigint OFFSET ${query.offset ?? 0}::bigint`;
  return rows.map((r) => r.status);
}
