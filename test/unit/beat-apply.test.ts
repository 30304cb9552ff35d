/**
 * Applying schedule definitions to a store: execution state is kept, timing changes give a
 * new next run, conflicts are retried, dry runs change nothing; enable/disable.
 */
import { describe, expect, test } from "bun:test";
import type { ScheduleStore } from "../../src/adapters/contracts.ts";
import { MemoryScheduleStore } from "../../src/adapters/memory/index.ts";
import { VersionConflictError } from "../../src/core/errors.ts";
import type { ScheduleEntry } from "../../src/core/schedule.ts";
import {
  applySchedules,
  mergeDefinition,
  setScheduleEnabled,
  updateEntry,
} from "../../src/scheduler/apply.ts";
import { parseEntryDefinition } from "../../src/scheduler/entry-definition.ts";
import { FakeClock } from "../../src/testing/fake-clock.ts";

const T0 = Date.UTC(2025, 0, 1);

function def(fields: Record<string, unknown>): ScheduleEntry {
  return parseEntryDefinition({ id: "e", task: "demo.task", schedule: "every:1m", ...fields });
}

async function storeWithRuns(clock: FakeClock): Promise<MemoryScheduleStore> {
  const store = new MemoryScheduleStore(clock);
  await applySchedules(store, [def({})], { clock });
  await store.markExecuted("e", {
    scheduledFor: T0 + 60_000,
    executedAt: T0 + 60_012,
    success: true,
    driftMs: 12,
    nextRunAt: T0 + 120_000,
  });
  return store;
}

describe("applySchedules", () => {
  test("creates entries with a next run computed from now", async () => {
    const clock = new FakeClock(T0);
    const store = new MemoryScheduleStore(clock);
    const [item] = await applySchedules(store, [def({})], { clock });
    expect(item.action).toBe("create");
    expect(await store.get("e")).toMatchObject({
      version: 1,
      nextRunAt: T0 + 60_000,
      totalRunCount: 0,
    });
  });

  test("keeps run state when the definition changes but its timing does not", async () => {
    const clock = new FakeClock(T0);
    const store = await storeWithRuns(clock);
    await clock.advance(70_000);
    const [item] = await applySchedules(store, [def({ queue: "reports", kwargs: { a: 1 } })], {
      clock,
    });
    expect(item.action).toBe("update");
    expect(item.changed).toEqual(["queue", "kwargs"]);
    expect(await store.get("e")).toMatchObject({
      queue: "reports",
      kwargs: { a: 1 },
      totalRunCount: 1,
      lastRunAt: T0 + 60_012,
      drift: 12,
      nextRunAt: T0 + 120_000,
    });
    expect(await store.history("e")).toHaveLength(1);
  });

  test("a changed spec gets a fresh next run; counters and history stay", async () => {
    const clock = new FakeClock(T0);
    const store = await storeWithRuns(clock);
    await clock.advance(70_000);
    await applySchedules(store, [def({ schedule: "every:10m" })], { clock });
    expect(await store.get("e")).toMatchObject({
      totalRunCount: 1,
      nextRunAt: T0 + 70_000 + 600_000,
    });
  });

  test("applying the same definitions again changes nothing", async () => {
    const clock = new FakeClock(T0);
    const store = await storeWithRuns(clock);
    const before = await store.get("e");
    const [item] = await applySchedules(store, [def({})], { clock });
    expect(item.action).toBe("unchanged");
    expect(await store.get("e")).toEqual(before);
  });

  test("a dry run reports create, update and unchanged and writes nothing", async () => {
    const clock = new FakeClock(T0);
    const store = await storeWithRuns(clock);
    const token = await store.changeToken();
    const items = await applySchedules(store, [def({ id: "e", queue: "q2" }), def({ id: "new" })], {
      clock,
      dryRun: true,
    });
    expect(items.map((i) => [i.id, i.action])).toEqual([
      ["e", "update"],
      ["new", "create"],
    ]);
    expect(await store.changeToken()).toBe(token);
    expect(await store.get("new")).toBeNull();
  });

  test("a version conflict is retried with the fresh entry, keeping the run recorded meanwhile", async () => {
    const clock = new FakeClock(T0);
    const inner = await storeWithRuns(clock);
    let raced = 0;
    // Another Beat records a run between apply's read and its write, twice.
    const racing: ScheduleStore = Object.assign(Object.create(inner), {
      upsert: async (entry: ScheduleEntry) => {
        if (raced < 2) {
          raced++;
          await inner.markExecuted("e", {
            scheduledFor: 0,
            executedAt: T0 + raced,
            success: true,
            nextRunAt: T0 + 180_000,
          });
        }
        return inner.upsert(entry);
      },
    });
    // Retries pause between attempts; this clock does not make the test wait.
    await applySchedules(racing, [def({ queue: "later" })], {
      clock: { now: () => clock.now(), sleep: async () => {} },
    });
    expect(await inner.get("e")).toMatchObject({
      queue: "later",
      totalRunCount: 3,
      nextRunAt: T0 + 180_000,
    });
  });

  test("gives up after five conflicting attempts with a clear error", async () => {
    const clock = new FakeClock(T0);
    const inner = await storeWithRuns(clock);
    const always: ScheduleStore = Object.assign(Object.create(inner), {
      upsert: async (entry: ScheduleEntry) => {
        throw new VersionConflictError(entry.id, entry.version, entry.version + 1);
      },
    });
    let attempts = 0;
    const pending = updateEntry(
      always,
      "e",
      (stored) => {
        attempts++;
        return stored;
      },
      { now: () => T0, sleep: async () => {} },
    );
    await expect(pending).rejects.toThrow(
      'schedule "e" kept changing while being written (5 attempts)',
    );
    expect(attempts).toBe(5);
  });
});

describe("mergeDefinition", () => {
  test("a run-once entry the store disabled after its run stays disabled", () => {
    const stored: ScheduleEntry = {
      ...def({ runOnce: true }),
      enabled: false,
      lastRunAt: T0,
      totalRunCount: 1,
      version: 3,
    };
    const merged = mergeDefinition(def({ runOnce: true }), stored, T0 + 1000);
    expect(merged.enabled).toBe(false);
    expect(merged.nextRunAt).toBeUndefined();
  });

  test("re-enabling does not fire for the time the entry was disabled", () => {
    const stored: ScheduleEntry = {
      ...def({}),
      enabled: false,
      nextRunAt: T0,
      totalRunCount: 0,
      version: 2,
    };
    const merged = mergeDefinition(def({}), stored, T0 + 3_600_000);
    expect(merged.enabled).toBe(true);
    expect(merged.nextRunAt).toBe(T0 + 3_600_000 + 60_000);
  });
});

describe("setScheduleEnabled", () => {
  test("disables and enables; enabling skips the runs missed while disabled; unknown ids are null", async () => {
    const clock = new FakeClock(T0);
    const store = await storeWithRuns(clock);
    expect((await setScheduleEnabled(store, "e", false, { clock }))?.enabled).toBe(false);
    await clock.advance(3_600_000);
    const enabled = await setScheduleEnabled(store, "e", true, { clock });
    expect(enabled?.enabled).toBe(true);
    expect(enabled?.nextRunAt).toBeGreaterThan(clock.now());
    expect(await setScheduleEnabled(store, "missing", true, { clock })).toBeNull();
  });
});
