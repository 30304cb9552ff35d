import { type Queryable, table } from "../database.ts";

/** Pushes a live lease out to now + ms. False when the lease expired or moved on. */
export async function extendLease(
  sql: Queryable,
  schema: string,
  delivery: { id: string; receipt: string },
  ms: number,
): Promise<boolean> {
  const rows = await sql`
    UPDATE ${table(sql, schema, "jobs")}
    SET lease_expires_at = now() + interval '1 millisecond' * ${ms}::double precision
    WHERE id = ${delivery.id} AND receipt = ${delivery.receipt} AND lease_expires_at > now()
    RETURNING id`;
  return rows.length > 0;
}
