import { describe, expect, test } from "bun:test";
import { describeSpec } from "../../src/scheduler/index.ts";

describe("describeSpec", () => {
  test("intervals, with their window", () => {
    expect(describeSpec({ kind: "interval", every: "30s" })).toBe("every 30s");
    expect(describeSpec({ kind: "interval", every: 90_000 })).toBe("every 1m30s");
    expect(describeSpec({ kind: "interval", every: "500ms" })).toBe("every 500ms");
    expect(
      describeSpec({
        kind: "interval",
        every: "1h",
        startAt: "2025-01-01T10:00:00+01:00",
        endAt: 1767225600000,
      }),
    ).toBe("every 1h from 2025-01-01T09:00:00Z until 2026-01-01T00:00:00Z");
  });

  test("cron names its time zone (UTC by default) and description", () => {
    expect(describeSpec({ kind: "cron", expression: "0 12 * * MON" }, "Europe/London")).toBe(
      "cron 0 12 * * MON (Europe/London)",
    );
    expect(describeSpec({ kind: "cron", expression: "@daily", description: "nightly sweep" })).toBe(
      "cron @daily (UTC) — nightly sweep",
    );
  });

  test("solar events with a rounded place and signed offset", () => {
    expect(
      describeSpec({
        kind: "solar",
        event: "sunrise",
        latitude: 51.5072,
        longitude: -0.1276,
        offset: "30m",
      }),
    ).toBe("sunrise @51.51/-0.13 +30m");
    expect(
      describeSpec({ kind: "solar", event: "sunrise", latitude: 40.7128, longitude: -74.006 }),
    ).toBe("sunrise @40.71/-74.01");
    expect(
      describeSpec({
        kind: "solar",
        event: "sunset",
        latitude: 40.7128,
        longitude: -74.006,
        offset: "-1h15m",
      }),
    ).toBe("sunset @40.71/-74.01 -1h15m");
    expect(
      describeSpec({ kind: "solar", event: "noon", latitude: 0, longitude: 0, offset: -60000 }),
    ).toBe("solar noon @0/0 -1m");
  });

  test("clocked runs as an ISO time", () => {
    expect(describeSpec({ kind: "clocked", runAt: "2025-01-01T09:00:00Z" })).toBe(
      "once 2025-01-01T09:00:00Z",
    );
    expect(describeSpec({ kind: "clocked", runAt: 1735722000500 })).toBe(
      "once 2025-01-01T09:00:00.500Z",
    );
  });

  test("calendars list their filters with names", () => {
    expect(
      describeSpec(
        { kind: "calendar", weekdays: [5, 1], hours: [9], minutes: [0, 30] },
        "America/New_York",
      ),
    ).toBe("calendar weekdays Mon,Fri; hours 9; minutes 0,30 (America/New_York)");
    expect(describeSpec({ kind: "calendar", months: [12, 1], monthdays: [1] })).toBe(
      "calendar months Jan,Dec; days 1 (UTC)",
    );
    expect(describeSpec({ kind: "calendar" })).toBe("calendar every minute (UTC)");
  });
});
