import { describe, expect, test } from "bun:test";
import type { ScheduleSpec } from "../../src/core/schedule.ts";
import { compileCron, nextCronRun, nextRunAt, nextRuns } from "../../src/scheduler/index.ts";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const cron = (expression: string, timezone?: string) => ({
  spec: { kind: "cron", expression } as ScheduleSpec,
  timezone,
});
/** Runs in [from, to): nextRuns is strictly after, so start 1 ms early. */
function runsBetween(entry: ReturnType<typeof cron>, from: string, to: string): string[] {
  return nextRuns(entry, at(from) - 1, 200)
    .filter((t) => t < at(to))
    .map(iso);
}

describe("cron next run", () => {
  test("is strictly after the given time, in UTC by default", () => {
    expect(iso(nextRunAt(cron("0 12 * * *"), at("2025-01-01T11:59:59Z"))!)).toBe(
      "2025-01-01T12:00:00.000Z",
    );
    expect(iso(nextRunAt(cron("0 12 * * *"), at("2025-01-01T12:00:00Z"))!)).toBe(
      "2025-01-02T12:00:00.000Z",
    );
  });

  test("runs on the entry's time zone wall clock", () => {
    // 12:00 in London is 11:00 UTC in summer (BST) and 12:00 UTC in winter (GMT).
    const entry = cron("0 12 * * MON", "Europe/London");
    expect(iso(nextRunAt(entry, at("2025-07-01T00:00:00Z"))!)).toBe("2025-07-07T11:00:00.000Z");
    expect(iso(nextRunAt(entry, at("2025-12-01T00:00:00Z"))!)).toBe("2025-12-01T12:00:00.000Z");
  });

  test("accepts six fields with leading seconds", () => {
    expect(iso(nextRunAt(cron("15 30 9 * * *"), at("2025-01-01T00:00:00Z"))!)).toBe(
      "2025-01-01T09:30:15.000Z",
    );
  });

  test("aliases, month and weekday names, and ranges", () => {
    const from = at("2025-05-15T10:00:00Z");
    expect(iso(nextRunAt(cron("@yearly"), from)!)).toBe("2026-01-01T00:00:00.000Z");
    expect(iso(nextRunAt(cron("@annually"), from)!)).toBe("2026-01-01T00:00:00.000Z");
    expect(iso(nextRunAt(cron("@monthly"), from)!)).toBe("2025-06-01T00:00:00.000Z");
    expect(iso(nextRunAt(cron("@weekly"), from)!)).toBe("2025-05-18T00:00:00.000Z"); // Sunday
    expect(iso(nextRunAt(cron("@daily"), from)!)).toBe("2025-05-16T00:00:00.000Z");
    expect(iso(nextRunAt(cron("@hourly"), from)!)).toBe("2025-05-15T11:00:00.000Z");
    expect(iso(nextRunAt(cron("0 9 1 JUN,DEC *"), from)!)).toBe("2025-06-01T09:00:00.000Z");
    // 2025-05-15 is a Thursday: MON-FRI at 09:00 next fires Friday the 16th.
    expect(nextRuns(cron("0 9 * * MON-FRI"), from, 3).map(iso)).toEqual([
      "2025-05-16T09:00:00.000Z",
      "2025-05-19T09:00:00.000Z",
      "2025-05-20T09:00:00.000Z",
    ]);
    expect(nextRuns(cron("0 9 * * SAT,SUN"), from, 2).map(iso)).toEqual([
      "2025-05-17T09:00:00.000Z",
      "2025-05-18T09:00:00.000Z",
    ]);
  });

  test("0 0 29 2 * finds the next leap day", () => {
    expect(iso(nextRunAt(cron("0 0 29 2 *"), at("2025-01-01T00:00:00Z"))!)).toBe(
      "2028-02-29T00:00:00.000Z",
    );
    expect(
      iso(nextRunAt(cron("0 0 29 2 *", "America/New_York"), at("2025-01-01T00:00:00Z"))!),
    ).toBe("2028-02-29T05:00:00.000Z");
  });

  test("day of month and day of week are ORed when both are restricted (Vixie cron)", () => {
    const runs = runsBetween(cron("0 0 13 * FRI"), "2025-06-01T00:00:00Z", "2025-07-01T00:00:00Z");
    // Every Friday of June 2025 (6, 13, 20, 27) and the 13th (also a Friday).
    expect(runs).toEqual([
      "2025-06-06T00:00:00.000Z",
      "2025-06-13T00:00:00.000Z",
      "2025-06-20T00:00:00.000Z",
      "2025-06-27T00:00:00.000Z",
    ]);
    const july = runsBetween(cron("0 0 13 * FRI"), "2025-07-01T00:00:00Z", "2025-08-01T00:00:00Z");
    // July 13th 2025 is a Sunday: it fires on the 13th as well as on every Friday.
    expect(july).toEqual([
      "2025-07-04T00:00:00.000Z",
      "2025-07-11T00:00:00.000Z",
      "2025-07-13T00:00:00.000Z",
      "2025-07-18T00:00:00.000Z",
      "2025-07-25T00:00:00.000Z",
    ]);
  });

  test("a restricted day of week with a wildcard day of month only fires on those weekdays", () => {
    const runs = runsBetween(cron("0 0 * * FRI"), "2025-07-01T00:00:00Z", "2025-08-01T00:00:00Z");
    expect(runs).toHaveLength(4);
  });
});

describe("cron across DST in America/New_York (Vixie cron rules)", () => {
  const zone = "America/New_York";

  test("spring forward 2025-03-09: a 02:30 daily job runs once, at 03:00 EDT right after the jump", () => {
    const runs = runsBetween(
      cron("30 2 * * *", zone),
      "2025-03-08T05:00:00Z",
      "2025-03-11T04:00:00Z",
    );
    expect(runs).toEqual([
      "2025-03-08T07:30:00.000Z", // 02:30 EST
      "2025-03-09T07:00:00.000Z", // 03:00 EDT: 02:30 does not exist that day
      "2025-03-10T06:30:00.000Z", // 02:30 EDT
    ]);
  });

  test("fall back 2025-11-02: a 01:30 daily job runs once, at the first 01:30 (EDT)", () => {
    const runs = runsBetween(
      cron("30 1 * * *", zone),
      "2025-11-01T04:00:00Z",
      "2025-11-04T05:00:00Z",
    );
    expect(runs).toEqual([
      "2025-11-01T05:30:00.000Z", // 01:30 EDT
      "2025-11-02T05:30:00.000Z", // first 01:30 (EDT), not again at 01:30 EST
      "2025-11-03T06:30:00.000Z", // 01:30 EST
    ]);
  });

  test("fall back: a 02:30 daily job is unaffected and runs once", () => {
    const runs = runsBetween(
      cron("30 2 * * *", zone),
      "2025-11-02T04:00:00Z",
      "2025-11-03T05:00:00Z",
    );
    expect(runs).toEqual(["2025-11-02T07:30:00.000Z"]);
  });

  test("a fall-back run computed from between the two 01:30s is not repeated", () => {
    // 01:45 EDT, after the first 01:30: the next run is the next day, not 01:30 EST.
    expect(iso(nextRunAt(cron("30 1 * * *", zone), at("2025-11-02T05:45:00Z"))!)).toBe(
      "2025-11-03T06:30:00.000Z",
    );
  });

  test("an hour list counts as a fixed time: 0 1,2 runs once in each hour on both days", () => {
    const fall = runsBetween(
      cron("0 1,2 * * *", zone),
      "2025-11-02T04:00:00Z",
      "2025-11-03T05:00:00Z",
    );
    expect(fall).toEqual(["2025-11-02T05:00:00.000Z", "2025-11-02T07:00:00.000Z"]);
    const spring = runsBetween(
      cron("0 1,2 * * *", zone),
      "2025-03-09T05:00:00Z",
      "2025-03-10T04:00:00Z",
    );
    expect(spring).toEqual(["2025-03-09T06:00:00.000Z", "2025-03-09T07:00:00.000Z"]);
  });

  test("an hourly job runs on each real hour: 25 runs on fall-back day, 23 on spring-forward day", () => {
    const fall = runsBetween(
      cron("0 * * * *", zone),
      "2025-11-02T04:00:00Z",
      "2025-11-03T05:00:00Z",
    );
    expect(fall).toHaveLength(25);
    expect(fall.slice(0, 4)).toEqual([
      "2025-11-02T04:00:00.000Z", // 00:00 EDT
      "2025-11-02T05:00:00.000Z", // 01:00 EDT
      "2025-11-02T06:00:00.000Z", // 01:00 EST
      "2025-11-02T07:00:00.000Z", // 02:00 EST
    ]);
    const spring = runsBetween(
      cron("0 * * * *", zone),
      "2025-03-09T05:00:00Z",
      "2025-03-10T04:00:00Z",
    );
    expect(spring).toHaveLength(23);
    expect(spring.slice(1, 3)).toEqual([
      "2025-03-09T06:00:00.000Z", // 01:00 EST
      "2025-03-09T07:00:00.000Z", // 03:00 EDT (02:00 does not exist)
    ]);
  });

  test("a step in the hour field is a wildcard job: skipped times do not run", () => {
    const spring = runsBetween(
      cron("0 */2 * * *", zone),
      "2025-03-09T05:00:00Z",
      "2025-03-10T04:00:00Z",
    );
    expect(spring).toHaveLength(11); // 00, 04, 06, ... 22: 02:00 is skipped
    expect(spring.slice(0, 2)).toEqual(["2025-03-09T05:00:00.000Z", "2025-03-09T08:00:00.000Z"]);
  });

  test("a wildcard minute in a fixed hour is a wildcard job (Vixie MIN_STAR)", () => {
    const fall = runsBetween(
      cron("*/30 1 * * *", zone),
      "2025-11-02T04:00:00Z",
      "2025-11-03T05:00:00Z",
    );
    expect(fall).toEqual([
      "2025-11-02T05:00:00.000Z",
      "2025-11-02T05:30:00.000Z",
      "2025-11-02T06:00:00.000Z",
      "2025-11-02T06:30:00.000Z",
    ]);
    const spring = runsBetween(
      cron("*/30 2 * * *", zone),
      "2025-03-09T05:00:00Z",
      "2025-03-10T04:00:00Z",
    );
    expect(spring).toEqual([]);
  });
});

describe("cron across DST in Europe/London", () => {
  const zone = "Europe/London";

  test("spring forward 2025-03-30: a 01:30 daily job runs once, at 02:00 BST", () => {
    const runs = runsBetween(
      cron("30 1 * * *", zone),
      "2025-03-29T00:00:00Z",
      "2025-03-31T00:00:00Z",
    );
    expect(runs).toEqual(["2025-03-29T01:30:00.000Z", "2025-03-30T01:00:00.000Z"]);
  });

  test("fall back 2025-10-26: a 01:30 daily job runs once, at the first 01:30 (BST)", () => {
    const runs = runsBetween(
      cron("30 1 * * *", zone),
      "2025-10-25T23:00:00Z",
      "2025-10-27T00:00:00Z",
    );
    expect(runs).toEqual(["2025-10-26T00:30:00.000Z"]);
  });

  test("an hourly job runs 25 times on fall-back day and 23 on spring-forward day", () => {
    expect(
      runsBetween(cron("0 * * * *", zone), "2025-10-25T23:00:00Z", "2025-10-27T00:00:00Z"),
    ).toHaveLength(25);
    expect(
      runsBetween(cron("0 * * * *", zone), "2025-03-30T00:00:00Z", "2025-03-30T23:00:00Z"),
    ).toHaveLength(23);
  });

  test("a 02:30 job is not affected by the fall-back and runs once", () => {
    const runs = runsBetween(
      cron("30 2 * * *", zone),
      "2025-10-25T23:00:00Z",
      "2025-10-27T00:00:00Z",
    );
    expect(runs).toEqual(["2025-10-26T02:30:00.000Z"]);
  });
});

describe("cron expressions", () => {
  test("fixed-time and wildcard jobs are told apart", () => {
    expect(compileCron("30 2 * * *").fixedTime).toBe(true);
    expect(compileCron("0 9,17 * * MON-FRI").fixedTime).toBe(true);
    expect(compileCron("@daily").fixedTime).toBe(true);
    expect(compileCron("0 * * * *").fixedTime).toBe(false);
    expect(compileCron("@hourly").fixedTime).toBe(false);
    expect(compileCron("0 0-23/2 * * *").fixedTime).toBe(false);
    expect(compileCron("*/5 2 * * *").fixedTime).toBe(false);
    expect(compileCron("0 30 2 * * *").fixedTime).toBe(true);
  });

  test("nextCronRun takes an expression and a zone directly", () => {
    expect(iso(nextCronRun("0 0 * * *", "Asia/Tokyo", at("2025-01-01T00:00:00Z"))!)).toBe(
      "2025-01-01T15:00:00.000Z",
    );
  });
});
