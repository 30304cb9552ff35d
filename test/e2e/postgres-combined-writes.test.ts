/**
 * The Postgres broker's one-statement writes: a producer's statuses stored with its
 * publish, and a worker's statuses stored with its acks, committing together or not at
 * all. The Stem producer and the worker pick them up when broker and result backend are
 * on the same database. The worker's write rides out an outage while the leases hold.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type postgres from "postgres";
import { openPostgres, type PostgresStoreConnection } from "../../src/adapters/postgres/index.ts";
import { buildEnvelope } from "../../src/core/envelope.ts";
import type { TaskStatus } from "../../src/core/states.ts";
import { Stem } from "../../src/core/stem.ts";
import { uniqueName } from "../../src/testing/harness.ts";
import { TcpProxy } from "./fixtures/postgres-tcp-proxy.ts";
import { TEST_POSTGRES_URL, usePostgresPerTest } from "./fixtures/postgres-test-db.ts";

let admin: postgres.Sql;
let schema: string;
let conn: PostgresStoreConnection;
let peer: () => Promise<PostgresStoreConnection>;

function status(
  id: string,
  state: TaskStatus["state"],
  extra: Partial<TaskStatus> = {},
): TaskStatus {
  return {
    id,
    name: "t.combined",
    queue: "q",
    state,
    attempt: 0,
    meta: {},
    createdAt: 1,
    updatedAt: Date.now(),
    ...extra,
  };
}

describe("Postgres combined writes", () => {
  usePostgresPerTest("stem_pgc", (db) => {
    ({ admin, schema, conn, peer } = db);
  });
  let queue: string;
  const lease = { leaseMs: 5000, consumer: "w1" };

  beforeEach(() => {
    queue = uniqueName("q");
  });

  const jobCount = async () =>
    Number((await admin`SELECT count(*) AS n FROM ${admin(`${schema}.jobs`)}`)[0].n);

  test("publishWithStatuses stores the statuses and the jobs in one step", async () => {
    const write = conn.broker().publishWithStatuses(conn.resultBackend())!;
    expect(write).not.toBeNull();
    const envelopes = [
      buildEnvelope({ name: "t.a", queue }),
      buildEnvelope({ name: "t.b", queue }),
    ];
    const result = await write(
      envelopes.map((e) => status(e.id, "queued", { queue })),
      envelopes,
    );
    expect(result).toEqual({ accepted: envelopes.map((e) => e.id), duplicates: [] });
    const stored = await conn.resultBackend().getMany(envelopes.map((e) => e.id));
    expect(stored.map((s) => s?.state)).toEqual(["queued", "queued"]);
    const got = await conn.broker().fetch([queue], { max: 10, ...lease });
    expect(got.map((d) => d.envelope.id)).toEqual(envelopes.map((e) => e.id));
  });

  test("a status that cannot be stored publishes nothing", async () => {
    const write = conn.broker().publishWithStatuses(conn.resultBackend())!;
    const envelope = buildEnvelope({ name: "t.a", queue });
    const bad = status(envelope.id, "queued", { meta: { note: "nul \u0000 inside" } });
    await expect(write([bad], [envelope])).rejects.toMatchObject({ code: "invalid_argument" });
    expect(await jobCount()).toBe(0);
    expect(await conn.resultBackend().get(envelope.id)).toBeNull();
  });

  test("ackWithStatuses stores the final statuses and acks the deliveries in one step", async () => {
    const envelopes = [
      buildEnvelope({ name: "t.a", queue }),
      buildEnvelope({ name: "t.b", queue }),
    ];
    await conn.broker().publish(envelopes);
    const got = await conn.broker().fetch([queue], { max: 10, ...lease });
    const finish = conn.broker().ackWithStatuses(conn.resultBackend())!;
    // A status without an ack (another task's "running") is stored alongside.
    const running = status("elsewhere", "running");
    await finish(
      [...got.map((d) => status(d.envelope.id, "succeeded", { result: 42 })), running],
      got,
    );
    expect(await jobCount()).toBe(0);
    const stored = await conn.resultBackend().getMany([...envelopes.map((e) => e.id), "elsewhere"]);
    expect(stored.map((s) => s?.state)).toEqual(["succeeded", "succeeded", "running"]);
    expect(stored[0]?.result).toBe(42);
  });

  test("a job is not acked when its status cannot be stored", async () => {
    const envelope = buildEnvelope({ name: "t.a", queue });
    await conn.broker().publish([envelope]);
    const got = await conn.broker().fetch([queue], { max: 1, ...lease });
    const finish = conn.broker().ackWithStatuses(conn.resultBackend())!;
    const bad = status(envelope.id, "succeeded", { result: "nul \u0000 inside" });
    await expect(finish([bad], got)).rejects.toMatchObject({ code: "invalid_argument" });
    expect(await jobCount()).toBe(1);
    // The lease still holds it; a later write with a storable result acks it.
    await finish([status(envelope.id, "succeeded", { result: "ok" })], got);
    expect(await jobCount()).toBe(0);
  });

  test("a stale receipt is not acked, while the status is still stored", async () => {
    const envelope = buildEnvelope({ name: "t.a", queue });
    await conn.broker().publish([envelope]);
    const [first] = await conn.broker().fetch([queue], { max: 1, leaseMs: 50, consumer: "w1" });
    await Bun.sleep(120);
    const [second] = await conn.broker().fetch([queue], { max: 1, ...lease });
    expect(second.envelope.id).toBe(envelope.id);
    const finish = conn.broker().ackWithStatuses(conn.resultBackend())!;
    await finish([status(envelope.id, "succeeded")], [first]);
    expect(await jobCount()).toBe(1);
    await finish([status(envelope.id, "succeeded")], [second]);
    expect(await jobCount()).toBe(0);
  });

  test("both are offered only for the result backend on the same database", async () => {
    const other = await peer();
    expect(conn.broker().ackWithStatuses(other.resultBackend())).toBeNull();
    expect(conn.broker().publishWithStatuses(other.resultBackend())).toBeNull();
    expect(conn.broker().ackWithStatuses(conn.resultBackend())).not.toBeNull();
  });

  test("a producer on the same database enqueues with one statement per call", async () => {
    const statements: string[] = [];
    const stem = new Stem({ broker: conn.broker(), backend: conn.resultBackend() });
    const sql = conn.sql as unknown as { options: { debug?: (...args: unknown[]) => void } };
    sql.options.debug = (_connection, query) => statements.push(String(query));
    try {
      const id = await stem.enqueue("t.one", {}, { queue });
      expect(statements.length).toBe(1);
      expect((await conn.resultBackend().get(id))?.state).toBe("queued");
      expect(await jobCount()).toBe(1);
    } finally {
      sql.options.debug = undefined;
    }
  });
  test("publishWithStatusesUnlessLive leaves a live task's status alone and replaces a finished or expired one", async () => {
    const write = conn.broker().publishWithStatusesUnlessLive(conn.resultBackend())!;
    expect(conn.broker().publishWithStatusesUnlessLive((await peer()).resultBackend())).toBeNull();
    const [live, done, expired, fresh] = ["live", "done", "expired", "fresh"].map((n) =>
      buildEnvelope({ name: `t.${n}`, queue, id: `${queue}-${n}` }),
    );
    const backend = conn.resultBackend();
    await backend.set([
      status(live.id, "running", { queue }),
      status(done.id, "succeeded", { queue }),
    ]);
    await backend.set([status(expired.id, "running", { queue })]);
    await admin.unsafe(
      `UPDATE "${schema}".task_results SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [expired.id],
    );
    const all = [live, done, expired, fresh];
    const result = await write(
      all.map((e) => status(e.id, "queued", { queue })),
      all,
    );
    expect(result).toEqual({ accepted: all.map((e) => e.id), duplicates: [] });
    const stored = await backend.getMany(all.map((e) => e.id));
    expect(stored.map((s) => s?.state)).toEqual(["running", "queued", "queued", "queued"]);
    // A job still held is refused, its status left alone.
    const again = await write([status(fresh.id, "queued", { queue, attempt: 9 })], [fresh]);
    expect(again).toEqual({ accepted: [], duplicates: [fresh.id] });
    expect((await backend.get(fresh.id))?.attempt).toBe(0);
  });

  test("a producer enqueueing with caller-chosen ids uses one statement per call", async () => {
    const statements: string[] = [];
    const stem = new Stem({ broker: conn.broker(), backend: conn.resultBackend() });
    const ids = [`${queue}-a`, `${queue}-b`];
    await conn.resultBackend().set([status(ids[0], "running", { queue })]);
    const sql = conn.sql as unknown as { options: { debug?: (...args: unknown[]) => void } };
    sql.options.debug = (_connection, query) => statements.push(String(query));
    try {
      await stem.enqueueMany(
        ids.map((taskId) => ({ name: "t.x", args: {}, options: { taskId, queue } })),
      );
      expect(statements.length).toBe(1);
    } finally {
      sql.options.debug = undefined;
    }
    const stored = await conn.resultBackend().getMany(ids);
    expect(stored.map((s) => s?.state)).toEqual(["running", "queued"]);
    expect(await jobCount()).toBe(2);
  });

  describe("through an outage", () => {
    let proxy: TcpProxy;
    let proxied: PostgresStoreConnection;

    beforeEach(async () => {
      proxy = new TcpProxy("127.0.0.1", Number(new URL(TEST_POSTGRES_URL).port || 5432));
      await proxy.start();
      const url = new URL(TEST_POSTGRES_URL);
      url.port = String(proxy.port);
      proxied = await openPostgres(url.toString(), { schema, max: 2 });
    });
    // Closing a connection whose server is gone waits out the client's end timeout (5 s):
    // longer than the default hook timeout on a loaded machine.
    afterEach(async () => {
      await proxy.stop();
      await proxied.close();
    }, 20_000);

    test("the worker's write waits out an outage shorter than the leases, then stores and acks", async () => {
      const envelope = buildEnvelope({ name: "t.a", queue });
      await proxied.broker().publish([envelope]);
      const got = await proxied
        .broker()
        .fetch([queue], { max: 1, leaseMs: 10_000, consumer: "w1" });
      const finish = proxied.broker().ackWithStatuses(proxied.resultBackend())!;
      await proxy.stop();
      const writing = finish([status(envelope.id, "succeeded", { result: "late" })], got);
      await Bun.sleep(800);
      await proxy.start();
      await writing;
      expect(await jobCount()).toBe(0);
      expect((await conn.resultBackend().get(envelope.id))?.result).toBe("late");
    }, 20_000);

    test("an outage that outlasts a lease makes the write fail, leaving the task to its lease", async () => {
      const envelope = buildEnvelope({ name: "t.a", queue });
      await proxied.broker().publish([envelope]);
      const got = await proxied.broker().fetch([queue], { max: 1, leaseMs: 700, consumer: "w1" });
      const finish = proxied.broker().ackWithStatuses(proxied.resultBackend())!;
      await proxy.stop();
      const started = Date.now();
      await expect(finish([status(envelope.id, "succeeded")], got)).rejects.toMatchObject({
        code: "store_unavailable",
      });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(await jobCount()).toBe(1);
    }, 20_000);
  });
});
