import type { ScheduleStore } from "../contracts.ts";
import type { ScheduleEntry, ScheduleExecution, ScheduleRunRecord } from "../../core/schedule.ts";
import { VersionConflictError } from "../../core/errors.ts";
import { checkVersion, upserted } from "../schedule-state.ts";
import type { PgDatabase } from "./database.ts";
import { recordScheduleRun, scheduleHistory } from "./sql/record-schedule-run.ts";
import {
  dueSchedules,
  getSchedule,
  listSchedules,
  nextScheduleDueAt,
  scheduleChangeToken,
} from "./sql/schedules.ts";
import { removeSchedule, writeSchedule } from "./sql/write-schedule.ts";

/** How often setEnabled retries when another writer keeps changing the entry. */
const SET_ENABLED_ATTEMPTS = 5;

/**
 * Schedule entries as JSON rows with indexed next_run_at/enabled columns. Writes are
 * optimistic: a conditional INSERT/UPDATE on the version refuses stale writers with
 * VersionConflictError. A sequence bumped by every change is the change token.
 */
export class PostgresScheduleStore implements ScheduleStore {
  constructor(private readonly db: PgDatabase) {}

  upsert(entry: ScheduleEntry): Promise<ScheduleEntry> {
    return this.db.run("upsert schedule", async (sql) => {
      const stored = await getSchedule(sql, this.db.schema, entry.id);
      checkVersion(entry, stored);
      const next = upserted(structuredClone(entry), stored, Date.now());
      if (!(await writeSchedule(sql, this.db.schema, next, stored?.version ?? 0))) {
        const actual = await getSchedule(sql, this.db.schema, entry.id);
        throw new VersionConflictError(entry.id, entry.version, actual?.version ?? 0);
      }
      return next;
    });
  }

  get(id: string): Promise<ScheduleEntry | null> {
    return this.db.run("read schedule", (sql) => getSchedule(sql, this.db.schema, id));
  }

  list(): Promise<ScheduleEntry[]> {
    return this.db.run("list schedules", (sql) => listSchedules(sql, this.db.schema));
  }

  remove(id: string): Promise<boolean> {
    return this.db.run("remove schedule", (sql) => removeSchedule(sql, this.db.schema, id));
  }

  due(now: number, limit = 100): Promise<ScheduleEntry[]> {
    return this.db.run("due schedules", (sql) => dueSchedules(sql, this.db.schema, now, limit));
  }

  nextDueAt(): Promise<number | null> {
    return this.db.run("next due schedule", (sql) => nextScheduleDueAt(sql, this.db.schema));
  }

  markExecuted(id: string, execution: ScheduleExecution): Promise<ScheduleEntry | null> {
    return this.db.run("record schedule run", (sql) =>
      recordScheduleRun(sql, this.db.schema, id, execution, Date.now()),
    );
  }

  async setEnabled(id: string, enabled: boolean): Promise<ScheduleEntry | null> {
    for (let attempt = 1; ; attempt++) {
      const entry = await this.get(id);
      if (!entry) return null;
      try {
        return await this.upsert({ ...entry, enabled });
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= SET_ENABLED_ATTEMPTS)
          throw error;
      }
    }
  }

  history(id: string, limit = 100): Promise<ScheduleRunRecord[]> {
    return this.db.run("schedule history", (sql) =>
      scheduleHistory(sql, this.db.schema, id, limit),
    );
  }

  changeToken(): Promise<string> {
    return this.db.run("schedule change token", (sql) => scheduleChangeToken(sql, this.db.schema));
  }

  async close(): Promise<void> {}
}
