import type postgres from "postgres";
import { type Queryable, table } from "../database.ts";

/** A delivered job, as acks name it. */
export interface JobKey {
  id: string;
  receipt: string;
}

/**
 * The delete of finished jobs, each only while it still carries the receipt it was
 * delivered with (a job whose lease was lost and re-delivered stays), as a statement
 * fragment (usable alone or after a WITH).
 */
export function deleteJobs(
  sql: Queryable,
  schema: string,
  deliveries: JobKey[],
): postgres.PendingQuery<postgres.Row[]> {
  return sql`
    DELETE FROM ${table(sql, schema, "jobs")}
    WHERE (id, receipt) IN (
      SELECT * FROM unnest(${deliveries.map((d) => d.id)}::text[], ${deliveries.map((d) => d.receipt)}::text[])
    )`;
}

/** Deletes finished jobs in one statement (see `deleteJobs`); returns how many were deleted. */
export async function ackJobs(
  sql: Queryable,
  schema: string,
  deliveries: JobKey[],
): Promise<number> {
  if (deliveries.length === 0) return 0;
  return (await deleteJobs(sql, schema, deliveries)).count;
}
