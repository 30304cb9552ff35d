import type { TaskStatus } from "../../../core/states.ts";
import type { TimelineEntry } from "../../../core/timeline.ts";
import { type Queryable, table } from "../database.ts";

/** Live statuses for `ids`, in the same order, null where missing or expired. */
export async function getStatuses(
  sql: Queryable,
  schema: string,
  ids: string[],
): Promise<(TaskStatus | null)[]> {
  if (ids.length === 0) return [];
  const rows = await sql<{ id: string; status: TaskStatus; timeline: TimelineEntry[] | null }[]>`
    SELECT id, status, timeline FROM ${table(sql, schema, "task_results")}
    WHERE id = ANY(${ids}::text[]) AND expires_at > now()`;
  const byId = new Map(
    rows.map((r) => [r.id, r.timeline ? { ...r.status, timeline: r.timeline } : r.status]),
  );
  return ids.map((id) => byId.get(id) ?? null);
}
