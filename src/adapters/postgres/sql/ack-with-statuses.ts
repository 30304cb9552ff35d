import type { TaskStatus } from "../../../core/states.ts";
import type { Queryable } from "../database.ts";
import { type JobKey, ackJobs, deleteJobs } from "./ack-jobs.ts";
import { setStatuses, upsertStatuses } from "./set-statuses.ts";

/**
 * Stores task statuses and deletes finished jobs in one statement, so both commit
 * together or not at all: a job is never acked without its status, and one round trip
 * (one commit) serves a whole batch of completions.
 */
export async function ackWithStatuses(
  sql: Queryable,
  schema: string,
  statuses: TaskStatus[],
  ttlMs: number,
  deliveries: JobKey[],
): Promise<void> {
  if (deliveries.length === 0) return setStatuses(sql, schema, statuses, ttlMs);
  if (statuses.length === 0) {
    await ackJobs(sql, schema, deliveries);
    return;
  }
  await sql`
    WITH stored AS (${upsertStatuses(sql, schema, statuses, ttlMs)})
    ${deleteJobs(sql, schema, deliveries)}`;
}
