import type postgres from "postgres";
import type { GroupStatus } from "../../contracts.ts";
import type { TaskStatus } from "../../../core/states.ts";
import { checkStatusesStorable } from "../../../core/storable.ts";
import { json, table } from "../database.ts";
import { getGroup } from "./get-group.ts";

/**
 * Records member `index` of a live group and returns the group afterwards, in one
 * transaction holding the group's row lock, so concurrent members (from any process)
 * apply one at a time: the completed count rises by one per new index, and a repeated
 * index only replaces its status. Null when the group is missing or expired.
 */
export async function addGroupResult(
  sql: postgres.Sql,
  schema: string,
  groupId: string,
  index: number,
  status: TaskStatus,
): Promise<GroupStatus | null> {
  checkStatusesStorable([status]);
  return sql.begin(async (tx) => {
    const groups = table(tx, schema, "groups");
    const results = table(tx, schema, "group_results");
    const [live] = await tx`
      SELECT id FROM ${groups} WHERE id = ${groupId} AND expires_at > now() FOR UPDATE`;
    if (!live) return null;
    await tx`
      WITH previous AS (
        SELECT 1 FROM ${results} WHERE group_id = ${groupId} AND idx = ${index}
      ), stored AS (
        INSERT INTO ${results} (group_id, idx, status)
        VALUES (${groupId}, ${index}, ${json(tx, status)})
        ON CONFLICT (group_id, idx) DO UPDATE SET status = excluded.status
      )
      UPDATE ${groups} SET completed = completed + 1
      WHERE id = ${groupId} AND NOT EXISTS (SELECT 1 FROM previous)`;
    return getGroup(tx, schema, groupId);
  });
}
