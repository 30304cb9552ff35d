/** Purging a queue: deletes its pending and delayed jobs, leaving live leases alone. */
import type { SqliteDatabase } from "../database.ts";

const PURGE = `
DELETE FROM stem_jobs
WHERE queue = $queue AND (lease_expires_at IS NULL OR lease_expires_at <= $now)`;

export function purgeQueue(db: SqliteDatabase, queue: string, now: number): number {
  const purge = db.statement<unknown, [{ queue: string; now: number }]>(PURGE);
  return db.single(() => purge.run({ queue, now }).changes, true);
}
