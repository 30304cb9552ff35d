import { type Queryable, table } from "../database.ts";
import { dropIdleRateBuckets } from "./rate-buckets.ts";

/** Rows deleted per statement, so a sweep never holds locks for long. */
export const SWEEP_BATCH = 1000;
/**
 * Statements per table per sweep at most: a table that fills faster than one batch per
 * sweep (a busy queue's delays, say) is emptied in several batches, up to this many.
 */
const MAX_BATCHES = 100;

/** Runs `deleteBatch` again while it deletes a full batch, up to MAX_BATCHES; the total. */
async function inBatches(deleteBatch: () => Promise<{ count: number }>): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const { count } = await deleteBatch();
    total += count;
    if (count < SWEEP_BATCH) break;
  }
  return total;
}

/**
 * Deletes a batch of expired statuses, groups (with their results), heartbeats and
 * locks, idle rate-limit buckets, control messages older than a minute, and delays whose due
 * time has passed, each table in batches. Reads already ignore expired rows; this only
 * reclaims space. Returns how many rows went.
 */
export async function sweepExpired(sql: Queryable, schema: string): Promise<number> {
  let removed = 0;
  for (const name of ["task_results", "groups", "worker_heartbeats"]) {
    const t = table(sql, schema, name);
    const key = name === "worker_heartbeats" ? sql`worker_id` : sql`id`;
    removed += await inBatches(
      () => sql`
        DELETE FROM ${t} WHERE ${key} IN (
          SELECT ${key} FROM ${t} WHERE expires_at <= now() LIMIT ${SWEEP_BATCH}
        )`,
    );
  }
  const locks = table(sql, schema, "locks");
  removed += await inBatches(
    () => sql`
      DELETE FROM ${locks} WHERE key IN (
        SELECT key FROM ${locks} WHERE expires_at <= now() LIMIT ${SWEEP_BATCH}
      )`,
  );
  removed += await dropIdleRateBuckets(sql, schema);
  // Delays whose time has passed count for nothing any more (see migration 15).
  const delays = table(sql, schema, "queue_delay_deltas");
  removed += await inBatches(
    () => sql`
      DELETE FROM ${delays} WHERE ctid IN (
        SELECT ctid FROM ${delays} WHERE not_before <= now() LIMIT ${SWEEP_BATCH}
      )`,
  );
  const messages = table(sql, schema, "control_messages");
  removed += await inBatches(
    () => sql`
      DELETE FROM ${messages} WHERE id IN (
        SELECT id FROM ${messages} WHERE created_at < now() - interval '1 minute' LIMIT ${SWEEP_BATCH}
      )`,
  );
  return removed;
}
