import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { captureLogs } from "../fixtures/capture-logs.ts";
import type postgres from "postgres";
import { log } from "../../src/adapters/postgres/database.ts";
import {
  type PostgresStoreConnection,
  openPostgres,
  publishInTransaction,
} from "../../src/adapters/postgres/index.ts";
import { buildEnvelope } from "../../src/core/envelope.ts";
import { eventually, uniqueName } from "../../src/testing/harness.ts";
import {
  TEST_POSTGRES_URL,
  adminClient,
  dropSchema,
  openTestConnection,
  randomSchema,
  terminateConnections,
} from "./fixtures/postgres-test-db.ts";
import { TcpProxy } from "./fixtures/postgres-tcp-proxy.ts";

let admin: postgres.Sql;
beforeAll(async () => {
  admin = await adminClient();
});
afterAll(async () => {
  await admin.end({ timeout: 5 });
});

const lease = { leaseMs: 5000, consumer: "w1" };

describe("Postgres reconnection", () => {
  let schema: string;
  let conn: PostgresStoreConnection | undefined;
  let queue: string;
  const captured = captureLogs(log);

  beforeEach(() => {
    schema = randomSchema("stem_pgr");
    queue = uniqueName("q");
  });
  afterEach(async () => {
    await conn?.close();
    conn = undefined;
    await dropSchema(admin, schema);
  });

  /** Publishes from the admin client, which the terminations leave alone. */
  const publishFromOutside = (name: string) =>
    publishInTransaction(admin, schema, [buildEnvelope({ name, queue })]);

  test("after pg_terminate_backend, LISTEN is restored and publish, fetch and ack work", async () => {
    conn = await openTestConnection(schema);
    const broker = conn.broker();
    // Establish the LISTEN connection and the pool.
    await publishFromOutside("t.before");
    const [before] = await broker.fetch([queue], { max: 1, ...lease, waitMs: 1000 });
    await broker.ack([before]);

    // A fetch waiting across the termination is still woken by a later publish.
    const waitingAcross = broker.fetch([queue], { max: 1, ...lease, waitMs: 8000 });
    await Bun.sleep(100);
    expect(await terminateConnections(admin, schema)).toBeGreaterThanOrEqual(2);
    await Bun.sleep(300);
    const publishedAt = Date.now();
    await publishFromOutside("t.across");
    const [across] = await waitingAcross;
    expect(across.envelope.name).toBe("t.across");
    expect(Date.now() - publishedAt).toBeLessThan(2000);
    await broker.ack([across]);

    // A new waiting fetch is woken by NOTIFY (well under the 5 s fallback poll).
    const waiting = broker.fetch([queue], { max: 1, ...lease, waitMs: 8000 });
    await Bun.sleep(200);
    const start = Date.now();
    await publishFromOutside("t.after");
    const [after] = await waiting;
    expect(after.envelope.name).toBe("t.after");
    expect(Date.now() - start).toBeLessThan(1000);
    await broker.ack([after]);

    // The query pool works again for the connection's own operations.
    await broker.publish([buildEnvelope({ name: "t.own", queue })]);
    const [own] = await broker.fetch([queue], { max: 1, ...lease });
    await broker.ack([own]);
    const [stats] = await broker.stats([queue]);
    expect(stats).toMatchObject({ pending: 0, inflight: 0 });
  });

  test("the control bus keeps its subscription through a terminated connection", async () => {
    conn = await openTestConnection(schema);
    const channel = uniqueName("ctl");
    const got: unknown[] = [];
    const stop = await conn.controlBus().subscribe(channel, (m) => got.push(m));
    expect(await terminateConnections(admin, schema)).toBeGreaterThanOrEqual(1);
    // Published from outside until one arrives: the subscription comes back by itself.
    await eventually(
      async () => {
        await admin`SELECT pg_notify(${`${schema}.control`}, ${JSON.stringify({ channel, message: { n: 1 } })})`;
        return got.length > 0;
      },
      5000,
      "a control message after the termination",
    );
    expect(got[0]).toEqual({ n: 1 });
    await stop();
  });

  test("an outage is logged once; a long poll rides it out and LISTEN comes back", async () => {
    const proxy = new TcpProxy("127.0.0.1", Number(new URL(TEST_POSTGRES_URL).port || 5432));
    await proxy.start();
    const proxied = new URL(TEST_POSTGRES_URL);
    proxied.port = String(proxy.port);
    try {
      conn = await openPostgres(proxied.toString(), { schema, max: 2 });
      const broker = conn.broker();
      await publishFromOutside("t.warmup");
      const [warm] = await broker.fetch([queue], { max: 1, ...lease, waitMs: 1000 });
      await broker.ack([warm]);

      await proxy.stop();
      // A long poll during the outage keeps retrying quietly, then reports the outage.
      const failed = await broker
        .fetch([queue], { max: 1, ...lease, waitMs: 1500 })
        .catch((e) => e);
      expect(failed.code).toBe("store_unavailable");
      await expect(broker.publish([buildEnvelope({ name: "t.down", queue })])).rejects.toThrow(
        /unreachable/,
      );
      const warnings = captured.records.filter((r) => r.type === "warn");
      expect(warnings.length).toBe(1);
      expect(String(warnings[0].args[0])).toContain("lost the connection");

      await proxy.start();
      await eventually(
        () =>
          conn!.ping().then(
            () => true,
            () => false,
          ),
        5000,
        "ping after restart",
      );
      expect(
        captured.records.some((r) => r.type === "info" && String(r.args[0]).includes("restored")),
      ).toBe(true);
      // LISTEN is back (its retry backoff is at most 5 s): a waiting fetch is woken at once.
      await eventually(
        async () => {
          const waiting = broker.fetch([queue], { max: 1, ...lease, waitMs: 1500 });
          await Bun.sleep(100);
          const start = Date.now();
          await publishFromOutside("t.back");
          const got = await waiting;
          if (got.length === 0) return false;
          await broker.ack(got);
          return Date.now() - start < 400;
        },
        12_000,
        "a NOTIFY wake-up after the outage",
      );
      expect(captured.records.filter((r) => r.type === "warn").length).toBe(1);
    } finally {
      await conn?.close();
      conn = undefined;
      await proxy.stop();
    }
  }, 30_000);
});
