import { type Queryable, table } from "../database.ts";

/**
 * Deletes finished jobs in one statement, each only while it still carries the
 * receipt it was delivered with (a job whose lease was lost and re-delivered stays).
 * Returns how many were deleted.
 */
export async function ackJobs(
  sql: Queryable,
  schema: string,
  deliveries: { id: string; receipt: string }[],
): Promise<number> {
  if (deliveries.length === 0) return 0;
  const result = await sql`
    DELETE FROM ${table(sql, schema, "jobs")}
    WHERE (id, receipt) IN (
      SELECT * FROM unnest(${deliveries.map((d) => d.id)}::text[], ${deliveries.map((d) => d.receipt)}::text[])
    )`;
  return result.count;
}
