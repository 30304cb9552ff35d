/**
 * `stem schedule`, `stem beat` and `stem observe schedules` driven through the built
 * binary, on the embedded default store of a fresh folder.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { eventually } from "../../src/testing/harness.ts";
import { ensureBinary, spawnStem, stem, workspace } from "./binary.ts";

const GOOD = `# two entries
schedules:
  - id: nightly
    task: reports.generate
    queue: reports
    schedule: {kind: cron, expression: "0 2 * * *"}
    timezone: Europe/London
    kwargs: {report: daily}
  - id: cleanup
    task: maintenance.cleanup
    schedule: "every:5m"
    jitter: 10s
`;

const ONE_BAD = `[
  {"id": "fine", "task": "demo.fine", "schedule": "every:1m"},
  {"id": "broken", "task": "demo.broken",
   "schedule": {"kind": "interval", "every": "5m"},
   "timezone": "Mars/Olympus_Mons"}
]
`;

const TICK = `- id: tick
  task: demo.tick
  schedule: "every:1s"
`;

interface ListedEntry {
  id: string;
  enabled: boolean;
  description: string;
  nextRunAt?: number;
  totalRunCount: number;
  drift?: number;
}

describe("stem schedule", () => {
  let ws: ReturnType<typeof workspace>;

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace({ "schedules.yaml": GOOD, "bad.json": ONE_BAD, "tick.yaml": TICK });
  }, 120_000);

  afterAll(() => ws?.cleanup());

  const list = async (): Promise<ListedEntry[]> => {
    const r = await stem(ws.dir, ["schedule", "list", "--json"]);
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout);
  };

  test("apply a file, then list, show, disable, enable and remove", async () => {
    const dry = await stem(ws.dir, ["schedule", "apply", "schedules.yaml", "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("2 to create");
    // A dry run and a read create no store.
    const none = await stem(ws.dir, ["schedule", "list", "--json"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`no Stem store exists at ${join(ws.dir, ".stem/stem.db")}`);
    expect(existsSync(join(ws.dir, ".stem"))).toBe(false);

    const applied = await stem(ws.dir, ["schedule", "apply", "schedules.yaml"]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain("created 2, updated 0, unchanged 0");

    const entries = await list();
    expect(entries.map((e) => [e.id, e.description])).toEqual([
      ["cleanup", "every 5m"],
      ["nightly", "cron 0 2 * * * (Europe/London)"],
    ]);
    expect(entries.every((e) => e.enabled && typeof e.nextRunAt === "number")).toBe(true);
    const table = await stem(ws.dir, ["schedule", "list", "--wide"]);
    expect(table.stdout).toContain("cron 0 2 * * * (Europe/London)");

    // Applying again changes nothing.
    const again = await stem(ws.dir, ["schedule", "apply", "schedules.yaml", "--json"]);
    expect(JSON.parse(again.stdout).items.map((i: { action: string }) => i.action)).toEqual([
      "unchanged",
      "unchanged",
    ]);

    const shown = await stem(ws.dir, ["schedule", "show", "nightly", "--json"]);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout).entry).toMatchObject({
      id: "nightly",
      taskName: "reports.generate",
      queue: "reports",
      kwargs: { report: "daily" },
      timezone: "Europe/London",
    });
    const shownTable = await stem(ws.dir, ["schedule", "show", "cleanup"]);
    expect(shownTable.stdout).toContain("every 5m");
    expect(shownTable.stdout).toContain("10s");

    const disabled = await stem(ws.dir, ["schedule", "disable", "nightly"]);
    expect(disabled.code).toBe(0);
    expect(disabled.stdout).toContain("disabled nightly");
    expect((await list()).find((e) => e.id === "nightly")?.enabled).toBe(false);
    const enabled = await stem(ws.dir, ["schedule", "enable", "nightly"]);
    expect(enabled.stdout).toContain("enabled nightly; next run");
    expect((await list()).find((e) => e.id === "nightly")?.enabled).toBe(true);

    const removed = await stem(ws.dir, ["schedule", "remove", "cleanup", "--yes"]);
    expect(removed.code).toBe(0);
    expect((await list()).map((e) => e.id)).toEqual(["nightly"]);
    const missing = await stem(ws.dir, ["schedule", "show", "cleanup"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no schedule entry "cleanup"');
    expect((await stem(ws.dir, ["schedule", "disable", "nope"])).code).toBe(1);
    await stem(ws.dir, ["schedule", "remove", "nightly", "--yes"]);
  });

  test("a file with one bad entry is refused whole: exit 2, file:line and field named, nothing applied", async () => {
    const fresh = workspace({ "schedules.yaml": GOOD, "bad.json": ONE_BAD });
    try {
      const r = await stem(fresh.dir, ["schedule", "apply", "bad.json", "schedules.yaml"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('bad.json:5: schedule "broken": field "timezone"');
      expect(r.stderr).toContain("nothing applied");
      expect(r.stderr).not.toContain("    at ");
      // Refused before the store was opened: not even an empty one was created.
      expect(existsSync(join(fresh.dir, ".stem"))).toBe(false);
    } finally {
      fresh.cleanup();
    }
  });

  test("dry-run previews a cron spec in a time zone across a DST change", async () => {
    const r = await stem(ws.dir, [
      "schedule",
      "dry-run",
      "--spec",
      "30 2 * * *",
      "--timezone",
      "America/New_York",
      "--from",
      "2025-03-08T00:00:00Z",
      "--count",
      "3",
      "--json",
    ]);
    expect(r.code).toBe(0);
    // 02:30 does not exist on 9 March (clocks jump 02:00 → 03:00): it runs at 03:00 EDT.
    expect(JSON.parse(r.stdout).runs).toEqual([
      "2025-03-08T07:30:00.000Z",
      "2025-03-09T07:00:00.000Z",
      "2025-03-10T06:30:00.000Z",
    ]);
    const table = await stem(ws.dir, [
      "schedule",
      "dry-run",
      "--spec",
      '{"kind":"cron","expression":"30 2 * * *"}',
      "--timezone",
      "America/New_York",
      "--from",
      "2025-03-08T00:00:00Z",
      "--count",
      "2",
    ]);
    expect(table.stdout).toContain("2025-03-09 03:00:00 America/New_York");
    const bad = await stem(ws.dir, ["schedule", "dry-run", "--spec", "every:5x"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("every");
    expect(
      (
        await stem(ws.dir, [
          "schedule",
          "dry-run",
          "--spec",
          "every:5m",
          "--timezone",
          "Nowhere/Land",
        ])
      ).code,
    ).toBe(2);
  });

  test("stem beat runs the entries of a schedule file until SIGTERM; observe schedules reports them", async () => {
    const beat = spawnStem(ws.dir, ["beat", "--schedules", "tick.yaml", "--lock-ttl", "2s"]);
    let log = "";
    const decoder = new TextDecoder();
    const reading = (async () => {
      for await (const chunk of beat.stderr as ReadableStream<Uint8Array>)
        log += decoder.decode(chunk);
    })();
    try {
      await eventually(() => log.includes("beat ready"), 20_000, "beat ready");
      const ran = await eventually(
        async () => {
          const r = await stem(ws.dir, [
            "observe",
            "schedules",
            "--schedules",
            "tick.yaml",
            "--json",
          ]);
          const view = JSON.parse(r.stdout);
          return view.entries[0]?.totalRunCount >= 3 ? view : undefined;
        },
        20_000,
        "three runs",
      );
      expect(ran).toMatchObject({ total: 1, enabled: 1, overdue: 0 });
      expect(ran.entries[0]).toMatchObject({ id: "tick", schedule: "every 1s" });
      expect(typeof ran.entries[0].drift).toBe("number");
    } finally {
      beat.kill("SIGTERM");
    }
    expect(await beat.exited).toBe(0);
    await reading;
    expect(log).toContain("beat stopping");

    // No Beat now: after a few seconds the entry is overdue.
    await Bun.sleep(2500);
    const r = await stem(ws.dir, ["observe", "schedules", "--overdue-after", "1s", "--json"]);
    const view = JSON.parse(r.stdout);
    expect(view).toMatchObject({ due: 1, overdue: 1 });
    const text = await stem(ws.dir, ["observe", "schedules", "--overdue-after", "1s"]);
    expect(text.stdout).toContain("1 due, 1 overdue");
    expect(text.stdout).toContain("tick (overdue)");
  }, 60_000);

  test("--help for beat and schedule", async () => {
    for (const args of [
      ["beat", "--help"],
      ["schedule", "--help"],
      ["schedule", "apply", "--help"],
      ["observe", "schedules", "--help"],
    ]) {
      const r = await stem(ws.dir, args);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("USAGE");
    }
  });
});
