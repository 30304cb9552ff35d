/** The missed-run policy and Beat's deterministic task ids. */
import { describe, expect, test } from "bun:test";
import { parseScheduledTaskId, scheduledTaskId } from "../../src/scheduler/dispatch-id.ts";
import { decideMissedRuns } from "../../src/scheduler/missed-runs.ts";

const T0 = Date.UTC(2025, 0, 1);

describe("decideMissedRuns", () => {
  const everyMinute = { spec: { kind: "interval" as const, every: "1m" } };

  test("an entry late by no more than the grace fires its own due time", () => {
    expect(decideMissedRuns(everyMinute, T0, T0 + 5 * 60_000, 5 * 60_000)).toEqual({
      scheduledFor: T0,
      skipped: 0,
      moreSkipped: false,
    });
  });

  test("an entry late by more fires the latest due time that has passed and counts the skipped ones", () => {
    expect(decideMissedRuns(everyMinute, T0, T0 + 10 * 60_000 + 30_000, 20_000)).toEqual({
      scheduledFor: T0 + 10 * 60_000,
      skipped: 10,
      moreSkipped: false,
    });
  });

  test("cron entries in a time zone", () => {
    const daily = {
      spec: { kind: "cron" as const, expression: "30 2 * * *" },
      timezone: "America/New_York",
    };
    // Due 2025-01-01 02:30 EST (07:30Z); Beat back on 2025-01-04 at 12:00Z.
    const due = Date.UTC(2025, 0, 1, 7, 30);
    const decision = decideMissedRuns(daily, due, Date.UTC(2025, 0, 4, 12), 60_000);
    expect(decision).toEqual({
      scheduledFor: Date.UTC(2025, 0, 4, 7, 30),
      skipped: 3,
      moreSkipped: false,
    });
  });

  test("a very long outage of a frequent entry is found by search, not by walking every run", () => {
    const everySecond = { spec: { kind: "interval" as const, every: "1s" } };
    const now = T0 + 3 * 86_400_000 + 750;
    const started = performance.now();
    const decision = decideMissedRuns(everySecond, T0, now, 20_000);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(decision.scheduledFor).toBe(T0 + 3 * 86_400_000);
    expect(decision.moreSkipped).toBe(true);
    expect(decision.skipped).toBeGreaterThanOrEqual(1000);
  });

  test("a one-off entry has nothing to collapse", () => {
    const once = { spec: { kind: "clocked" as const, runAt: T0 } };
    expect(decideMissedRuns(once, T0, T0 + 86_400_000, 1000).scheduledFor).toBe(T0);
  });
});

describe("scheduled task ids", () => {
  test("are made from the entry id and the due time, and parse back", () => {
    const id = scheduledTaskId("nightly-report-eu", 1735718400000);
    expect(id).toBe("sched-nightly-report-eu-1735718400000");
    expect(parseScheduledTaskId(id)).toEqual({
      entryId: "nightly-report-eu",
      dueAt: 1735718400000,
    });
    expect(parseScheduledTaskId("0192-uuid")).toBeNull();
    expect(parseScheduledTaskId("sched-x-notanumber")).toBeNull();
  });
});
