/**
 * A counter row bumped in the same transaction as every schedule change, so any process
 * sees a new change token as soon as the change commits.
 */
import type { SqliteDatabase } from "../database.ts";

const BUMP = `
INSERT INTO stem_change_counters (name, value) VALUES (?, 1)
ON CONFLICT (name) DO UPDATE SET value = value + 1`;

const READ = "SELECT value FROM stem_change_counters WHERE name = ?";

/** The counter schedule changes bump. */
export const SCHEDULES_COUNTER = "schedules";

/** Call inside the write transaction that made the change. */
export function bumpCounter(db: SqliteDatabase, name: string): void {
  db.statement<unknown, [string]>(BUMP).run(name);
}

export function readCounter(db: SqliteDatabase, name: string): number {
  return db.statement<{ value: number }, [string]>(READ).get(name)?.value ?? 0;
}
