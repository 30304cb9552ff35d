import type { ScheduleStore } from "../contracts.ts";
import type { ScheduleEntry, ScheduleExecution, ScheduleRunRecord } from "../../core/schedule.ts";
import { type Clock, systemClock } from "../../core/clock.ts";
import { SCHEDULE_HISTORY_LIMIT, checkVersion, executed, upserted } from "../schedule-state.ts";

/** Schedule entries in process memory. */
export class MemoryScheduleStore implements ScheduleStore {
  private readonly entries = new Map<string, ScheduleEntry>();
  private readonly runs = new Map<string, ScheduleRunRecord[]>();
  private changes = 0;

  constructor(private readonly clock: Clock = systemClock) {}

  async upsert(entry: ScheduleEntry): Promise<ScheduleEntry> {
    const stored = this.entries.get(entry.id) ?? null;
    checkVersion(entry, stored);
    const next = upserted(structuredClone(entry), stored, this.clock.now());
    this.entries.set(entry.id, next);
    this.changes++;
    return structuredClone(next);
  }

  async get(id: string): Promise<ScheduleEntry | null> {
    const e = this.entries.get(id);
    return e ? structuredClone(e) : null;
  }

  async list(): Promise<ScheduleEntry[]> {
    return [...this.entries.values()]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((e) => structuredClone(e));
  }

  async remove(id: string): Promise<boolean> {
    this.runs.delete(id);
    const removed = this.entries.delete(id);
    if (removed) this.changes++;
    return removed;
  }

  async due(now: number, limit = 100): Promise<ScheduleEntry[]> {
    return [...this.entries.values()]
      .filter((e) => e.enabled && e.nextRunAt !== undefined && e.nextRunAt <= now)
      .sort((a, b) => a.nextRunAt! - b.nextRunAt!)
      .slice(0, limit)
      .map((e) => structuredClone(e));
  }

  async nextDueAt(): Promise<number | null> {
    let next: number | null = null;
    for (const e of this.entries.values()) {
      if (e.enabled && e.nextRunAt !== undefined && (next === null || e.nextRunAt < next)) {
        next = e.nextRunAt;
      }
    }
    return next;
  }

  async markExecuted(id: string, run: ScheduleExecution): Promise<ScheduleEntry | null> {
    const entry = this.entries.get(id);
    if (!entry) return null;
    const next = executed(entry, run, this.clock.now());
    this.entries.set(id, next);
    const history = this.runs.get(id) ?? [];
    history.push({ entryId: id, ...run });
    if (history.length > SCHEDULE_HISTORY_LIMIT) history.shift();
    this.runs.set(id, history);
    this.changes++;
    return structuredClone(next);
  }

  async setEnabled(id: string, enabled: boolean): Promise<ScheduleEntry | null> {
    const entry = this.entries.get(id);
    if (!entry) return null;
    return this.upsert({ ...entry, enabled });
  }

  async history(id: string, limit = 100): Promise<ScheduleRunRecord[]> {
    return structuredClone((this.runs.get(id) ?? []).slice(-limit).reverse());
  }

  async changeToken(): Promise<string> {
    return String(this.changes);
  }

  async close(): Promise<void> {}
}
