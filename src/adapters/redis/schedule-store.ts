/**
 * Schedule entries on Redis: entry JSON in one hash, a ZSET of enabled entries by
 * nextRunAt for due(), a change counter for Beat, and a capped history list per entry.
 * Writes are compare-and-set on the entry version in Lua.
 */

import { systemClock } from "../../core/clock.ts";
import { StemError, VersionConflictError } from "../../core/errors.ts";
import type { ScheduleEntry, ScheduleExecution, ScheduleRunRecord } from "../../core/schedule.ts";
import type { ScheduleStore } from "../contracts.ts";
import { checkVersion, executed, SCHEDULE_HISTORY_LIMIT, upserted } from "../schedule-state.ts";
import type { RedisClient } from "./client.ts";
import type { RedisKeys } from "./keys.ts";
import { removeScheduleScript } from "./lua/remove-schedule-4.ts";
import { writeScheduleScript } from "./lua/write-schedule-4.ts";
import { type LuaScript, runScript } from "./scripts.ts";

/** Every script the schedule store runs. */
export const SCHEDULE_SCRIPTS: readonly LuaScript[] = [writeScheduleScript, removeScheduleScript];

/** Read-modify-write attempts for store-side updates before giving up. */
const MAX_ATTEMPTS = 50;

export class RedisScheduleStore implements ScheduleStore {
  /** `client` must have SCHEDULE_SCRIPTS registered. */
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  /** Writes `next` if the stored version is still `expected`; returns the stored version otherwise. */
  private async write(
    next: ScheduleEntry,
    expected: number,
    run?: ScheduleRunRecord,
  ): Promise<{ written: boolean; version: number }> {
    const [written, version] = await runScript<[number, number]>(
      this.client,
      writeScheduleScript,
      [
        this.keys.schedules,
        this.keys.schedulesDue,
        this.keys.scheduleChanges,
        this.keys.scheduleHistory(next.id),
      ],
      [
        next.id,
        expected,
        JSON.stringify(next),
        next.nextRunAt === undefined ? "" : Math.round(next.nextRunAt),
        next.enabled ? "1" : "0",
        run ? JSON.stringify(run) : "",
        SCHEDULE_HISTORY_LIMIT,
      ],
    );
    return { written: written === 1, version };
  }

  async upsert(entry: ScheduleEntry): Promise<ScheduleEntry> {
    const stored = await this.get(entry.id);
    checkVersion(entry, stored);
    const next = upserted(structuredClone(entry), stored, Date.now());
    const { written, version } = await this.write(next, entry.version);
    if (!written) throw new VersionConflictError(entry.id, entry.version, version);
    return next;
  }

  async get(id: string): Promise<ScheduleEntry | null> {
    const text = await this.client.hget(this.keys.schedules, id);
    return text === null ? null : (JSON.parse(text) as ScheduleEntry);
  }

  async list(): Promise<ScheduleEntry[]> {
    const texts = await this.client.hvals(this.keys.schedules);
    return texts
      .map((t) => JSON.parse(t) as ScheduleEntry)
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  async remove(id: string): Promise<boolean> {
    const removed = await runScript<number>(
      this.client,
      removeScheduleScript,
      [
        this.keys.schedules,
        this.keys.schedulesDue,
        this.keys.scheduleChanges,
        this.keys.scheduleHistory(id),
      ],
      [id],
    );
    return removed === 1;
  }

  async due(now: number, limit = 100): Promise<ScheduleEntry[]> {
    const ids = await this.client.zrangebyscore(
      this.keys.schedulesDue,
      "-inf",
      now,
      "LIMIT",
      0,
      limit,
    );
    if (ids.length === 0) return [];
    const texts = await this.client.hmget(this.keys.schedules, ...ids);
    return texts
      .filter((t): t is string => t !== null)
      .map((t) => JSON.parse(t) as ScheduleEntry)
      .filter((e) => e.enabled && e.nextRunAt !== undefined && e.nextRunAt <= now);
  }

  async nextDueAt(): Promise<number | null> {
    const first = await this.client.zrange(this.keys.schedulesDue, 0, 0, "WITHSCORES");
    return first.length === 2 ? Number(first[1]) : null;
  }

  /** Re-reads and re-applies `change` until the write lands on an unchanged entry. */
  private async update(
    id: string,
    change: (entry: ScheduleEntry) => { next: ScheduleEntry; run?: ScheduleRunRecord },
  ): Promise<ScheduleEntry | null> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const stored = await this.get(id);
      if (!stored) return null;
      const { next, run } = change(stored);
      if ((await this.write(next, stored.version, run)).written) return next;
      // Lost the race: back off a random, growing while so competing writers spread out.
      await systemClock.sleep(Math.random() * Math.min(100, 2 ** attempt));
    }
    throw new StemError(
      "conflict",
      `schedule entry "${id}" kept changing; gave up after ${MAX_ATTEMPTS} attempts`,
    );
  }

  async markExecuted(id: string, execution: ScheduleExecution): Promise<ScheduleEntry | null> {
    return this.update(id, (entry) => ({
      next: executed(entry, execution, Date.now()),
      run: { entryId: id, ...execution },
    }));
  }

  async setEnabled(id: string, enabled: boolean): Promise<ScheduleEntry | null> {
    return this.update(id, (entry) => ({
      next: upserted({ ...entry, enabled }, entry, Date.now()),
    }));
  }

  async history(id: string, limit = 100): Promise<ScheduleRunRecord[]> {
    if (limit <= 0) return [];
    const texts = await this.client.lrange(this.keys.scheduleHistory(id), 0, limit - 1);
    return texts.map((t) => JSON.parse(t) as ScheduleRunRecord);
  }

  async changeToken(): Promise<string> {
    return (await this.client.get(this.keys.scheduleChanges)) ?? "0";
  }

  /** Nothing of its own to release; the connection owns the client. */
  async close(): Promise<void> {}
}
