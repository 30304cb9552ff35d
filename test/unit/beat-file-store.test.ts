/**
 * The file store: definitions from schedule files, run state in a schedule store (here the
 * SQLite file a restarted Beat would reopen).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StoreConnection } from "../../src/adapters/contracts.ts";
import { openMemory } from "../../src/adapters/memory/index.ts";
import { connect } from "../../src/adapters/url.ts";
import { Stem } from "../../src/core/stem.ts";
import { applySchedules } from "../../src/scheduler/apply.ts";
import { Beat } from "../../src/scheduler/beat.ts";
import { parseEntryDefinition } from "../../src/scheduler/entry-definition.ts";
import { FileScheduleStore } from "../../src/scheduler/file-store.ts";
import { ScheduleFileError } from "../../src/scheduler/schedule-file.ts";
import { FakeClock } from "../../src/testing/fake-clock.ts";
import { eventually } from "../../src/testing/harness.ts";

const YAML_V1 = `schedules:
  - id: cleanup
    task: maintenance.cleanup
    schedule: "every:5m"
  - id: report
    task: reports.generate
    schedule: {kind: cron, expression: "0 12 * * MON"}
    timezone: Europe/London
`;

const YAML_V2 = `schedules:
  - id: cleanup
    task: maintenance.cleanup
    queue: maintenance
    schedule: "every:5m"
  - id: report
    task: reports.generate
    schedule: {kind: cron, expression: "0 12 * * MON"}
    timezone: Europe/London
  - id: added
    task: demo.added
    schedule: "every:1h"
`;

const BAD = `schedules:
  - id: cleanup
    task: maintenance.cleanup
    schedule: "every:5m"
  - id: broken
    task: demo.broken
    schedule: {kind: cron, expression: "61 * * * *"}
`;

let dir: string;
const open: StoreConnection[] = [];

function setup(): { dir: string; file: string; url: string } {
  dir = mkdtempSync(join(tmpdir(), "stem-file-store-"));
  const schedules = join(dir, "schedules");
  mkdirSync(schedules);
  const file = join(schedules, "main.yaml");
  writeFileSync(file, YAML_V1);
  return { dir, file, url: `sqlite://${join(dir, "state.db")}` };
}

async function state(url: string) {
  const connection = await connect(url);
  open.push(connection);
  return connection.scheduleStore();
}

/** Rewrites a file with a modification time the watcher cannot miss. */
function rewrite(file: string, text: string, secondsLater: number): void {
  writeFileSync(file, text);
  const t = new Date(Date.now() + secondsLater * 1000);
  utimesSync(file, t, t);
}

afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("FileScheduleStore", () => {
  test("loading writes the file definitions into the state store; only file entries are seen", async () => {
    const { dir, url } = setup();
    const stateStore = await state(url);
    await applySchedules(stateStore, [
      parseEntryDefinition({ id: "other", task: "x", schedule: "every:1s" }),
    ]);
    const store = new FileScheduleStore({ paths: [join(dir, "schedules")], state: stateStore });
    const items = await store.load();
    expect(items.map((i) => [i.id, i.action])).toEqual([
      ["cleanup", "create"],
      ["report", "create"],
    ]);
    expect((await store.list()).map((e) => e.id)).toEqual(["cleanup", "report"]);
    expect(await store.get("other")).toBeNull();
    expect((await stateStore.get("report"))?.timezone).toBe("Europe/London");
    const farFuture = Date.now() + 30 * 86_400_000;
    expect((await store.due(farFuture)).map((e) => e.id).sort()).toEqual(["cleanup", "report"]);
    // "other" is due every second in the state store, but not this store's business.
    expect(await store.nextDueAt()).toBe((await stateStore.get("cleanup"))?.nextRunAt as number);
  });

  test("run state survives a restart (a new store on the same files and state)", async () => {
    const { dir, url } = setup();
    const first = new FileScheduleStore({
      paths: [join(dir, "schedules")],
      state: await state(url),
    });
    await first.load();
    const before = await first.get("cleanup");
    await first.markExecuted("cleanup", {
      scheduledFor: before?.nextRunAt as number,
      executedAt: (before?.nextRunAt as number) + 7,
      success: true,
      driftMs: 7,
      nextRunAt: (before?.nextRunAt as number) + 300_000,
    });
    for (const c of open.splice(0)) await c.close();

    const second = new FileScheduleStore({
      paths: [join(dir, "schedules")],
      state: await state(url),
    });
    const items = await second.load();
    expect(items.every((i) => i.action === "unchanged")).toBe(true);
    expect(await second.get("cleanup")).toMatchObject({
      totalRunCount: 1,
      drift: 7,
      nextRunAt: (before?.nextRunAt as number) + 300_000,
    });
    expect(await second.history("cleanup")).toHaveLength(1);
  });

  test("an edited file is reloaded through the change token; a bad edit is refused whole and the old definitions kept", async () => {
    const { dir, file, url } = setup();
    const store = new FileScheduleStore({
      paths: [join(dir, "schedules")],
      state: await state(url),
    });
    await store.load();
    const token = await store.changeToken();
    expect(await store.changeToken()).toBe(token);

    rewrite(file, YAML_V2, 5);
    const next = await store.changeToken();
    expect(next).not.toBe(token);
    expect(store.ids).toEqual(["added", "cleanup", "report"]);
    expect((await store.get("cleanup"))?.queue).toBe("maintenance");

    rewrite(file, BAD, 10);
    const afterBad = await store.changeToken();
    expect(store.ids).toEqual(["added", "cleanup", "report"]);
    expect(await store.changeToken()).toBe(afterBad);
    // Nothing of the bad file was applied.
    expect(await store.get("broken")).toBeNull();
  });

  test("a bad file refuses the first load with file, line and field", async () => {
    const { dir, file, url } = setup();
    writeFileSync(file, BAD);
    const store = new FileScheduleStore({
      paths: [join(dir, "schedules")],
      state: await state(url),
    });
    const error = await store.load().catch((e) => e);
    expect(error).toBeInstanceOf(ScheduleFileError);
    expect(error.message).toContain(`${file}:7: schedule "broken": field "schedule.expression"`);
    expect(await (await state(url)).list()).toEqual([]);
  });

  test("a read-only view writes nothing and shows new entries as they would be created", async () => {
    const { dir, url } = setup();
    const stateStore = await state(url);
    const view = new FileScheduleStore({
      paths: [join(dir, "schedules")],
      state: stateStore,
      sync: false,
    });
    await view.load();
    const entries = await view.list();
    expect(entries.map((e) => [e.id, e.version])).toEqual([
      ["cleanup", 0],
      ["report", 0],
    ]);
    expect(entries[0].nextRunAt).toBeGreaterThan(Date.now());
    expect(await stateStore.list()).toEqual([]);
  });

  test("Beat runs the entries the files define", async () => {
    const { dir } = setup();
    const clock = new FakeClock(Date.UTC(2025, 0, 6, 11, 0));
    const memory = openMemory("memory://", { clock });
    open.push(memory);
    const store = new FileScheduleStore({
      paths: [join(dir, "schedules")],
      state: memory.scheduleStore(),
      clock,
    });
    await store.load();
    const beat = new Beat({
      scheduleStore: store,
      lockStore: memory.lockStore(),
      stem: new Stem({ broker: memory.broker(), backend: memory.resultBackend(), clock }),
      clock,
      onSkip: () => {},
    });
    await beat.start();
    // The file store reads the files (real I/O) between ticks: wait for Beat to be asleep.
    await eventually(() => clock.pendingSleeps > 0);
    // Monday 2025-01-06 12:00 London (GMT) is 12:00Z.
    const noon = Date.UTC(2025, 0, 6, 12, 0);
    await clock.set(noon);
    await eventually(
      async () => (await store.get("report"))?.totalRunCount === 1,
      3000,
      "report dispatched",
    );
    await eventually(
      async () => (await store.get("cleanup"))?.totalRunCount === 1,
      3000,
      "cleanup dispatched",
    );
    await beat.stop();
    expect((await store.get("report"))?.lastRunAt).toBe(noon);
    // Beat slept through the five-minute runs since 11:05 (the clock jumped): one run, the latest.
    expect((await store.history("cleanup"))[0].scheduledFor).toBe(noon);
    expect(beat.stats.skippedRuns).toBe(11);
  });
});
