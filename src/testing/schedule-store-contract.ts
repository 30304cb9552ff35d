import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { ScheduleStore } from "../adapters/contracts.ts";
import type { ScheduleEntry } from "../core/schedule.ts";
import { VersionConflictError } from "../core/errors.ts";
import { type ContractFactory, type ContractSubject, uniqueName } from "./harness.ts";
import { SCHEDULE_HISTORY_LIMIT } from "../adapters/schedule-state.ts";

/** A new (unstored) entry with defaults. */
export function scheduleEntry(fields: Partial<ScheduleEntry> & { id: string }): ScheduleEntry {
  return {
    taskName: "reports.generate",
    args: {},
    kwargs: {},
    meta: {},
    spec: { kind: "interval", every: "30s" },
    enabled: true,
    totalRunCount: 0,
    version: 0,
    ...fields,
  };
}

/** The ScheduleStore contract every adapter must pass. */
export function scheduleStoreContract(name: string, factory: ContractFactory<ScheduleStore>): void {
  describe(`ScheduleStore contract: ${name}`, () => {
    let ctx: ContractSubject<ScheduleStore>;
    let store: ScheduleStore;
    beforeEach(async () => {
      ctx = await factory.create();
      store = ctx.subject;
    });
    afterEach(async () => {
      await ctx.cleanup();
    });

    test("an entry round-trips with its spec, args, kwargs, meta and durations unchanged", async () => {
      const id = uniqueName("sched");
      const entry = scheduleEntry({
        id,
        queue: "reports",
        args: { a: 1 },
        kwargs: { report: "daily" },
        meta: { owner: "ops" },
        spec: { kind: "interval", every: "1h30m", startAt: "2025-01-01T00:00:00Z" },
        jitter: "10s",
        timezone: "Europe/London",
        expireAt: Date.UTC(2030, 0, 1),
        nextRunAt: Date.UTC(2025, 0, 1),
      });
      const stored = await store.upsert(entry);
      expect(stored.version).toBe(1);
      expect(stored.createdAt).toBeNumber();
      const got = await store.get(id);
      expect(got).toEqual(stored);
      expect(got?.spec).toEqual(entry.spec);
      expect(got?.jitter).toBe("10s");
      await store.upsert(
        scheduleEntry({
          id: `${id}-2`,
          spec: { kind: "solar", event: "sunrise", latitude: 51.5, longitude: -0.13, offset: 1500 },
        }),
      );
      expect((await store.get(`${id}-2`))?.spec).toEqual({
        kind: "solar",
        event: "sunrise",
        latitude: 51.5,
        longitude: -0.13,
        offset: 1500,
      });
      expect(await store.get(uniqueName("missing"))).toBeNull();
    });

    test("an upsert with a stale version is refused", async () => {
      const id = uniqueName("sched");
      const v1 = await store.upsert(scheduleEntry({ id }));
      const v2 = await store.upsert({ ...v1, taskName: "changed" });
      expect(v2.version).toBe(2);
      const stale = store.upsert({ ...v1, taskName: "stale" });
      await expect(stale).rejects.toBeInstanceOf(VersionConflictError);
      await expect(store.upsert(scheduleEntry({ id }))).rejects.toBeInstanceOf(
        VersionConflictError,
      );
      expect((await store.get(id))?.taskName).toBe("changed");
    });

    test("list, remove and enable/disable", async () => {
      const a = uniqueName("sched-a");
      const b = uniqueName("sched-b");
      await store.upsert(scheduleEntry({ id: a }));
      await store.upsert(scheduleEntry({ id: b }));
      const ids = (await store.list()).map((e) => e.id);
      expect(ids).toContain(a);
      expect(ids).toContain(b);
      const disabled = await store.setEnabled(a, false);
      expect(disabled?.enabled).toBe(false);
      expect(disabled?.version).toBe(2);
      expect(await store.remove(b)).toBe(true);
      expect(await store.remove(b)).toBe(false);
      expect(await store.get(b)).toBeNull();
      expect(await store.setEnabled(b, true)).toBeNull();
    });

    test("due lists enabled entries whose time has come, earliest first", async () => {
      const now = Date.now();
      const ids = [0, 1, 2, 3].map(() => uniqueName("due"));
      await store.upsert(scheduleEntry({ id: ids[0], nextRunAt: now - 1000 }));
      await store.upsert(scheduleEntry({ id: ids[1], nextRunAt: now - 5000 }));
      await store.upsert(scheduleEntry({ id: ids[2], nextRunAt: now + 60_000 }));
      await store.upsert(scheduleEntry({ id: ids[3], nextRunAt: now - 9000, enabled: false }));
      const due = (await store.due(now)).filter((e) => ids.includes(e.id));
      expect(due.map((e) => e.id)).toEqual([ids[1], ids[0]]);
      expect((await store.due(now, 1)).length).toBe(1);
      expect(await store.nextDueAt()).toBeLessThanOrEqual(now - 5000);
    });

    test("history stays capped at the newest 1,000 runs however many are recorded", async () => {
      const id = uniqueName("capped");
      const t = Date.UTC(2025, 5, 1, 12);
      await store.upsert(scheduleEntry({ id, nextRunAt: t }));
      const runs = SCHEDULE_HISTORY_LIMIT + 5;
      for (let i = 0; i < runs; i++) {
        const at = t + i * 1000;
        await store.markExecuted(id, {
          scheduledFor: at,
          executedAt: at,
          success: true,
          nextRunAt: at + 1000,
        });
      }
      const history = await store.history(id, runs);
      expect(history.length).toBe(SCHEDULE_HISTORY_LIMIT);
      expect(history[0].scheduledFor).toBe(t + (runs - 1) * 1000);
      expect(history.at(-1)?.scheduledFor).toBe(t + 5 * 1000);
      expect((await store.get(id))?.totalRunCount).toBe(runs);
    }, 60_000);

    test("markExecuted counts runs, records drift and errors, and keeps history", async () => {
      const id = uniqueName("sched");
      const t = Date.UTC(2025, 5, 1, 12);
      await store.upsert(scheduleEntry({ id, nextRunAt: t }));
      const ok = await store.markExecuted(id, {
        scheduledFor: t,
        executedAt: t + 12,
        success: true,
        jitterMs: 3,
        nextRunAt: t + 30_000,
      });
      expect(ok).toMatchObject({
        totalRunCount: 1,
        lastRunAt: t + 12,
        drift: 12,
        nextRunAt: t + 30_000,
        version: 2,
      });
      expect(ok?.lastSuccessAt).toBe(t + 12);
      const failed = await store.markExecuted(id, {
        scheduledFor: t + 30_000,
        executedAt: t + 30_005,
        success: false,
        error: "broker down",
        nextRunAt: t + 60_000,
      });
      expect(failed).toMatchObject({
        totalRunCount: 2,
        lastError: "broker down",
        drift: 5,
        lastErrorAt: t + 30_005,
      });
      const last = await store.markExecuted(id, {
        scheduledFor: t + 60_000,
        executedAt: t + 60_001,
        success: true,
        disable: true,
      });
      expect(last?.enabled).toBe(false);
      expect(last?.nextRunAt).toBeUndefined();
      expect(last?.lastError).toBeUndefined();
      const history = await store.history(id);
      expect(history.map((h) => h.scheduledFor)).toEqual([t + 60_000, t + 30_000, t]);
      expect(history[1]).toMatchObject({ entryId: id, success: false, error: "broker down" });
      expect(
        await store.markExecuted(uniqueName("missing"), {
          scheduledFor: t,
          executedAt: t,
          success: true,
        }),
      ).toBeNull();
    });

    test("a run recorded against a stale expectedVersion is refused and changes nothing", async () => {
      const id = uniqueName("sched");
      const t = Date.UTC(2025, 5, 1, 12);
      const v1 = await store.upsert(scheduleEntry({ id, nextRunAt: t }));
      const run = { scheduledFor: t, executedAt: t + 5, success: true, nextRunAt: t + 30_000 };
      const first = await store.markExecuted(id, { ...run, expectedVersion: v1.version });
      expect(first?.totalRunCount).toBe(1);
      const second = ctx
        .peer()
        .then((other) => other.markExecuted(id, { ...run, expectedVersion: v1.version }));
      await expect(second).rejects.toBeInstanceOf(VersionConflictError);
      const stored = await store.get(id);
      expect(stored?.totalRunCount).toBe(1);
      expect(stored?.version).toBe(first?.version);
      expect((await store.history(id)).length).toBe(1);
    });

    test("the change token moves when entries change", async () => {
      const before = await store.changeToken();
      const id = uniqueName("sched");
      await store.upsert(scheduleEntry({ id }));
      const after = await store.changeToken();
      expect(after).not.toBe(before);
      const other = await ctx.peer();
      await other.setEnabled(id, false);
      expect(await store.changeToken()).not.toBe(after);
    });
  });
}
