import { describe, expect, test } from "bun:test";
import type { ScheduleSpec } from "../../src/core/schedule.ts";
import { instantsOfWallTime, localDate, nextRuns, offsetAt } from "../../src/scheduler/index.ts";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const cron = (expression: string, timezone: string) => ({
  spec: { kind: "cron", expression } as ScheduleSpec,
  timezone,
});

describe("wall-clock times in IANA zones", () => {
  test("offsets follow the zone's rules", () => {
    expect(offsetAt("America/New_York", at("2025-01-15T12:00:00Z"))).toBe(-5 * 3_600_000);
    expect(offsetAt("America/New_York", at("2025-07-15T12:00:00Z"))).toBe(-4 * 3_600_000);
    expect(offsetAt("Asia/Kolkata", at("2025-07-15T12:00:00Z"))).toBe(5.5 * 3_600_000);
    expect(offsetAt("UTC", at("2025-07-15T12:00:00Z"))).toBe(0);
    expect(localDate("Pacific/Auckland", at("2025-07-15T13:00:00Z"))).toBe("2025-07-16");
  });

  test("a wall time is single, repeated (fall back) or skipped (spring forward)", () => {
    expect(instantsOfWallTime("America/New_York", at("2025-06-01T09:00:00Z"))).toEqual({
      kind: "single",
      at: at("2025-06-01T13:00:00Z"),
    });
    expect(instantsOfWallTime("America/New_York", at("2025-11-02T01:30:00Z"))).toEqual({
      kind: "repeated",
      first: at("2025-11-02T05:30:00Z"),
      second: at("2025-11-02T06:30:00Z"),
    });
    expect(instantsOfWallTime("America/New_York", at("2025-03-09T02:30:00Z"))).toEqual({
      kind: "skipped",
      resumesAt: at("2025-03-09T07:00:00Z"),
    });
  });

  test("a transition at midnight: a midnight job runs when the day starts (America/Santiago)", () => {
    // Chile springs forward at 24:00 on 2025-09-06: 2025-09-07 begins at 01:00 (-03).
    const runs = nextRuns(cron("0 0 * * *", "America/Santiago"), at("2025-09-05T12:00:00Z"), 3).map(
      iso,
    );
    expect(runs).toEqual([
      "2025-09-06T04:00:00.000Z", // 00:00 -04
      "2025-09-07T04:00:00.000Z", // 01:00 -03, the first minute of the day
      "2025-09-08T03:00:00.000Z", // 00:00 -03
    ]);
  });

  test("half-hour DST shifts (Australia/Lord_Howe)", () => {
    // Lord Howe moves from +10:30 to +11 at 02:00 on 2025-10-05: 02:00–02:29 is skipped.
    const fixed = nextRuns(
      cron("15 2 * * *", "Australia/Lord_Howe"),
      at("2025-10-04T00:00:00Z"),
      2,
    ).map(iso);
    expect(fixed).toEqual([
      "2025-10-04T15:30:00.000Z", // the 5th: 02:15 does not exist; runs at the jump (02:30 +11)
      "2025-10-05T15:15:00.000Z", // the 6th: 02:15 +11
    ]);
  });

  test("an every-second job across a fall-back stays correct and quick", () => {
    const started = performance.now();
    const runs = nextRuns(
      cron("* * * * * *", "America/New_York"),
      at("2025-11-02T05:59:58Z"),
      4,
    ).map(iso);
    expect(runs).toEqual([
      "2025-11-02T05:59:59.000Z",
      "2025-11-02T06:00:00.000Z",
      "2025-11-02T06:00:01.000Z",
      "2025-11-02T06:00:02.000Z",
    ]);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
