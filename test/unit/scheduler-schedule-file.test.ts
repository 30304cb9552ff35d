import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StemError } from "../../src/core/errors.ts";
import {
  loadScheduleFiles,
  nextRuns,
  parseEntryDefinition,
  parseScheduleFile,
  ScheduleFileError,
} from "../../src/scheduler/index.ts";

const repoRoot = join(import.meta.dir, "..", "..");

/** The ScheduleFileError `run` throws, with its message lines. */
function refusal(run: () => unknown): { error: ScheduleFileError; lines: string[] } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ScheduleFileError);
    expect((error as StemError).code).toBe("invalid_argument");
    const e = error as ScheduleFileError;
    return { error: e, lines: e.issues.map((_, i) => e.message.split("\n")[i + 1].trim()) };
  }
  throw new Error("expected the schedule file to be refused");
}

async function asyncRefusal(run: () => Promise<unknown>): Promise<ScheduleFileError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(ScheduleFileError);
    return error as ScheduleFileError;
  }
  throw new Error("expected the schedule files to be refused");
}

describe("parseScheduleFile", () => {
  test("reads a YAML map with a schedules list into entries with defaults", () => {
    const entries = parseScheduleFile(
      [
        "schedules:",
        "  - id: cleanup",
        "    task: maintenance.cleanup",
        '    schedule: "every:5m"',
        "    jitter: 10s",
        "    args: {path: /tmp}",
        "  - id: nightly",
        "    task: reports.generate",
        "    queue: reports",
        "    schedule: {kind: cron, expression: '0 2 * * *'}",
        "    timezone: Europe/London",
        "    enabled: false",
        "    kwargs: {format: pdf}",
        "    meta: {owner: ops}",
        "    expireAt: 2030-01-01T00:00:00Z",
        "    runOnce: true",
      ].join("\n"),
      "schedules.yaml",
    );
    expect(entries).toEqual([
      {
        id: "cleanup",
        taskName: "maintenance.cleanup",
        spec: { kind: "interval", every: "5m" },
        jitter: "10s",
        args: { path: "/tmp" },
        kwargs: {},
        meta: {},
        enabled: true,
        totalRunCount: 0,
        version: 0,
      },
      {
        id: "nightly",
        taskName: "reports.generate",
        queue: "reports",
        spec: { kind: "cron", expression: "0 2 * * *" },
        timezone: "Europe/London",
        enabled: false,
        args: {},
        kwargs: { format: "pdf" },
        meta: { owner: "ops" },
        expireAt: Date.parse("2030-01-01T00:00:00Z"),
        runOnce: true,
        totalRunCount: 0,
        version: 0,
      },
    ]);
  });

  test("reads a top-level list, and JSON", () => {
    const yaml = parseScheduleFile("- id: a\n  task: t\n  schedule: '@daily'\n", "list.yml");
    expect(yaml.map((e) => e.id)).toEqual(["a"]);
    const json = parseScheduleFile(
      JSON.stringify([{ id: "b", task: "t", schedule: { kind: "interval", every: 1000 } }]),
      "list.json",
    );
    expect(json[0].spec).toEqual({ kind: "interval", every: 1000 });
  });

  test("a file with another extension is tried as JSON, then as YAML", () => {
    expect(
      parseScheduleFile('[{"id":"a","task":"t","schedule":"every:1s"}]', "schedules.txt"),
    ).toHaveLength(1);
    expect(parseScheduleFile("- {id: a, task: t, schedule: 'every:1s'}", "schedules")).toHaveLength(
      1,
    );
  });

  test("errors name the file, the line and the field", () => {
    const text = [
      "schedules:", // 1
      "  - id: cleanup", // 2
      "    task: maintenance.cleanup", // 3
      '    schedule: "every:5m"', // 4
      "  - id: nightly", // 5
      "    task: reports.generate", // 6
      "    schedule:", // 7
      "      kind: cron", // 8
      "      expression: '0 2 * * *'", // 9
      "    timezone: Mars/Base", // 10
    ].join("\n");
    const { lines } = refusal(() => parseScheduleFile(text, "schedules.yaml"));
    expect(lines).toEqual([
      'schedules.yaml:10: schedule "nightly": field "timezone": "Mars/Base" is not an IANA time zone (e.g. Europe/London, UTC)',
    ]);
  });

  test("every problem in every item is reported, each with its line", () => {
    const text = [
      "schedules:", // 1
      "  - id: a", // 2
      "    task: t", // 3
      "    schedule: {kind: interval, every: 5x}", // 4
      "    colour: blue", // 5
      "  - task: t", // 6
      "    schedule: every:1m", // 7
      "  - id: b", // 8
      "    task: t", // 9
      "    schedule:", // 10
      "      kind: solar", // 11
      "      event: sunrise", // 12
      "      latitude: 95", // 13
      "      longitude: 0", // 14
      "    jitter: soon", // 15
      "    expireAt: next year", // 16
      "    args: [1, 2]", // 17
      "  - id: a", // 18
      "    task: t", // 19
      "    schedule: '61 * * * *'", // 20
    ].join("\n");
    const { error, lines } = refusal(() => parseScheduleFile(text, "bad.yaml"));
    expect(lines).toEqual([
      'bad.yaml:5: schedule "a": field "colour": is not a schedule field (fields: id, task, schedule, queue, enabled, args, kwargs, meta, jitter, timezone, expireAt, runOnce)',
      'bad.yaml:4: schedule "a": field "schedule.every": "5x" is not a duration (use e.g. 500ms, 30s, 10m, 1h30m)',
      'bad.yaml:6: schedule "#2": field "id": is required',
      'bad.yaml:13: schedule "b": field "schedule.latitude": 95 is out of range -90..90',
      'bad.yaml:17: schedule "b": field "args": [1,2] is not a map of keys to values',
      'bad.yaml:15: schedule "b": field "jitter": "soon" is not a duration (use e.g. 500ms, 30s, 10m, 1h30m)',
      'bad.yaml:16: schedule "b": field "expireAt": "next year" is not an ISO 8601 time with a zone (e.g. 2025-01-01T09:00:00Z) or epoch milliseconds',
      'bad.yaml:20: schedule "a": field "schedule.expression": "61 * * * *" is not a valid cron expression (Invalid value for minute: 61)',
      'bad.yaml:18: schedule "a": field "id": duplicate id (first defined at line 2)',
    ]);
    expect(error.message.split("\n")[0]).toBe(
      "schedule file refused (9 problems; nothing applied):",
    );
    expect(error.issues[0]).toEqual({
      file: "bad.yaml",
      line: 5,
      schedule: "a",
      field: "colour",
      message: expect.stringContaining("is not a schedule field"),
    });
  });

  test("JSON errors carry line numbers too", () => {
    const text = [
      "{", // 1
      '  "schedules": [', // 2
      "    {", // 3
      '      "id": "weekly",', // 4
      '      "task": "reports.weekly",', // 5
      '      "schedule": {"kind": "calendar", "weekdays": [1, 7]},', // 6
      '      "enabled": "yes"', // 7
      "    }", // 8
      "  ]", // 9
      "}", // 10
    ].join("\n");
    const { lines } = refusal(() => parseScheduleFile(text, "schedules.json"));
    expect(lines).toEqual([
      'schedules.json:6: schedule "weekly": field "schedule.weekdays": 7 is out of range 0–6',
      'schedules.json:7: schedule "weekly": field "enabled": "yes" is not true or false',
    ]);
  });

  test("syntax errors are reported with their line", () => {
    const yaml = refusal(() =>
      parseScheduleFile("schedules:\n  - id: a\n  id: b\n    task: [\n", "broken.yaml"),
    );
    expect(yaml.lines[0]).toMatch(/^broken\.yaml:\d+: not valid YAML: /);
    const json = refusal(() =>
      parseScheduleFile('{\n  "schedules": [\n    {"id": "a",}\n  ]\n}', "broken.json"),
    );
    expect(json.lines).toHaveLength(1);
    expect(json.lines[0]).toMatch(/^broken\.json:3: not valid JSON \(/);
    const dup = refusal(() => parseScheduleFile("schedules: []\nschedules: []\n", "dup.yaml"));
    expect(dup.lines[0]).toMatch(/^dup\.yaml:2: not valid YAML: Map keys must be unique/);
  });

  test("the top level must be a list or a map with only a schedules list", () => {
    expect(refusal(() => parseScheduleFile("", "empty.yaml")).lines).toEqual([
      'empty.yaml: expected a list of schedules, or a map with a "schedules" list',
    ]);
    expect(
      refusal(() => parseScheduleFile("schedules: []\nversion: 2\n", "extra.yaml")).lines,
    ).toEqual(['extra.yaml:2: unknown top-level key "version" (expected "schedules")']);
    expect(refusal(() => parseScheduleFile("schedules: {a: 1}\n", "map.yaml")).lines).toEqual([
      'map.yaml:1: expected "schedules" to be a list of schedules',
    ]);
    expect(parseScheduleFile("schedules: []\n", "none.yaml")).toEqual([]);
  });

  test("jitter may not exceed an interval", () => {
    const { lines } = refusal(() =>
      parseScheduleFile("- {id: a, task: t, schedule: 'every:10s', jitter: 1m}\n", "j.yaml"),
    );
    expect(lines).toEqual([
      'j.yaml:1: schedule "a": field "jitter": "1m" is longer than the interval (10s), so runs could overlap',
    ]);
  });
});

describe("parseEntryDefinition", () => {
  test("checks one definition outside a file", () => {
    expect(parseEntryDefinition({ id: "x", task: "t", schedule: "every:1m" }).spec).toEqual({
      kind: "interval",
      every: "1m",
    });
    expect(() =>
      parseEntryDefinition({ id: "x", task: "t", schedule: "every:1m", timezone: "Nowhere/City" }),
    ).toThrow('schedule "x": field "timezone": "Nowhere/City" is not an IANA time zone');
  });
});

describe("example schedule files", () => {
  test("schedules/example.yaml and example.json are valid and cover every kind", async () => {
    const entries = await loadScheduleFiles([join(repoRoot, "schedules")]);
    const kinds = new Set(entries.map((e) => e.spec.kind));
    expect([...kinds].sort()).toEqual(["calendar", "clocked", "cron", "interval", "solar"]);
    const yaml = parseScheduleFile(
      await Bun.file(join(repoRoot, "schedules/example.yaml")).text(),
      "example.yaml",
    );
    expect(yaml.some((e) => e.id === "cleanup-temp" && e.spec.kind === "interval")).toBe(true);
    expect(yaml.some((e) => e.spec.kind === "cron" && e.timezone)).toBe(true);
    const json = parseScheduleFile(
      await Bun.file(join(repoRoot, "schedules/example.json")).text(),
      "example.json",
    );
    expect(new Set(json.map((e) => e.spec.kind)).size).toBe(5);
    // Every example entry has a next run.
    for (const entry of entries) {
      expect(nextRuns(entry, Date.parse("2025-01-01T00:00:00Z"), 1)).toHaveLength(1);
    }
  });
});

describe("loadScheduleFiles", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "stem-schedules-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("reads files and directories (*.yaml, *.yml, *.json) in name order", async () => {
    const sub = join(dir, "ok");
    await mkdir(sub);
    await writeFile(join(sub, "b.yml"), "- {id: b, task: t, schedule: '@hourly'}\n");
    await writeFile(join(sub, "a.json"), '[{"id": "a", "task": "t", "schedule": "every:1m"}]');
    await writeFile(join(sub, "notes.txt"), "not a schedule file");
    const single = join(dir, "single.yaml");
    await writeFile(single, "schedules:\n  - {id: c, task: t, schedule: 'every:2m'}\n");
    const entries = await loadScheduleFiles([sub, single]);
    expect(entries.map((e) => e.id)).toEqual(["a", "b", "c"]);
  });

  test("all or nothing: one bad file refuses every file, listing all problems", async () => {
    const sub = join(dir, "mixed");
    await mkdir(sub);
    await writeFile(join(sub, "a-good.yaml"), "- {id: good, task: t, schedule: 'every:1m'}\n");
    await writeFile(join(sub, "b-bad.yaml"), "- id: bad\n  task: t\n  schedule: 'every:nope'\n");
    await writeFile(join(sub, "c-dup.yaml"), "- id: good\n  task: t\n  schedule: '@daily'\n");
    const error = await asyncRefusal(() => loadScheduleFiles([sub, join(dir, "missing.yaml")]));
    const lines = error.message
      .split("\n")
      .slice(1)
      .map((l) => l.trim());
    expect(lines).toEqual([
      `${join(dir, "missing.yaml")}: no such file or directory`,
      `${join(sub, "b-bad.yaml")}:3: schedule "bad": field "schedule.every": "nope" is not a duration (use e.g. 500ms, 30s, 10m, 1h30m)`,
      `${join(sub, "c-dup.yaml")}:1: schedule "good": field "id": duplicate id (first defined at ${join(sub, "a-good.yaml")}:1)`,
    ]);
  });

  test("an empty directory or no paths is an error", async () => {
    const empty = join(dir, "empty");
    await mkdir(empty);
    expect((await asyncRefusal(() => loadScheduleFiles([empty]))).issues[0].message).toContain(
      "directory holds no schedule files",
    );
    expect((await asyncRefusal(() => loadScheduleFiles([]))).issues[0].message).toBe(
      "no schedule files given",
    );
  });
});
