import type { ScheduleEntry } from "../../../core/schedule.ts";
import { type Queryable, json, table, toDate } from "../database.ts";

/** The change counter's name as a regclass literal. */
export function changeCounter(schema: string): string {
  return `"${schema}".schedule_changes`;
}

/**
 * Stores `entry` (already carrying its new version) only if the stored version is still
 * `expectedVersion` (0: only if no entry with that id exists), bumping the change
 * counter. False when someone else changed the entry first.
 */
export async function writeSchedule(
  sql: Queryable,
  schema: string,
  entry: ScheduleEntry,
  expectedVersion: number,
): Promise<boolean> {
  const schedules = table(sql, schema, "schedules");
  const nextRunAt = toDate(entry.nextRunAt);
  const written =
    expectedVersion === 0
      ? sql`
        INSERT INTO ${schedules} (id, entry, next_run_at, enabled, version, updated_at)
        VALUES (${entry.id}, ${json(sql, entry)}, ${nextRunAt}::timestamptz, ${entry.enabled},
          ${entry.version}, now())
        ON CONFLICT (id) DO NOTHING
        RETURNING id`
      : sql`
        UPDATE ${schedules} SET entry = ${json(sql, entry)}, next_run_at = ${nextRunAt}::timestamptz,
          enabled = ${entry.enabled}, version = ${entry.version}, updated_at = now()
        WHERE id = ${entry.id} AND version = ${expectedVersion}
        RETURNING id`;
  const rows = await sql`
    WITH written AS (${written})
    SELECT id, nextval(${changeCounter(schema)}::regclass) FROM written`;
  return rows.length > 0;
}

/** Deletes an entry and its history, bumping the change counter. False when missing. */
export async function removeSchedule(sql: Queryable, schema: string, id: string): Promise<boolean> {
  const rows = await sql`
    WITH history AS (
      DELETE FROM ${table(sql, schema, "schedule_run_history")} WHERE entry_id = ${id}
    ), removed AS (
      DELETE FROM ${table(sql, schema, "schedules")} WHERE id = ${id} RETURNING id
    )
    SELECT id, nextval(${changeCounter(schema)}::regclass) FROM removed`;
  return rows.length > 0;
}
