import { describe, expect, test } from "bun:test";
import type { CalendarSpec, ScheduleSpec } from "../../src/core/schedule.ts";
import { StemError } from "../../src/core/errors.ts";
import { calendarToCron, nextCronRun, nextRunAt, nextRuns } from "../../src/scheduler/index.ts";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe("interval next run", () => {
  const every = (spec: Partial<Extract<ScheduleSpec, { kind: "interval" }>>) => ({
    spec: { kind: "interval", every: "10m", ...spec } as ScheduleSpec,
  });

  test("without an anchor, the next run is one interval after `after`", () => {
    expect(iso(nextRunAt(every({}), at("2025-01-01T00:00:00Z")))).toBe("2025-01-01T00:10:00.000Z");
    expect(nextRunAt(every({ every: 500 }), 1000)).toBe(1500);
    expect(nextRunAt(every({ every: "250ms" }), 1000)).toBe(1250);
  });

  test("anchored at lastRunAt: the first lastRunAt + k·every after `after`, no catch-up", () => {
    const entry = { ...every({}), lastRunAt: at("2025-01-01T00:00:00Z") };
    expect(iso(nextRunAt(entry, at("2025-01-01T00:00:00Z")))).toBe("2025-01-01T00:10:00.000Z");
    expect(iso(nextRunAt(entry, at("2025-01-01T00:10:00Z")))).toBe("2025-01-01T00:20:00.000Z");
    expect(iso(nextRunAt(entry, at("2025-01-01T01:03:00Z")))).toBe("2025-01-01T01:10:00.000Z");
  });

  test("anchored at startAt, with runs at startAt + k·every", () => {
    const entry = every({ startAt: "2025-01-01T09:00:00Z" });
    expect(iso(nextRunAt(entry, at("2025-01-01T08:00:00Z")))).toBe("2025-01-01T09:00:00.000Z");
    expect(iso(nextRunAt(entry, at("2025-01-01T09:00:00Z")))).toBe("2025-01-01T09:10:00.000Z");
    expect(iso(nextRunAt(entry, at("2025-01-01T09:25:00Z")))).toBe("2025-01-01T09:30:00.000Z");
    // startAt wins over lastRunAt, so late dispatches do not shift the grid.
    expect(
      iso(
        nextRunAt({ ...entry, lastRunAt: at("2025-01-01T09:10:07Z") }, at("2025-01-01T09:10:07Z")),
      ),
    ).toBe("2025-01-01T09:20:00.000Z");
  });

  test("endAt closes the window: no run at or after it", () => {
    const entry = every({ startAt: "2025-01-01T09:00:00Z", endAt: "2025-01-01T09:30:00Z" });
    expect(nextRuns(entry, at("2025-01-01T08:00:00Z"), 10).map(iso)).toEqual([
      "2025-01-01T09:00:00.000Z",
      "2025-01-01T09:10:00.000Z",
      "2025-01-01T09:20:00.000Z",
    ]);
    expect(nextRunAt(entry, at("2025-01-01T09:30:00Z"))).toBeNull();
    expect(nextRunAt(entry, at("2025-01-02T00:00:00Z"))).toBeNull();
    expect(nextRunAt(every({ endAt: 5000 }), 4000)).toBeNull();
  });

  test("startAt and endAt may be epoch milliseconds", () => {
    expect(nextRuns(every({ every: 100, startAt: 1000, endAt: 1250 }), 0, 5)).toEqual([
      1000, 1100, 1200,
    ]);
  });
});

describe("clocked next run", () => {
  const entry = { spec: { kind: "clocked", runAt: "2025-01-01T09:00:00Z" } as ScheduleSpec };

  test("runAt when it is ahead and the entry has not run", () => {
    expect(iso(nextRunAt(entry, at("2025-01-01T00:00:00Z")))).toBe("2025-01-01T09:00:00.000Z");
  });

  test("null once runAt has passed or the entry has run", () => {
    expect(nextRunAt(entry, at("2025-01-01T09:00:00Z"))).toBeNull();
    expect(
      nextRunAt({ ...entry, lastRunAt: at("2025-01-01T09:00:01Z") }, at("2024-01-01T00:00:00Z")),
    ).toBeNull();
    expect(nextRuns(entry, at("2024-01-01T00:00:00Z"), 5).map(iso)).toEqual([
      "2025-01-01T09:00:00.000Z",
    ]);
  });
});

describe("entry-level limits", () => {
  test("runOnce: no run after the first", () => {
    const entry = { spec: { kind: "interval", every: "1m" } as ScheduleSpec, runOnce: true };
    expect(nextRunAt(entry, 0)).toBe(60_000);
    expect(nextRunAt({ ...entry, lastRunAt: 60_000 }, 60_000)).toBeNull();
    expect(nextRuns(entry, 0, 5)).toEqual([60_000]);
  });

  test("expireAt: no run after it", () => {
    const entry = { spec: { kind: "interval", every: "1m" } as ScheduleSpec, expireAt: 180_000 };
    expect(nextRuns(entry, 0, 10)).toEqual([60_000, 120_000, 180_000]);
  });
});

describe("calendar specs", () => {
  test("compile to cron with Celery's defaults: omitted fields mean every value", () => {
    expect(calendarToCron({ kind: "calendar", hours: [9], weekdays: [1, 2, 3, 4, 5] })).toBe(
      "* 9 * * 1,2,3,4,5",
    );
    expect(
      calendarToCron({ kind: "calendar", hours: [9], minutes: [0], weekdays: [5, 1, 1] }),
    ).toBe("0 9 * * 1,5");
    expect(calendarToCron({ kind: "calendar", months: [12, 6], monthdays: [1] })).toBe(
      "* * 1 6,12 *",
    );
    expect(calendarToCron({ kind: "calendar" })).toBe("* * * * *");
  });

  test("monthdays and weekdays must both match (Celery), unlike plain cron", () => {
    expect(
      calendarToCron({
        kind: "calendar",
        monthdays: [13],
        weekdays: [5],
        hours: [0],
        minutes: [0],
      }),
    ).toBe("0 0 13 * +5");
    const friday13 = {
      spec: {
        kind: "calendar",
        monthdays: [13],
        weekdays: [5],
        hours: [0],
        minutes: [0],
      } as ScheduleSpec,
    };
    expect(nextRuns(friday13, at("2025-01-01T00:00:00Z"), 3).map(iso)).toEqual([
      "2025-06-13T00:00:00.000Z",
      "2026-02-13T00:00:00.000Z",
      "2026-03-13T00:00:00.000Z",
    ]);
  });

  test("a calendar and its compiled cron give identical runs, in a time zone across DST", () => {
    const calendars: CalendarSpec[] = [
      { kind: "calendar", hours: [9], minutes: [0], weekdays: [1, 2, 3, 4, 5] },
      { kind: "calendar", hours: [1, 2], minutes: [30] },
      { kind: "calendar", minutes: [0, 15, 30, 45] },
      { kind: "calendar", months: [2], monthdays: [29], hours: [12], minutes: [0] },
      { kind: "calendar", monthdays: [1, 15], weekdays: [1], hours: [6], minutes: [5] },
      { kind: "calendar", hours: [2] },
    ];
    for (const spec of calendars) {
      for (const timezone of ["UTC", "America/New_York", "Europe/London"]) {
        const from = at("2025-03-08T00:00:00Z");
        const calendarRuns = nextRuns({ spec, timezone }, from, 40);
        const cronRuns = nextRuns(
          { spec: { kind: "cron", expression: calendarToCron(spec) }, timezone },
          from,
          40,
        );
        expect(calendarRuns).toHaveLength(40);
        expect(calendarRuns).toEqual(cronRuns);
      }
    }
  });

  test("weekday runs land on the right days in the entry's zone", () => {
    const entry = {
      spec: {
        kind: "calendar",
        hours: [9],
        minutes: [0],
        weekdays: [1, 2, 3, 4, 5],
      } as ScheduleSpec,
      timezone: "Europe/London",
    };
    // 2025-07-04 is a Friday; the next weekday 09:00 BST runs are Fri, Mon.
    expect(nextRuns(entry, at("2025-07-04T00:00:00Z"), 2).map(iso)).toEqual([
      "2025-07-04T08:00:00.000Z",
      "2025-07-07T08:00:00.000Z",
    ]);
  });
});

describe("invalid specs reaching the calculator", () => {
  test("are refused with a StemError naming the problem", () => {
    expect(() => nextCronRun("61 * * * *", "UTC", 0)).toThrow(
      'cron expression: "61 * * * *" is not a valid cron expression',
    );
    expect(() => nextRunAt({ spec: { kind: "weekly" } as unknown as ScheduleSpec }, 0)).toThrow(
      'unknown schedule kind "weekly"',
    );
    try {
      nextRunAt({ spec: { kind: "clocked", runAt: "someday" } }, 0);
      throw new Error("expected a StemError");
    } catch (error) {
      expect(error).toBeInstanceOf(StemError);
      expect((error as StemError).code).toBe("invalid_argument");
      expect((error as Error).message).toStartWith('time: "someday" is not an ISO 8601 time');
    }
  });
});
