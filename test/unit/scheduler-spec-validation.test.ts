import { describe, expect, test } from "bun:test";
import { StemError } from "../../src/core/errors.ts";
import type { ScheduleSpec } from "../../src/core/schedule.ts";
import { parseSpec, validateSpec } from "../../src/scheduler/index.ts";

/** The StemError message validateSpec throws for `spec`. */
function problem(spec: unknown, id = "cleanup"): string {
  try {
    validateSpec(spec, id);
  } catch (error) {
    expect(error).toBeInstanceOf(StemError);
    expect((error as StemError).code).toBe("invalid_argument");
    return (error as StemError).message;
  }
  throw new Error(`expected ${JSON.stringify(spec)} to be refused`);
}

describe("legacy spec strings", () => {
  test("every:<duration> is an interval, kept as written", () => {
    expect(parseSpec("every:5m", "a")).toEqual({ kind: "interval", every: "5m" });
    expect(parseSpec("every:30s", "a")).toEqual({ kind: "interval", every: "30s" });
    expect(parseSpec("every:500ms", "a")).toEqual({ kind: "interval", every: "500ms" });
    expect(parseSpec("every: 1h30m", "a")).toEqual({ kind: "interval", every: "1h30m" });
  });

  test("a bare number after every: means seconds, as in Stem-Dart", () => {
    expect(parseSpec("every:45", "a")).toEqual({ kind: "interval", every: "45s" });
  });

  test("any other string is a cron expression", () => {
    expect(parseSpec("0 12 * * MON", "a")).toEqual({ kind: "cron", expression: "0 12 * * MON" });
    expect(parseSpec("@daily", "a")).toEqual({ kind: "cron", expression: "@daily" });
  });

  test("bad legacy strings name the entry and the field", () => {
    expect(() => parseSpec("every:5x", "cleanup")).toThrow(
      'schedule "cleanup": field "every": "5x" is not a duration',
    );
    expect(() => parseSpec("every:0s", "cleanup")).toThrow(
      'schedule "cleanup": field "every": "0s" must be longer than 0',
    );
    expect(() => parseSpec("61 * * * *", "cleanup")).toThrow(
      'schedule "cleanup": field "expression": "61 * * * *" is not a valid cron expression',
    );
  });

  test("JSON text is parsed as the map form", () => {
    expect(parseSpec('{"kind":"cron","expression":"0 0 * * *"}', "a")).toEqual({
      kind: "cron",
      expression: "0 0 * * *",
    });
    expect(() => parseSpec('{"kind":', "nightly")).toThrow(
      'schedule "nightly": the spec is not valid JSON',
    );
  });
});

describe("map specs", () => {
  test("every kind validates and keeps only its fields, values as written", () => {
    const specs: ScheduleSpec[] = [
      { kind: "interval", every: "30s" },
      { kind: "interval", every: 1500, startAt: "2025-01-01T00:00:00Z", endAt: 1767225600000 },
      { kind: "cron", expression: "0 12 * * MON", description: "weekly" },
      { kind: "cron", expression: "0 30 9 * * *" },
      { kind: "solar", event: "sunrise", latitude: 51.5074, longitude: -0.1278, offset: "30m" },
      { kind: "solar", event: "sunset", latitude: 40.7128, longitude: -74.006, offset: "-30m" },
      { kind: "solar", event: "noon", latitude: -33.87, longitude: 151.21, offset: -60000 },
      { kind: "clocked", runAt: "2025-01-01T09:00:00Z", runOnce: true },
      { kind: "clocked", runAt: 1735722000000 },
      {
        kind: "calendar",
        months: [1, 12],
        weekdays: [0, 6],
        monthdays: [1, 31],
        hours: [0, 23],
        minutes: [0, 59],
      },
      { kind: "calendar" },
    ];
    for (const spec of specs) expect(validateSpec(spec, "x")).toEqual(spec);
  });

  test("durations round-trip unchanged through JSON", () => {
    const spec: ScheduleSpec = {
      kind: "interval",
      every: "1h30m",
      startAt: "2025-01-01T00:00:00+01:00",
    };
    const stored = JSON.parse(JSON.stringify(validateSpec(spec, "x")));
    expect(stored).toEqual(spec);
    expect(validateSpec(stored, "x")).toEqual(spec);
    const solar: ScheduleSpec = {
      kind: "solar",
      event: "sunset",
      latitude: 1,
      longitude: 2,
      offset: "-1h15m",
    };
    expect(validateSpec(JSON.parse(JSON.stringify(validateSpec(solar, "x"))), "x")).toEqual(solar);
  });

  test("the kind is required and must be known", () => {
    expect(problem({ every: "5m" })).toBe(
      'schedule "cleanup": field "kind": is required (one of interval, cron, solar, clocked, calendar)',
    );
    expect(problem({ kind: "weekly" })).toBe(
      'schedule "cleanup": field "kind": "weekly" is not one of interval, cron, solar, clocked, calendar',
    );
    expect(problem(42)).toContain("42 is not a schedule spec");
  });

  test("unknown fields are refused", () => {
    expect(problem({ kind: "interval", every: "5m", evry: "5m" })).toContain(
      'schedule "cleanup": field "evry": is not a field of kind "interval"',
    );
  });

  test("interval: every is a positive duration; startAt before endAt", () => {
    expect(problem({ kind: "interval", every: "5x" })).toBe(
      'schedule "cleanup": field "every": "5x" is not a duration (use e.g. 500ms, 30s, 10m, 1h30m)',
    );
    expect(problem({ kind: "interval" })).toBe('schedule "cleanup": field "every": is required');
    expect(problem({ kind: "interval", every: 0 })).toContain(
      'field "every": 0 must be longer than 0',
    );
    expect(problem({ kind: "interval", every: -5 })).toContain(
      'field "every": -5 is not a duration',
    );
    expect(problem({ kind: "interval", every: 1.5 })).toContain(
      "not a whole number of milliseconds",
    );
    expect(
      problem({
        kind: "interval",
        every: "1m",
        startAt: "2025-02-01T00:00:00Z",
        endAt: "2025-01-01T00:00:00Z",
      }),
    ).toContain(
      'field "endAt": "2025-01-01T00:00:00Z" is not after startAt "2025-02-01T00:00:00Z"',
    );
    expect(problem({ kind: "interval", every: "1m", startAt: "2025-01-01 09:00" })).toContain(
      'field "startAt": "2025-01-01 09:00" is not an ISO 8601 time with a zone',
    );
    expect(problem({ kind: "interval", every: "1m", startAt: "2025-02-30T00:00:00Z" })).toContain(
      'field "startAt"',
    );
  });

  test("every problem in a spec is reported at once", () => {
    const message = problem({ kind: "interval", every: "5x", startAt: "soon" });
    expect(message).toContain('field "every"');
    expect(message).toContain('field "startAt"');
  });

  test("cron: the expression must parse, with 5 or 6 fields", () => {
    expect(problem({ kind: "cron" })).toBe('schedule "cleanup": field "expression": is required');
    expect(problem({ kind: "cron", expression: "0 0 * *" })).toContain(
      "expected 5 fields, or 6 with leading seconds; got 4",
    );
    expect(problem({ kind: "cron", expression: "0 0 0 * * * 2030" })).toContain("got 7");
    expect(problem({ kind: "cron", expression: "0 25 * * *" })).toContain(
      'field "expression": "0 25 * * *" is not a valid cron expression',
    );
    expect(problem({ kind: "cron", expression: "0 0 * FOO *" })).toContain(
      "is not a valid cron expression",
    );
    expect(problem({ kind: "cron", expression: "@reboot" })).toContain("known aliases");
    expect(problem({ kind: "cron", expression: "0 0 30 2 *" })).toContain(
      "never matches a real date",
    );
    expect(problem({ kind: "cron", expression: 5 })).toContain("is not a cron expression");
  });

  test("solar: event, latitude and longitude in range, signed offset", () => {
    const base = { kind: "solar", event: "sunrise", latitude: 10, longitude: 10 };
    expect(problem({ ...base, event: "dusk" })).toBe(
      'schedule "cleanup": field "event": "dusk" is not one of sunrise, sunset, noon',
    );
    expect(problem({ ...base, latitude: 91 })).toBe(
      'schedule "cleanup": field "latitude": 91 is out of range -90..90',
    );
    expect(problem({ ...base, longitude: -181 })).toContain(
      'field "longitude": -181 is out of range -180..180',
    );
    expect(problem({ ...base, latitude: "51" })).toContain(
      'field "latitude": "51" is not a number',
    );
    expect(problem({ ...base, offset: "-3x" })).toContain(
      'field "offset": "-3x" is not a duration',
    );
    expect(problem({ kind: "solar", event: "noon" })).toContain('field "latitude": is required');
  });

  test("clocked: runAt is a valid time", () => {
    expect(problem({ kind: "clocked", runAt: "tomorrow" })).toContain(
      'field "runAt": "tomorrow" is not an ISO 8601',
    );
    expect(problem({ kind: "clocked" })).toBe('schedule "cleanup": field "runAt": is required');
    expect(problem({ kind: "clocked", runAt: "2025-01-01T00:00:00Z", runOnce: "yes" })).toContain(
      'field "runOnce": "yes" is not true or false',
    );
  });

  test("calendar: lists of integers in range", () => {
    expect(problem({ kind: "calendar", months: [0] })).toBe(
      'schedule "cleanup": field "months": 0 is out of range 1–12',
    );
    expect(problem({ kind: "calendar", weekdays: [7] })).toContain(
      'field "weekdays": 7 is out of range 0–6',
    );
    expect(problem({ kind: "calendar", monthdays: [32] })).toContain(
      'field "monthdays": 32 is out of range 1–31',
    );
    expect(problem({ kind: "calendar", hours: [24] })).toContain(
      'field "hours": 24 is out of range 0–23',
    );
    expect(problem({ kind: "calendar", minutes: [60] })).toContain(
      'field "minutes": 60 is out of range 0–59',
    );
    expect(problem({ kind: "calendar", minutes: [1.5] })).toContain(
      'field "minutes": 1.5 is not an integer',
    );
    expect(problem({ kind: "calendar", hours: 9 })).toContain(
      'field "hours": 9 is not a list of integers',
    );
    expect(problem({ kind: "calendar", hours: [] })).toContain('field "hours": is empty');
  });
});
