import type { GroupStatus } from "../../contracts.ts";
import type { TaskStatus } from "../../../core/states.ts";
import { type Queryable, table } from "../database.ts";

interface GroupRow {
  id: string;
  expected: number;
  completed: number;
  meta: Record<string, unknown>;
  chord_callback_id: string | null;
  results: Record<string, TaskStatus>;
}

/** A live group with its member results by index, or null. */
export async function getGroup(
  sql: Queryable,
  schema: string,
  groupId: string,
): Promise<GroupStatus | null> {
  const [row] = await sql<GroupRow[]>`
    SELECT g.id, g.expected, g.completed, g.meta, g.chord_callback_id,
      coalesce((SELECT jsonb_object_agg(r.idx, r.status)
        FROM ${table(sql, schema, "group_results")} r WHERE r.group_id = g.id), '{}'::jsonb) AS results
    FROM ${table(sql, schema, "groups")} g
    WHERE g.id = ${groupId} AND g.expires_at > now()`;
  if (!row) return null;
  const group: GroupStatus = {
    id: row.id,
    expected: row.expected,
    results: row.results as unknown as Record<number, TaskStatus>,
    completed: row.completed,
    meta: row.meta,
  };
  if (row.chord_callback_id !== null) group.claimedBy = row.chord_callback_id;
  return group;
}
