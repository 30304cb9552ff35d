/** Execution history per entry, trimmed to the newest SCHEDULE_HISTORY_LIMIT records. */
import type { ScheduleRunRecord } from "../../../core/schedule.ts";
import { SCHEDULE_HISTORY_LIMIT } from "../../schedule-state.ts";
import type { SqliteDatabase } from "../database.ts";

const APPEND = "INSERT INTO stem_schedule_history (entry_id, run, recorded_at) VALUES (?, ?, ?)";

/** Deletes everything older than the entry's newest `limit` records. */
const TRIM = `
DELETE FROM stem_schedule_history
WHERE entry_id = $entryId AND seq <= (
  SELECT seq FROM stem_schedule_history WHERE entry_id = $entryId
  ORDER BY seq DESC LIMIT 1 OFFSET $limit
)`;

const SELECT_NEWEST = `
SELECT run FROM stem_schedule_history WHERE entry_id = ? ORDER BY seq DESC LIMIT ?`;

const DELETE_ALL = "DELETE FROM stem_schedule_history WHERE entry_id = ?";

/** Appends one record and trims the entry's history. Call inside a write transaction. */
export function appendHistory(db: SqliteDatabase, record: ScheduleRunRecord, now: number): void {
  db.statement<unknown, [string, string, number]>(APPEND).run(
    record.entryId,
    JSON.stringify(record),
    now,
  );
  db.statement<unknown, [{ entryId: string; limit: number }]>(TRIM).run({
    entryId: record.entryId,
    limit: SCHEDULE_HISTORY_LIMIT,
  });
}

/** Newest first. */
export function readHistory(
  db: SqliteDatabase,
  entryId: string,
  limit: number,
): ScheduleRunRecord[] {
  return db
    .statement<{ run: string }, [string, number]>(SELECT_NEWEST)
    .all(entryId, limit)
    .map((row) => JSON.parse(row.run) as ScheduleRunRecord);
}

/** Drops an entry's history. Call inside a write transaction. */
export function deleteHistory(db: SqliteDatabase, entryId: string): void {
  db.statement<unknown, [string]>(DELETE_ALL).run(entryId);
}
