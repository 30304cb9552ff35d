import type { ScheduleStore } from "../../contracts.ts";
import type {
  ScheduleEntry,
  ScheduleExecution,
  ScheduleRunRecord,
} from "../../../core/schedule.ts";
import { checkVersion, executed, upserted } from "../../schedule-state.ts";
import type { SqliteDatabase } from "../database.ts";
import { bumpCounter, readCounter, SCHEDULES_COUNTER } from "./change-counter.ts";
import {
  deleteEntry,
  readAllEntries,
  readDueEntries,
  readEntry,
  readNextDueAt,
  writeEntry,
} from "./entries.ts";
import { appendHistory, deleteHistory, readHistory } from "./history.ts";

/**
 * Schedule entries in a SQLite file, shared by every Beat and CLI process using it.
 * Writes check the optimistic version inside one BEGIN IMMEDIATE transaction.
 */
export class SqliteScheduleStore implements ScheduleStore {
  constructor(private readonly db: SqliteDatabase) {}

  async upsert(entry: ScheduleEntry): Promise<ScheduleEntry> {
    return this.db.write(() => this.store(entry));
  }

  /** Version check and write; inside a write transaction. */
  private store(entry: ScheduleEntry): ScheduleEntry {
    const stored = readEntry(this.db, entry.id);
    checkVersion(entry, stored);
    const next = upserted(structuredClone(entry), stored, this.db.now());
    writeEntry(this.db, next);
    bumpCounter(this.db, SCHEDULES_COUNTER);
    return next;
  }

  async get(id: string): Promise<ScheduleEntry | null> {
    return this.db.single(() => readEntry(this.db, id));
  }

  async list(): Promise<ScheduleEntry[]> {
    return this.db.single(() => readAllEntries(this.db));
  }

  async remove(id: string): Promise<boolean> {
    return this.db.write(() => {
      deleteHistory(this.db, id);
      const removed = deleteEntry(this.db, id);
      if (removed) bumpCounter(this.db, SCHEDULES_COUNTER);
      return removed;
    });
  }

  async due(now: number, limit = 100): Promise<ScheduleEntry[]> {
    return this.db.single(() => readDueEntries(this.db, now, limit));
  }

  async nextDueAt(): Promise<number | null> {
    return this.db.single(() => readNextDueAt(this.db));
  }

  async markExecuted(id: string, execution: ScheduleExecution): Promise<ScheduleEntry | null> {
    return this.db.write(() => {
      const entry = readEntry(this.db, id);
      if (!entry) return null;
      const now = this.db.now();
      const next = executed(entry, execution, now);
      writeEntry(this.db, next);
      appendHistory(this.db, { entryId: id, ...execution }, now);
      bumpCounter(this.db, SCHEDULES_COUNTER);
      return next;
    });
  }

  async setEnabled(id: string, enabled: boolean): Promise<ScheduleEntry | null> {
    return this.db.write(() => {
      const entry = readEntry(this.db, id);
      return entry ? this.store({ ...entry, enabled }) : null;
    });
  }

  async history(id: string, limit = 100): Promise<ScheduleRunRecord[]> {
    return this.db.single(() => readHistory(this.db, id, limit));
  }

  async changeToken(): Promise<string> {
    return String(this.db.single(() => readCounter(this.db, SCHEDULES_COUNTER)));
  }

  /** The connection owns the database; nothing to release here. */
  async close(): Promise<void> {}
}
