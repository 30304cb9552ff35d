import { type Queryable, table } from "../database.ts";

/** Resets a live status's time to live to `ttlMs` from now. */
export async function expireStatus(
  sql: Queryable,
  schema: string,
  id: string,
  ttlMs: number,
): Promise<void> {
  await sql`
    UPDATE ${table(sql, schema, "task_results")}
    SET expires_at = now() + interval '1 millisecond' * ${ttlMs}::double precision
    WHERE id = ${id} AND expires_at > now()`;
}
