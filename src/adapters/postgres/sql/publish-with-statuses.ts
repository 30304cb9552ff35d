import type { Envelope } from "../../../core/envelope.ts";
import type { TaskStatus } from "../../../core/states.ts";
import type { PublishResult } from "../../contracts.ts";
import type { Queryable } from "../database.ts";
import { checkEnvelope, insertJobs, publishJobs, publishResult } from "./publish-jobs.ts";
import { upsertStatuses } from "./set-statuses.ts";

/**
 * Stores the tasks' statuses and publishes their envelopes in one statement: both commit
 * together, so a job is never visible to workers before its status (a worker's later
 * status is never overwritten by it), and nothing is published when storing fails.
 * One round trip per enqueue instead of two. With `unlessLive` (ids the caller chose),
 * statuses replace only expired or final ones (see `upsertStatuses`).
 */
export async function publishWithStatuses(
  sql: Queryable,
  schema: string,
  statuses: TaskStatus[],
  ttlMs: number,
  envelopes: Envelope[],
  options: { unlessLive?: boolean } = {},
): Promise<PublishResult> {
  if (statuses.length === 0) return publishJobs(sql, schema, envelopes);
  const checked = envelopes.map(checkEnvelope);
  if (checked.length === 0) {
    await upsertStatuses(sql, schema, statuses, ttlMs, options);
    return { accepted: [], duplicates: [] };
  }
  const rows = await sql<{ id: string }[]>`
    WITH stored AS (${upsertStatuses(sql, schema, statuses, ttlMs, options)})
    ${insertJobs(sql, schema, checked)}`;
  return publishResult(checked, rows);
}
