import { type Queryable, table } from "../database.ts";

/** Sets a live group's chord callback if none is set yet: true for exactly one caller. */
export async function claimChord(
  sql: Queryable,
  schema: string,
  groupId: string,
  callbackId: string,
): Promise<boolean> {
  const rows = await sql`
    UPDATE ${table(sql, schema, "groups")} SET chord_callback_id = ${callbackId}
    WHERE id = ${groupId} AND chord_callback_id IS NULL AND expires_at > now()
    RETURNING id`;
  return rows.length > 0;
}
