import { type Queryable, table } from "../database.ts";
import { dropIdleRateBuckets } from "./rate-buckets.ts";

/** Rows deleted per table per sweep, so a sweep never holds locks for long. */
const SWEEP_BATCH = 1000;

/**
 * Deletes a batch of expired statuses, groups (with their results), heartbeats and
 * locks, idle rate-limit buckets, control messages older than a minute, and delays whose due
 * time has passed. Reads already ignore expired rows;
 * this only reclaims space. Returns how many rows went.
 */
export async function sweepExpired(sql: Queryable, schema: string): Promise<number> {
  let removed = 0;
  for (const name of ["task_results", "groups", "worker_heartbeats"]) {
    const t = table(sql, schema, name);
    const key = name === "worker_heartbeats" ? sql`worker_id` : sql`id`;
    const result = await sql`
      DELETE FROM ${t} WHERE ${key} IN (
        SELECT ${key} FROM ${t} WHERE expires_at <= now() LIMIT ${SWEEP_BATCH}
      )`;
    removed += result.count;
  }
  const locks = table(sql, schema, "locks");
  removed += (
    await sql`
      DELETE FROM ${locks} WHERE key IN (
        SELECT key FROM ${locks} WHERE expires_at <= now() LIMIT ${SWEEP_BATCH}
      )`
  ).count;
  removed += await dropIdleRateBuckets(sql, schema);
  // Delays whose time has passed count for nothing any more (see migration 15).
  const delays = table(sql, schema, "queue_delay_deltas");
  removed += (
    await sql`
      DELETE FROM ${delays} WHERE ctid IN (
        SELECT ctid FROM ${delays} WHERE not_before <= now() LIMIT ${SWEEP_BATCH}
      )`
  ).count;
  const messages = table(sql, schema, "control_messages");
  removed += (
    await sql`
      DELETE FROM ${messages} WHERE id IN (
        SELECT id FROM ${messages} WHERE created_at < now() - interval '1 minute' LIMIT ${SWEEP_BATCH}
      )`
  ).count;
  return removed;
}
