/** Reading schedule entries. */
import type { ScheduleEntry } from "../../../core/schedule.ts";
import { type Queryable, table } from "../database.ts";

/** One entry by id, or null; `lock` takes its row lock (inside a transaction). */
export async function getSchedule(
  sql: Queryable,
  schema: string,
  id: string,
  lock = false,
): Promise<ScheduleEntry | null> {
  const [row] = await sql<{ entry: ScheduleEntry }[]>`
    SELECT entry FROM ${table(sql, schema, "schedules")} WHERE id = ${id}
    ${lock ? sql`FOR UPDATE` : sql``}`;
  return row?.entry ?? null;
}

/** Every entry. */
export async function listSchedules(sql: Queryable, schema: string): Promise<ScheduleEntry[]> {
  const rows = await sql<{ entry: ScheduleEntry }[]>`
    SELECT entry FROM ${table(sql, schema, "schedules")}`;
  return rows.map((r) => r.entry).sort((a, b) => a.id.localeCompare(b.id));
}

/** Enabled entries due at `now`, earliest first (uses the partial index on next_run_at). */
export async function dueSchedules(
  sql: Queryable,
  schema: string,
  now: number,
  limit: number,
): Promise<ScheduleEntry[]> {
  const rows = await sql<{ entry: ScheduleEntry }[]>`
    SELECT entry FROM ${table(sql, schema, "schedules")}
    WHERE enabled AND next_run_at <= ${new Date(now)}
    ORDER BY next_run_at, id LIMIT ${limit}`;
  return rows.map((r) => r.entry);
}

/** The earliest nextRunAt among enabled entries, or null. */
export async function nextScheduleDueAt(sql: Queryable, schema: string): Promise<number | null> {
  const [row] = await sql<{ at: Date | null }[]>`
    SELECT min(next_run_at) AS at FROM ${table(sql, schema, "schedules")} WHERE enabled`;
  return row.at ? row.at.getTime() : null;
}

/** The schedule change counter's current value, as a string. */
export async function scheduleChangeToken(sql: Queryable, schema: string): Promise<string> {
  const [row] = await sql<{ last_value: string; is_called: boolean }[]>`
    SELECT last_value, is_called FROM ${table(sql, schema, "schedule_changes")}`;
  return row.is_called ? String(row.last_value) : "0";
}
