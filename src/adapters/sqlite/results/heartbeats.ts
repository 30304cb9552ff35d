/** Worker heartbeats: one row per worker, overwritten on each beat, gone once expired. */
import type { WorkerHeartbeat } from "../../contracts.ts";
import type { SqliteDatabase } from "../database.ts";

const UPSERT = `
INSERT INTO stem_heartbeats (worker_id, heartbeat, expires_at) VALUES (?, ?, ?)
ON CONFLICT (worker_id) DO UPDATE SET heartbeat = excluded.heartbeat, expires_at = excluded.expires_at`;

const SELECT_ONE = "SELECT heartbeat FROM stem_heartbeats WHERE worker_id = ? AND expires_at > ?";

const SELECT_LIVE = "SELECT heartbeat FROM stem_heartbeats WHERE expires_at > ? ORDER BY worker_id";

export function setHeartbeat(
  db: SqliteDatabase,
  heartbeat: WorkerHeartbeat,
  expiresAt: number,
): void {
  const upsert = db.statement<unknown, [string, string, number]>(UPSERT);
  db.single(() => upsert.run(heartbeat.workerId, JSON.stringify(heartbeat), expiresAt), true);
}

export function getHeartbeat(
  db: SqliteDatabase,
  workerId: string,
  now: number,
): WorkerHeartbeat | null {
  const select = db.statement<{ heartbeat: string }, [string, number]>(SELECT_ONE);
  const row = db.single(() => select.get(workerId, now));
  return row ? (JSON.parse(row.heartbeat) as WorkerHeartbeat) : null;
}

const DELETE = "DELETE FROM stem_heartbeats WHERE worker_id = ?";

export function removeHeartbeat(db: SqliteDatabase, workerId: string): void {
  const remove = db.statement<unknown, [string]>(DELETE);
  db.single(() => remove.run(workerId), true);
}

export function listHeartbeats(db: SqliteDatabase, now: number): WorkerHeartbeat[] {
  const select = db.statement<{ heartbeat: string }, [number]>(SELECT_LIVE);
  return db
    .single(() => select.all(now))
    .map((row) => JSON.parse(row.heartbeat) as WorkerHeartbeat);
}
