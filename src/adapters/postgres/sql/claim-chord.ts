import { type Queryable, table } from "../database.ts";

/**
 * Claims a live group's completion for `owner` (kept in chord_callback_id): true for the
 * first owner and for that owner again, false for anyone else.
 */
export async function claimChord(
  sql: Queryable,
  schema: string,
  groupId: string,
  owner: string,
): Promise<boolean> {
  const rows = await sql`
    UPDATE ${table(sql, schema, "groups")} SET chord_callback_id = ${owner}
    WHERE id = ${groupId} AND expires_at > now()
      AND (chord_callback_id IS NULL OR chord_callback_id = ${owner})
    RETURNING id`;
  return rows.length > 0;
}
