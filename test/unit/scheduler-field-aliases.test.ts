/**
 * Schedule files written for the original Stem (Dart) apply unchanged: its field names are
 * aliases of Stem's.
 */
import { describe, expect, test } from "bun:test";
import { nextRuns, parseScheduleFile, ScheduleFileError } from "../../src/scheduler/index.ts";

/** A file in the original's shape: `name`, `taskName`, `spec`, `jitterMs`, and Dart spec field names. */
const ORIGINAL_FILE = `[
  {"name": "cleanup", "taskName": "maintenance.cleanup", "queue": "maintenance",
   "spec": {"kind": "interval", "everyMs": 300000}, "jitterMs": 10000},
  {"name": "legacy-every", "taskName": "demo.tick", "spec": {"kind": "interval", "every_ms": "30s",
   "start_at": "2026-01-01T00:00:00Z"}},
  {"id": "report", "task": "reports.generate",
   "spec": {"kind": "cron", "expression": "0 9 * * *", "secondField": "30"},
   "timezone": "Europe/London"},
  {"name": "dawn", "taskName": "lights.off",
   "spec": {"kind": "solar", "event": "sunrise", "latitude": 51.5072, "longitude": -0.1276,
            "offsetMs": 1800000}},
  {"name": "one-off", "taskName": "billing.reconcile",
   "spec": {"kind": "clocked", "run_at": "2030-02-01T00:00:00Z", "run_once": true}}
]
`;

function issuesOf(text: string, file: string): string[] {
  try {
    parseScheduleFile(text, file);
  } catch (error) {
    expect(error).toBeInstanceOf(ScheduleFileError);
    return (error as ScheduleFileError).message
      .split("\n")
      .slice(1)
      .map((l) => l.trim());
  }
  throw new Error("expected the file to be refused");
}

describe("the original Stem's field names", () => {
  test("a file in the original's shape becomes entries with Stem's canonical fields", () => {
    const entries = parseScheduleFile(ORIGINAL_FILE, "original.json");
    expect(entries.map((e) => [e.id, e.taskName])).toEqual([
      ["cleanup", "maintenance.cleanup"],
      ["legacy-every", "demo.tick"],
      ["report", "reports.generate"],
      ["dawn", "lights.off"],
      ["one-off", "billing.reconcile"],
    ]);
    const [cleanup, legacy, report, dawn, oneOff] = entries;
    expect(cleanup.spec).toEqual({ kind: "interval", every: 300000 });
    expect(cleanup.jitter).toBe(10000);
    expect(cleanup.queue).toBe("maintenance");
    expect(legacy.spec).toEqual({
      kind: "interval",
      every: "30s",
      startAt: "2026-01-01T00:00:00Z",
    });
    // secondField becomes the expression's leading seconds field.
    expect(report.spec).toEqual({ kind: "cron", expression: "30 0 9 * * *" });
    expect(nextRuns(report, Date.UTC(2026, 0, 10, 12), 1)).toEqual([
      Date.UTC(2026, 0, 11, 9, 0, 30),
    ]);
    expect(dawn.spec).toEqual({
      kind: "solar",
      event: "sunrise",
      latitude: 51.5072,
      longitude: -0.1276,
      offset: 1800000,
    });
    expect(oneOff.spec).toEqual({ kind: "clocked", runAt: "2030-02-01T00:00:00Z", runOnce: true });
  });

  test("secondField agrees with a six-field expression, and works after an alias such as @daily", () => {
    const [a, b] = parseScheduleFile(
      [
        "- {id: a, task: t, schedule: {kind: cron, expression: '15 0 9 * * *', secondField: '15'}}",
        "- {id: b, task: t, schedule: {kind: cron, expression: '@daily', second_field: 5}}",
      ].join("\n"),
      "s.yaml",
    );
    expect(a.spec).toEqual({ kind: "cron", expression: "15 0 9 * * *" });
    expect(b.spec).toEqual({ kind: "cron", expression: "5 0 0 * * *" });
  });

  test("an alias and its canonical field with different values is an error naming both", () => {
    const lines = issuesOf(
      [
        "schedules:",
        "  - id: a",
        "    name: b",
        "    task: t",
        "    schedule: {kind: interval, every: 1m, everyMs: 30000}",
        "  - id: c",
        "    task: t",
        "    jitter: 10s",
        "    jitterMs: 5000",
        "    schedule: {kind: cron, expression: '10 0 9 * * *', secondField: '30'}",
      ].join("\n"),
      "both.yaml",
    );
    expect(lines).toEqual([
      'both.yaml:3: schedule "a": field "name": "b" conflicts with "id": "a" ("name" and "id" both set "id"; give one)',
      'both.yaml:5: schedule "a": field "schedule.everyMs": 30000 conflicts with "every": "1m" ("everyMs" and "every" both set "every"; give one)',
      'both.yaml:9: schedule "c": field "jitterMs": 5000 conflicts with "jitter": "10s" ("jitterMs" and "jitter" both set "jitter"; give one)',
      'both.yaml:10: schedule "c": field "schedule.secondField": "30" conflicts with the seconds field "10" of "expression" "10 0 9 * * *"; give one',
    ]);
  });

  test("the same value under both names is accepted", () => {
    const [entry] = parseScheduleFile(
      '[{"id": "a", "name": "a", "task": "t", "taskName": "t", "schedule": "every:1m"}]',
      "same.json",
    );
    expect(entry.id).toBe("a");
  });

  test("problems in an alias's value name the field as written, with its line", () => {
    const lines = issuesOf(
      [
        "- name: x",
        "  taskName: ''",
        "  spec:",
        "    kind: clocked",
        "    run_at: not-a-time",
        "  jitterMs: -5",
        "  colour: blue",
      ].join("\n"),
      "bad.yaml",
    );
    expect(lines).toEqual([
      'bad.yaml:7: schedule "x": field "colour": is not a schedule field (fields: id, task, schedule, queue, enabled, args, kwargs, meta, jitter, timezone, expireAt, runOnce)',
      'bad.yaml:2: schedule "x": field "taskName": is empty',
      'bad.yaml:5: schedule "x": field "spec.run_at": "not-a-time" is not an ISO 8601 time with a zone (e.g. 2025-01-01T09:00:00Z) or epoch milliseconds',
      'bad.yaml:6: schedule "x": field "jitterMs": -5 is not a duration (a number is milliseconds, >= 0)',
    ]);
  });

  test("run state the original read from schedule files is refused with a hint", () => {
    expect(
      issuesOf(
        '[{"name": "x", "taskName": "t", "spec": "every:1m", "lastRunAt": "2025-01-01T00:00:00Z"}]',
        "r.json",
      ),
    ).toEqual([
      'r.json:1: schedule "x": field "lastRunAt": is run state (the original Stem took it in schedule files); Stem keeps run state in the schedule store, so remove it',
    ]);
  });

  test("a missing required field is named canonically; duplicate ids count names too", () => {
    expect(issuesOf("- {name: x, spec: 'every:1m'}\n", "m.yaml")).toEqual([
      'm.yaml:1: schedule "x": field "task": is required',
    ]);
    expect(
      issuesOf(
        "- {name: x, task: t, spec: 'every:1m'}\n- {id: x, task: t, spec: 'every:2m'}\n",
        "d.yaml",
      ),
    ).toEqual(['d.yaml:2: schedule "x": field "id": duplicate id (first defined at line 1)']);
  });
});
