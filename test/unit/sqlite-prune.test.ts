import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StoreConnection } from "../../src/adapters/contracts.ts";
import { openSqlite } from "../../src/adapters/sqlite/index.ts";
import {
  PRUNE_INTERVAL_MS,
  SCHEDULE_HISTORY_RETENTION_MS,
} from "../../src/adapters/sqlite/prune.ts";
import { type Clock, systemClock } from "../../src/core/clock.ts";
import type { TaskStatus } from "../../src/core/states.ts";
import { scheduleEntry } from "../../src/testing/index.ts";

const T0 = Date.UTC(2025, 0, 1);
let time = T0;
const clock: Clock = { now: () => time, sleep: systemClock.sleep };

let folder: string;
let path: string;
let connection: StoreConnection;
beforeEach(async () => {
  time = T0;
  folder = mkdtempSync(join(tmpdir(), "stem-sqlite-prune-"));
  path = join(folder, "stem.db");
  connection = await openSqlite(`sqlite://${path}`, { clock });
});
afterEach(async () => {
  await connection.close();
  rmSync(folder, { recursive: true, force: true });
});

const status = (id: string): TaskStatus => ({
  id,
  name: "t.prune",
  queue: "default",
  state: "succeeded",
  attempt: 0,
  meta: {},
  createdAt: time,
  updatedAt: time,
});

/** Rows physically in each table, read through a separate handle on the file. */
function rows(): Record<string, number> {
  const db = new Database(path, { readonly: true });
  try {
    const count = (table: string) =>
      db.query<{ n: number }, []>(`SELECT count(*) AS n FROM ${table}`).get()!.n;
    return {
      statuses: count("stem_task_statuses"),
      groups: count("stem_groups"),
      groupResults: count("stem_group_results"),
      heartbeats: count("stem_heartbeats"),
      locks: count("stem_locks"),
      rateLimits: count("stem_rate_limits"),
      controlMessages: count("stem_control_messages"),
      history: count("stem_schedule_history"),
    };
  } finally {
    db.close();
  }
}

/** One of each kind of expiring row: short-lived ones (1 s) and, for results, long-lived ones. */
async function fill(): Promise<void> {
  const backend = connection.resultBackend();
  await backend.set([status("short")], 1000);
  await backend.set([status("long")], 3_600_000);
  await backend.initGroup({ id: "g-short", expected: 2, ttlMs: 1000 });
  await backend.addGroupResult("g-short", 0, status("m0"));
  await backend.initGroup({ id: "g-long", expected: 2, ttlMs: 3_600_000 });
  await backend.addGroupResult("g-long", 0, status("m1"));
  await backend.setHeartbeat(
    {
      workerId: "w1",
      host: "h",
      pid: 1,
      queues: ["default"],
      concurrency: 1,
      inflight: 0,
      processed: 0,
      failed: 0,
      startedAt: time,
      timestamp: time,
    },
    1000,
  );
  await connection.lockStore().acquire("beat", "owner", 1000);
  await connection.rateLimiter().acquire("limit", { tokens: 1, intervalMs: 1000 });
  await connection.controlBus().publish("ctl", { type: "ping" });
  const schedules = connection.scheduleStore();
  await schedules.upsert(scheduleEntry({ id: "s1", nextRunAt: time }));
  await schedules.markExecuted("s1", { scheduledFor: time, executedAt: time, success: true });
}

const FILLED = {
  statuses: 2,
  groups: 2,
  groupResults: 2,
  heartbeats: 1,
  locks: 1,
  rateLimits: 1,
  controlMessages: 1,
  history: 1,
};

describe("SQLite pruning", () => {
  test("expired rows read as missing at once and are deleted by the next write after the interval", async () => {
    await fill();
    expect(rows()).toEqual(FILLED);
    time += 2000;
    const backend = connection.resultBackend();
    expect(await backend.get("short")).toBeNull();
    expect(await backend.getGroup("g-short")).toBeNull();
    expect(await backend.getHeartbeat("w1")).toBeNull();
    expect(await connection.lockStore().ownerOf("beat")).toBeNull();
    // Within the interval a write does not prune.
    await backend.set([status("other")], 3_600_000);
    expect(rows()).toEqual({ ...FILLED, statuses: 3 });

    time = T0 + PRUNE_INTERVAL_MS + 1;
    await backend.set([status("trigger")], 3_600_000);
    expect(rows()).toEqual({
      statuses: 3, // long, other, trigger
      groups: 1,
      groupResults: 1,
      heartbeats: 0,
      locks: 0,
      rateLimits: 0,
      controlMessages: 0,
      history: 1,
    });
    expect((await backend.get("long"))?.id).toBe("long");
    expect((await backend.getGroup("g-long"))?.completed).toBe(1);
  });

  test("schedule history older than the retention goes; the entry stays", async () => {
    await fill();
    time = T0 + SCHEDULE_HISTORY_RETENTION_MS + 1;
    await connection.resultBackend().set([status("trigger")]);
    expect(rows().history).toBe(0);
    expect((await connection.scheduleStore().get("s1"))?.totalRunCount).toBe(1);
  });

  test("opening a connection prunes what expired while no one was connected", async () => {
    await fill();
    await connection.close();
    time = T0 + 2000;
    connection = await openSqlite(`sqlite://${path}`, { clock });
    const after = rows();
    expect(after.statuses).toBe(1);
    expect(after.groups).toBe(1);
    expect(after.heartbeats).toBe(0);
    expect(after.locks).toBe(0);
    // Control messages are kept for a minute for slow pollers.
    expect(after.controlMessages).toBe(1);
  });

  test("the retention options are honoured", async () => {
    await fill();
    await connection.close();
    connection = await openSqlite(`sqlite://${path}`, {
      clock,
      historyRetentionMs: 500,
      pruneIntervalMs: 100,
    });
    time = T0 + 600;
    await connection.resultBackend().set([status("trigger")], 3_600_000);
    expect(rows().history).toBe(0);
    expect(rows().statuses).toBe(3);
  });
});
