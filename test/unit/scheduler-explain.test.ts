/**
 * explainSchedule: due times with the notes that say why (DST gaps and overlaps, short
 * months, Feb 29, DOM/DOW, polar night) and what a Beat restart would do.
 */
import { describe, expect, test } from "bun:test";
import type { ScheduleSpec } from "../../src/core/schedule.ts";
import {
  type ExplainableEntry,
  explainSchedule,
  explanationJson,
  nextRuns,
} from "../../src/scheduler/index.ts";

const utc = (...p: [number, number, number, number?, number?, number?]) =>
  Date.UTC(p[0], p[1] - 1, p[2], p[3] ?? 0, p[4] ?? 0, p[5] ?? 0);

function explain(spec: ScheduleSpec, timezone: string | undefined, now: number, count: number) {
  return explainSchedule({ spec, timezone }, { now, count });
}

/** [UTC ISO, local, notes] per run. */
function rows(e: ReturnType<typeof explain>) {
  return e.runs.map((r) => [new Date(r.at).toISOString(), r.local, r.notes]);
}

describe("DST in New York", () => {
  test("a fixed-time job in the spring-forward gap runs at the jump, with the reason", () => {
    const e = explain(
      { kind: "cron", expression: "30 2 * * *" },
      "America/New_York",
      utc(2026, 3, 7),
      3,
    );
    expect(rows(e)).toEqual([
      ["2026-03-07T07:30:00.000Z", "2026-03-07T02:30:00-05:00", []],
      [
        "2026-03-08T07:00:00.000Z",
        "2026-03-08T03:00:00-04:00",
        [
          "02:30 does not exist on 2026-03-08 in America/New_York (clocks jump from 02:00 to 03:00): runs at 03:00",
        ],
      ],
      ["2026-03-09T06:30:00.000Z", "2026-03-09T02:30:00-04:00", []],
    ]);
    // The same due times as Beat computes.
    expect(e.runs.map((r) => r.at)).toEqual(
      nextRuns(
        { spec: { kind: "cron", expression: "30 2 * * *" }, timezone: "America/New_York" },
        utc(2026, 3, 7),
        3,
      ),
    );
  });

  test("a wildcard job skips the times the clocks jump over", () => {
    const e = explain(
      { kind: "cron", expression: "*/30 * * * *" },
      "America/New_York",
      utc(2026, 3, 8, 6),
      2,
    );
    expect(rows(e)[1]).toEqual([
      "2026-03-08T07:00:00.000Z",
      "2026-03-08T03:00:00-04:00",
      [
        "02:00, 02:30 do not exist on 2026-03-08 in America/New_York (clocks jump from 02:00 to 03:00): not run",
      ],
    ]);
  });

  test("a fixed-time job in the fall-back hour runs once, at the first", () => {
    const e = explain(
      { kind: "cron", expression: "30 1 * * *" },
      "America/New_York",
      utc(2026, 10, 31, 12),
      2,
    );
    expect(rows(e)).toEqual([
      [
        "2026-11-01T05:30:00.000Z",
        "2026-11-01T01:30:00-04:00",
        [
          "01:30 happens twice on 2026-11-01 in America/New_York (clocks go back from 02:00 to 01:00): runs once, at the first (-04:00)",
        ],
      ],
      ["2026-11-02T06:30:00.000Z", "2026-11-02T01:30:00-05:00", []],
    ]);
  });
});

describe("DST in London", () => {
  test("a 01:30 job on the spring-forward day runs at 02:00 BST", () => {
    const e = explain(
      { kind: "cron", expression: "30 1 * * *" },
      "Europe/London",
      utc(2026, 3, 28, 12),
      1,
    );
    expect(rows(e)).toEqual([
      [
        "2026-03-29T01:00:00.000Z",
        "2026-03-29T02:00:00+01:00",
        [
          "01:30 does not exist on 2026-03-29 in Europe/London (clocks jump from 01:00 to 02:00): runs at 02:00",
        ],
      ],
    ]);
  });

  test("an hourly job runs at both 01:00s on the fall-back day", () => {
    const e = explain(
      { kind: "cron", expression: "0 * * * *" },
      "Europe/London",
      utc(2026, 10, 24, 23, 30),
      3,
    );
    const head =
      "01:00 happens twice on 2026-10-25 in Europe/London (clocks go back from 02:00 to 01:00): runs at both";
    expect(rows(e)).toEqual([
      [
        "2026-10-25T00:00:00.000Z",
        "2026-10-25T01:00:00+01:00",
        [`${head}; this is the first (+01:00)`],
      ],
      [
        "2026-10-25T01:00:00.000Z",
        "2026-10-25T01:00:00+00:00",
        [`${head}; this is the second (+00:00)`],
      ],
      ["2026-10-25T02:00:00.000Z", "2026-10-25T02:00:00+00:00", []],
    ]);
  });

  test("an interval keeps real-time spacing, so its local time moves", () => {
    const e = explain(
      { kind: "interval", every: "1h" },
      "Europe/London",
      utc(2026, 3, 29, 0, 30),
      1,
    );
    expect(e.runs[0].local).toBe("2026-03-29T02:30:00+01:00");
    expect(e.runs[0].notes).toEqual([
      "clocks change before this run (+00:00 → +01:00): intervals run in real time, so the local time of the runs moves by 1h",
    ]);
  });
});

describe("the calendar", () => {
  test("day-of-month 31 skips months without it", () => {
    const e = explain({ kind: "cron", expression: "0 9 31 * *" }, undefined, utc(2026, 1, 1), 3);
    expect(e.rules).toEqual(["day-of-month 31 skips months without it: Feb, Apr, Jun, Sep, Nov"]);
    expect(rows(e)).toEqual([
      ["2026-01-31T09:00:00.000Z", "2026-01-31T09:00:00+00:00", []],
      [
        "2026-03-31T09:00:00.000Z",
        "2026-03-31T09:00:00+00:00",
        ["no run in Feb 2026: no day-of-month 31 in it"],
      ],
      [
        "2026-05-31T09:00:00.000Z",
        "2026-05-31T09:00:00+00:00",
        ["no run in Apr 2026: no day-of-month 31 in it"],
      ],
    ]);
  });

  test("Feb 29 runs only in leap years", () => {
    const e = explain(
      { kind: "cron", expression: "0 9 29 2 *" },
      "Europe/London",
      utc(2026, 1, 1),
      2,
    );
    expect(e.rules).toEqual(["day-of-month 29 skips months without it: Feb outside leap years"]);
    expect(rows(e)).toEqual([
      [
        "2028-02-29T09:00:00.000Z",
        "2028-02-29T09:00:00+00:00",
        ["no run in Feb 2026, Feb 2027: no day-of-month 29 in them"],
      ],
      [
        "2032-02-29T09:00:00.000Z",
        "2032-02-29T09:00:00+00:00",
        ["no run in Feb 2029, Feb 2030, Feb 2031: no day-of-month 29 in them"],
      ],
    ]);
  });

  test("cron with DOM and DOW both restricted runs when either matches, and says which", () => {
    const e = explain({ kind: "cron", expression: "0 0 13 * FRI" }, undefined, utc(2026, 2, 1), 3);
    expect(e.rules).toEqual([
      "DOM and DOW both restricted: runs when either matches (Vixie cron): day-of-month 13 or day-of-week FRI",
    ]);
    expect(e.runs.map((r) => [new Date(r.at).toISOString().slice(0, 10), r.notes])).toEqual([
      ["2026-02-06", ["matches day-of-week Fri"]],
      ["2026-02-13", ["matches day-of-month 13 and day-of-week Fri"]],
      ["2026-02-20", ["matches day-of-week Fri"]],
    ]);
    const sat13 = explain(
      { kind: "cron", expression: "0 0 13 * FRI" },
      undefined,
      utc(2026, 6, 12, 12),
      1,
    );
    expect(sat13.runs[0].notes).toEqual(["matches day-of-month 13"]);
  });

  test("a calendar spec with monthdays and weekdays needs both (Celery)", () => {
    const e = explain(
      { kind: "calendar", monthdays: [13], weekdays: [5], hours: [9], minutes: [0] },
      undefined,
      utc(2026, 1, 1),
      2,
    );
    expect(e.rules).toEqual([
      "monthdays and weekdays both given: runs only on days that match both (Celery's crontab)",
    ]);
    expect(e.runs.map((r) => new Date(r.at).toISOString())).toEqual([
      "2026-02-13T09:00:00.000Z",
      "2026-03-13T09:00:00.000Z",
    ]);
  });
});

describe("solar", () => {
  const svalbard: ScheduleSpec = {
    kind: "solar",
    event: "sunrise",
    latitude: 78.22,
    longitude: 15.65,
  };

  test("polar night: the days without a sunrise are named on the next run", () => {
    const e = explain(svalbard, undefined, utc(2026, 10, 27), 1);
    expect(new Date(e.runs[0].at).toISOString().slice(0, 10)).toBe("2027-02-16");
    expect(e.runs[0].notes).toEqual([
      "skipped: no sunrise at lat 78.22, lon 15.65 from 2026-10-27 to 2027-02-15 (112 days, polar night)",
    ]);
  });

  test("a stored entry's due time after polar night comes with the skipped days", () => {
    const e = explainSchedule(
      { id: "dawn", spec: svalbard, enabled: true, nextRunAt: utc(2027, 2, 16, 10, 38, 53) },
      { now: utc(2026, 11, 1), count: 1 },
    );
    expect(e.runs[0].at).toBe(utc(2027, 2, 16, 10, 38, 53));
    expect(e.runs[0].notes).toEqual([
      "skipped: no sunrise at lat 78.22, lon 15.65 from 2026-11-01 to 2027-02-15 (107 days, polar night)",
    ]);
  });

  test("when the entry expires first, the skip and the reason end the list", () => {
    const e = explainSchedule(
      { spec: svalbard, expireAt: utc(2027, 1, 1) },
      { now: utc(2026, 10, 27), count: 2 },
    );
    expect(e.runs).toEqual([]);
    expect(e.end).toEqual([
      "skipped: no sunrise at lat 78.22, lon 15.65 from 2026-10-27 to 2027-02-15 (112 days, polar night)",
      "no more runs: it expires at 2027-01-01T00:00:00.000Z (expireAt)",
    ]);
  });
});

describe("what a Beat restart now would do", () => {
  const hourly: ExplainableEntry = {
    id: "hourly",
    spec: { kind: "interval", every: "1h" },
    enabled: true,
    lastRunAt: utc(2025, 12, 31, 23),
    nextRunAt: utc(2026, 1, 1, 0),
  };

  test("overdue beyond the grace: fires the latest once and skips the earlier ones", () => {
    const e = explainSchedule(hourly, { now: utc(2026, 1, 1, 5, 30), count: 2 });
    const r = e.missedRuns.restart;
    expect(r.action).toBe("skip");
    expect(r.fires).toEqual([utc(2026, 1, 1, 5)]);
    expect(r.skipped).toEqual([0, 1, 2, 3, 4].map((h) => utc(2026, 1, 1, h)));
    expect(r.message).toContain("overdue by 5h30m (more than the 20s grace)");
    expect(r.message).toContain(
      "fires once, for the latest missed due time 2026-01-01T05:00:00.000Z",
    );
    expect(e.missedRuns.policy).toStartWith(
      "grace 20s: an entry overdue by up to 20s fires every missed due time",
    );
    expect(e.runs.map((x) => x.at)).toEqual([utc(2026, 1, 1, 6), utc(2026, 1, 1, 7)]);
  });

  test("overdue within the grace: catches up every due time, late", () => {
    const e = explainSchedule(
      { ...hourly, spec: { kind: "interval", every: "5s" } },
      { now: utc(2026, 1, 1, 0, 0, 12), count: 1 },
    );
    const r = e.missedRuns.restart;
    expect(r.action).toBe("catch-up");
    expect(r.fires).toEqual([0, 5, 10].map((s) => utc(2026, 1, 1, 0, 0, s)));
  });

  test("a longer grace turns the skip into a catch-up", () => {
    const e = explainSchedule(hourly, {
      now: utc(2026, 1, 1, 2, 30),
      count: 1,
      graceMs: 3 * 3_600_000,
    });
    expect(e.missedRuns.restart.action).toBe("catch-up");
    expect(e.missedRuns.restart.fires).toEqual([0, 1, 2].map((h) => utc(2026, 1, 1, h)));
  });

  test("on time, disabled, expired, not yet computed, and an ad-hoc spec", () => {
    const now = utc(2025, 12, 31, 23, 30);
    expect(explainSchedule(hourly, { now }).missedRuns.restart.action).toBe("on-time");
    expect(explainSchedule({ ...hourly, enabled: false }, { now }).missedRuns.restart.action).toBe(
      "disabled",
    );
    expect(
      explainSchedule({ ...hourly, expireAt: utc(2025, 12, 1) }, { now }).missedRuns.restart.action,
    ).toBe("expired");
    const fresh = explainSchedule(
      { id: "fresh", spec: { kind: "interval", every: "1h" }, enabled: true },
      { now },
    );
    expect(fresh.missedRuns.restart.action).toBe("first-run");
    expect(explainSchedule({ spec: hourly.spec }, { now }).missedRuns.restart.action).toBe(
      "no-state",
    );
  });

  test("the stored next run comes first, as Beat runs it", () => {
    const e = explainSchedule(hourly, { now: utc(2025, 12, 31, 23, 30), count: 2 });
    expect(e.runs.map((r) => r.at)).toEqual([utc(2026, 1, 1, 0), utc(2026, 1, 1, 1)]);
    const json = explanationJson(e);
    expect(json.runs[0].at).toBe("2026-01-01T00:00:00.000Z");
    expect(json.now).toBe("2025-12-31T23:30:00.000Z");
  });
});
