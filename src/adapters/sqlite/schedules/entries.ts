/** Schedule entries: the entry as JSON plus indexed columns for due-time queries. */
import type { ScheduleEntry } from "../../../core/schedule.ts";
import type { SqliteDatabase } from "../database.ts";

const SELECT_ONE = "SELECT entry FROM stem_schedules WHERE id = ?";

const SELECT_ALL = "SELECT entry FROM stem_schedules ORDER BY id";

const SELECT_DUE = `
SELECT entry FROM stem_schedules
WHERE enabled = 1 AND next_run_at IS NOT NULL AND next_run_at <= ?
ORDER BY next_run_at ASC, id ASC
LIMIT ?`;

const NEXT_DUE = `
SELECT min(next_run_at) AS next FROM stem_schedules
WHERE enabled = 1 AND next_run_at IS NOT NULL`;

const UPSERT = `
INSERT INTO stem_schedules (id, entry, enabled, next_run_at, version)
VALUES ($id, $entry, $enabled, $nextRunAt, $version)
ON CONFLICT (id) DO UPDATE SET
  entry = excluded.entry, enabled = excluded.enabled,
  next_run_at = excluded.next_run_at, version = excluded.version`;

const DELETE_ONE = "DELETE FROM stem_schedules WHERE id = ?";

const parse = (row: { entry: string }) => JSON.parse(row.entry) as ScheduleEntry;

/** The stored entry, or null. */
export function readEntry(db: SqliteDatabase, id: string): ScheduleEntry | null {
  const row = db.statement<{ entry: string }, [string]>(SELECT_ONE).get(id);
  return row ? parse(row) : null;
}

/** Every entry, by id. */
export function readAllEntries(db: SqliteDatabase): ScheduleEntry[] {
  return db.statement<{ entry: string }>(SELECT_ALL).all().map(parse);
}

/** Enabled entries due at `now`, earliest first. */
export function readDueEntries(db: SqliteDatabase, now: number, limit: number): ScheduleEntry[] {
  return db.statement<{ entry: string }, [number, number]>(SELECT_DUE).all(now, limit).map(parse);
}

/** The earliest nextRunAt among enabled entries, or null. */
export function readNextDueAt(db: SqliteDatabase): number | null {
  return db.statement<{ next: number | null }>(NEXT_DUE).get()?.next ?? null;
}

/** Stores an entry as given (its version already bumped). Call inside a write transaction. */
export function writeEntry(db: SqliteDatabase, entry: ScheduleEntry): void {
  db.statement<
    unknown,
    [{ id: string; entry: string; enabled: number; nextRunAt: number | null; version: number }]
  >(UPSERT).run({
    id: entry.id,
    entry: JSON.stringify(entry),
    enabled: entry.enabled ? 1 : 0,
    nextRunAt: entry.nextRunAt ?? null,
    version: entry.version,
  });
}

/** Deletes an entry; true when it existed. Call inside a write transaction. */
export function deleteEntry(db: SqliteDatabase, id: string): boolean {
  return db.statement<unknown, [string]>(DELETE_ONE).run(id).changes > 0;
}
