/**
 * Purging a queue: deletes its pending and delayed jobs, leaving live leases alone. It
 * deletes in chunks, one write transaction each, so workers' acks and fetches get the
 * write lock between chunks instead of waiting for the whole queue.
 */
import type { SqliteDatabase } from "../database.ts";

/** Jobs deleted per write transaction. */
const PURGE_CHUNK = 5000;

const PURGE = `
DELETE FROM stem_jobs WHERE seq IN (
  SELECT seq FROM stem_jobs
  WHERE queue = $queue AND (lease_expires_at IS NULL OR lease_expires_at <= $now)
  LIMIT $limit
)`;

/** Returns how many jobs were deleted; yields to the event loop between chunks. */
export async function purgeQueue(db: SqliteDatabase, queue: string, now: number): Promise<number> {
  const purge = db.statement<unknown, [{ queue: string; now: number; limit: number }]>(PURGE);
  let total = 0;
  for (;;) {
    const deleted = db.single(() => purge.run({ queue, now, limit: PURGE_CHUNK }).changes, true);
    total += deleted;
    if (deleted < PURGE_CHUNK) return total;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
