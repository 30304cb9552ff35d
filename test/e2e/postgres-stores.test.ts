/** Postgres-specific behaviour beyond the shared contracts. */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type postgres from "postgres";
import { type PostgresStoreConnection, openPostgres } from "../../src/adapters/postgres/index.ts";
import { sweepExpired } from "../../src/adapters/postgres/sql/sweep-expired.ts";
import { connect } from "../../src/adapters/url.ts";
import { SCHEDULE_HISTORY_LIMIT } from "../../src/adapters/schedule-state.ts";
import { buildEnvelope } from "../../src/core/envelope.ts";
import type { TaskStatus } from "../../src/core/states.ts";
import { eventually, sleep, uniqueName } from "../../src/testing/harness.ts";
import { scheduleEntry } from "../../src/testing/schedule-store-contract.ts";
import {
  TEST_POSTGRES_URL,
  adminClient,
  dropSchema,
  openTestConnection,
  randomSchema,
} from "./fixtures/postgres-test-db.ts";

let admin: postgres.Sql;
beforeAll(async () => {
  admin = await adminClient();
});
afterAll(async () => {
  await admin.end({ timeout: 5 });
});

function status(id: string): TaskStatus {
  const now = Date.now();
  return {
    id,
    name: "t",
    queue: "default",
    state: "succeeded",
    attempt: 0,
    meta: {},
    createdAt: now,
    updatedAt: now,
  };
}

describe("Postgres stores", () => {
  let schema: string;
  let conn: PostgresStoreConnection;
  const extra: PostgresStoreConnection[] = [];

  beforeEach(async () => {
    schema = randomSchema("stem_pgs");
    conn = await openTestConnection(schema);
  });
  afterEach(async () => {
    await Promise.all([conn.close(), ...extra.splice(0).map((c) => c.close())]);
    await dropSchema(admin, schema);
  });

  test("connect() opens postgres:// and postgresql:// URLs with the schema from the query", async () => {
    const viaUrl = await connect(
      `${TEST_POSTGRES_URL.replace("postgres://", "postgresql://")}?schema=${schema}`,
    );
    try {
      await viaUrl.ping();
      expect(viaUrl.url).toContain(`schema=${schema}`);
      await conn.broker().publish([buildEnvelope({ name: "t.url", queue: "via-url" })]);
      const [stats] = await viaUrl.broker().stats(["via-url"]);
      expect(stats.pending).toBe(1);
    } finally {
      await viaUrl.close();
    }
    await expect(viaUrl.ping()).rejects.toMatchObject({ code: "closed" });
  });

  test("control messages too large for a NOTIFY payload arrive whole and in order", async () => {
    const other = await openTestConnection(schema);
    extra.push(other);
    const channel = uniqueName("ctl");
    const got: Record<string, unknown>[] = [];
    const stop = await other.controlBus().subscribe(channel, (m) => got.push(m));
    const big = { type: "inspect", tasks: Array.from({ length: 2000 }, (_, i) => `task-${i}`) };
    await conn.controlBus().publish(channel, { type: "small", n: 1 });
    await conn.controlBus().publish(channel, big);
    await conn.controlBus().publish(channel, { type: "small", n: 2 });
    await eventually(() => got.length === 3, 3000, "three control messages");
    expect(got[0]).toEqual({ type: "small", n: 1 });
    expect(got[1]).toEqual(big);
    expect(got[2]).toEqual({ type: "small", n: 2 });
    await stop();
  });

  test("resultTtlMs sets the default status lifetime", async () => {
    const short = await openPostgres(`${TEST_POSTGRES_URL}?resultTtlMs=300`, { schema, max: 2 });
    extra.push(short);
    await short.resultBackend().set([status("short-lived")]);
    expect(await short.resultBackend().get("short-lived")).not.toBeNull();
    await sleep(450);
    expect(await short.resultBackend().get("short-lived")).toBeNull();
  });

  test("the sweeper deletes expired statuses, groups, heartbeats and locks, and nothing live", async () => {
    const backend = conn.resultBackend();
    await backend.set([status("gone")], 50);
    await backend.set([status("kept")], 60_000);
    await backend.initGroup({ id: "g-gone", expected: 1, ttlMs: 50 });
    await backend.addGroupResult("g-gone", 0, status("m"));
    await backend.setHeartbeat(
      {
        workerId: "w-gone",
        host: "h",
        pid: 1,
        queues: [],
        concurrency: 1,
        inflight: 0,
        processed: 0,
        failed: 0,
        startedAt: 0,
        timestamp: 0,
      },
      50,
    );
    await conn.lockStore().acquire("lock-gone", "me", 50);
    await sleep(150);
    expect(await sweepExpired(conn.sql, schema)).toBe(4);
    const count = async (name: string) =>
      Number((await admin.unsafe(`SELECT count(*) AS n FROM "${schema}".${name}`))[0].n);
    expect(await count("task_results")).toBe(1);
    expect(await count("groups")).toBe(0);
    expect(await count("group_results")).toBe(0);
    expect(await count("worker_heartbeats")).toBe(0);
    expect(await count("locks")).toBe(0);
    expect(await backend.get("kept")).not.toBeNull();
  });

  test("schedule history is trimmed to the newest SCHEDULE_HISTORY_LIMIT runs per entry", async () => {
    const store = conn.scheduleStore();
    const id = uniqueName("sched");
    await store.upsert(scheduleEntry({ id, nextRunAt: 0 }));
    await admin`
      INSERT INTO ${admin(`${schema}.schedule_run_history`)} (entry_id, run)
      SELECT ${id}, jsonb_build_object('entryId', ${id}::text, 'scheduledFor', g, 'executedAt', g, 'success', true)
      FROM generate_series(1, ${SCHEDULE_HISTORY_LIMIT + 5}) g`;
    await store.markExecuted(id, { scheduledFor: 1_000_000, executedAt: 1_000_001, success: true });
    const rows =
      await admin`SELECT count(*)::int AS n FROM ${admin(`${schema}.schedule_run_history`)} WHERE entry_id = ${id}`;
    expect(rows[0].n).toBe(SCHEDULE_HISTORY_LIMIT);
    const [newest, next] = await store.history(id, 2);
    expect(newest.scheduledFor).toBe(1_000_000);
    expect(next.scheduledFor).toBe(SCHEDULE_HISTORY_LIMIT + 5);
    expect(await store.remove(id)).toBe(true);
    const left =
      await admin`SELECT count(*)::int AS n FROM ${admin(`${schema}.schedule_run_history`)} WHERE entry_id = ${id}`;
    expect(left[0].n).toBe(0);
  });

  test("stats without queues lists every queue published to, even once emptied", async () => {
    const broker = conn.broker();
    const a = uniqueName("qa");
    const b = uniqueName("qb");
    await broker.publish([
      buildEnvelope({ name: "t", queue: a }),
      buildEnvelope({ name: "t", queue: b }),
    ]);
    const got = await broker.fetch([a, b], { max: 2, leaseMs: 5000, consumer: "c" });
    expect(got.map((d) => d.queue)).toEqual([a, b]);
    await broker.ack(got);
    const stats = await broker.stats();
    expect(stats.map((s) => s.queue)).toEqual([a, b].sort());
    expect(stats.every((s) => s.pending + s.inflight + s.delayed + s.dead === 0)).toBe(true);
  });

  test("a replay leaves a dead letter in place when its id is queued again meanwhile", async () => {
    const broker = conn.broker();
    const queue = uniqueName("q");
    const env = buildEnvelope({ name: "t.replay", queue });
    await broker.publish([env]);
    const [d] = await broker.fetch([queue], { max: 1, leaseMs: 5000, consumer: "c" });
    await broker.deadLetter(d, "boom");
    await broker.publish([env]);
    const result = await broker.replayDeadLetters({ queue });
    expect(result.entries).toEqual([]);
    expect((await broker.getDeadLetter(env.id))?.reason).toBe("boom");
  });
});
