import type postgres from "postgres";
import type {
  ScheduleEntry,
  ScheduleExecution,
  ScheduleRunRecord,
} from "../../../core/schedule.ts";
import { SCHEDULE_HISTORY_LIMIT, executed } from "../../schedule-state.ts";
import { type Queryable, json, table } from "../database.ts";
import { getSchedule } from "./schedules.ts";
import { writeSchedule } from "./write-schedule.ts";

/**
 * Records one dispatch in a transaction: locks the entry, applies the shared
 * `executed` rules (run count, drift, errors, next run, version + 1), appends to the
 * entry's history and trims it to the newest SCHEDULE_HISTORY_LIMIT runs. Null when
 * the entry no longer exists.
 */
export async function recordScheduleRun(
  sql: postgres.Sql,
  schema: string,
  id: string,
  run: ScheduleExecution,
  now: number,
): Promise<ScheduleEntry | null> {
  return sql.begin(async (tx) => {
    const entry = await getSchedule(tx, schema, id, true);
    if (!entry) return null;
    const next = executed(entry, run, now);
    await writeSchedule(tx, schema, next, entry.version);
    const history = table(tx, schema, "schedule_run_history");
    const record: ScheduleRunRecord = { entryId: id, ...run };
    await tx`INSERT INTO ${history} (entry_id, run) VALUES (${id}, ${json(tx, record)})`;
    await tx`
      DELETE FROM ${history} WHERE entry_id = ${id} AND seq <= (
        SELECT seq FROM ${history} WHERE entry_id = ${id}
        ORDER BY seq DESC OFFSET ${SCHEDULE_HISTORY_LIMIT} LIMIT 1
      )`;
    return next;
  });
}

/** An entry's recorded runs, newest first. */
export async function scheduleHistory(
  sql: Queryable,
  schema: string,
  id: string,
  limit: number,
): Promise<ScheduleRunRecord[]> {
  const rows = await sql<{ run: ScheduleRunRecord }[]>`
    SELECT run FROM ${table(sql, schema, "schedule_run_history")}
    WHERE entry_id = ${id} ORDER BY seq DESC LIMIT ${limit}`;
  return rows.map((r) => r.run);
}
