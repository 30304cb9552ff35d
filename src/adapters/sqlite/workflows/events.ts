/** Events kept for runs that start waiting on their topic later, oldest first per topic. */
import type { KeptEvent } from "../../../workflow/run-transitions.ts";
import type { SqliteDatabase } from "../database.ts";

const INSERT = "INSERT INTO stem_workflow_events (topic, payload, expires_at) VALUES (?, ?, ?)";

const OLDEST = `
SELECT seq, payload, expires_at FROM stem_workflow_events
WHERE topic = ? AND expires_at > ? ORDER BY seq LIMIT 1`;

const DELETE_ONE = "DELETE FROM stem_workflow_events WHERE seq = ?";

const DELETE_EXPIRED_OF = "DELETE FROM stem_workflow_events WHERE topic = ? AND expires_at <= ?";

const DELETE_EXPIRED = "DELETE FROM stem_workflow_events WHERE expires_at <= ?";

export function keepEvent(db: SqliteDatabase, topic: string, event: KeptEvent): void {
  db.statement<unknown, [string, string, number]>(INSERT).run(
    topic,
    JSON.stringify(event.payload === undefined ? null : event.payload),
    event.expiresAt,
  );
}

/** Takes (deletes and returns) the oldest event of `topic` still kept at `now`. */
export function takeEvent(db: SqliteDatabase, topic: string, now: number): KeptEvent | null {
  db.statement<unknown, [string, number]>(DELETE_EXPIRED_OF).run(topic, now);
  const row = db
    .statement<{ seq: number; payload: string; expires_at: number }, [string, number]>(OLDEST)
    .get(topic, now);
  if (!row) return null;
  db.statement<unknown, [number]>(DELETE_ONE).run(row.seq);
  return { payload: JSON.parse(row.payload), expiresAt: row.expires_at };
}

export function deleteExpiredEvents(db: SqliteDatabase, now: number): void {
  db.statement<unknown, [number]>(DELETE_EXPIRED).run(now);
}
