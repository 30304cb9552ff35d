import type { GroupDescriptor } from "../../contracts.ts";
import { type Queryable, json, table } from "../database.ts";

/** Creates a group, or resets an existing one (results, count and chord claim cleared). */
export async function initGroup(
  sql: Queryable,
  schema: string,
  group: GroupDescriptor,
  ttlMs: number,
): Promise<void> {
  await sql`
    WITH cleared AS (
      DELETE FROM ${table(sql, schema, "group_results")} WHERE group_id = ${group.id}
    )
    INSERT INTO ${table(sql, schema, "groups")}
      (id, expected, completed, meta, chord_callback_id, expires_at)
    VALUES (${group.id}, ${group.expected}, 0, ${json(sql, group.meta ?? {})}, NULL,
      now() + interval '1 millisecond' * ${ttlMs}::double precision)
    ON CONFLICT (id) DO UPDATE SET
      expected = excluded.expected, completed = 0, meta = excluded.meta,
      chord_callback_id = NULL, expires_at = excluded.expires_at`;
}
