import { beforeEach, describe, expect, test } from "bun:test";
import type postgres from "postgres";
import {
  type PostgresStoreConnection,
  publishInTransaction,
} from "../../src/adapters/postgres/index.ts";
import { buildEnvelope } from "../../src/core/envelope.ts";
import { uniqueName } from "../../src/testing/harness.ts";
import { usePostgresPerTest } from "./fixtures/postgres-test-db.ts";

let admin: postgres.Sql;
let schema: string;
let conn: PostgresStoreConnection;
let peer: () => Promise<PostgresStoreConnection>;

describe("Postgres broker", () => {
  usePostgresPerTest("stem_pgb", (db) => {
    ({ admin, schema, conn, peer } = db);
  });
  let queue: string;
  const lease = { leaseMs: 5000, consumer: "w1" };

  beforeEach(() => {
    queue = uniqueName("q");
  });

  test("a stored row that is not an envelope is dead-lettered as undecodable and skipped", async () => {
    const jobs = admin(`${schema}.jobs`);
    await admin`INSERT INTO ${jobs} (id, queue, envelope) VALUES
      ('bad-scalar', ${queue}, '"not an envelope"'::jsonb),
      ('bad-fields', ${queue}, ${admin.json({ id: "bad-fields", queue, args: {} })})`;
    const good = buildEnvelope({ name: "t.good", queue });
    await conn.broker().publish([good]);

    const got = await conn.broker().fetch([queue], { max: 10, ...lease });
    expect(got.map((d) => d.envelope.id)).toEqual([good.id]);
    await conn.broker().ack(got);

    const dead = await conn.broker().listDeadLetters({ queue });
    expect(dead.map((d) => d.envelope.id).sort()).toEqual(["bad-fields", "bad-scalar"]);
    for (const entry of dead) {
      expect(entry.reason).toBe("undecodable");
      expect(String(entry.meta.error)).toContain("undecodable message");
      expect(entry.queue).toBe(queue);
    }
    const scalar = await conn.broker().getDeadLetter("bad-scalar");
    expect(scalar?.envelope.name).toBe("(undecodable)");
    expect(scalar?.envelope.meta["stem.undecodable"]).toBe("not an envelope");
    expect(String((await conn.broker().getDeadLetter("bad-fields"))?.meta.error)).toContain(
      '"name"',
    );
    const [stats] = await conn.broker().stats([queue]);
    expect(stats).toEqual({ queue, pending: 0, inflight: 0, delayed: 0, dead: 2 });
  });

  test("a fetch that finds only undecodable rows dead-letters them and returns nothing", async () => {
    await admin`INSERT INTO ${admin(`${schema}.jobs`)} (id, queue, envelope)
      VALUES ('only-bad', ${queue}, '[1, 2]'::jsonb)`;
    expect(await conn.broker().fetch([queue], { max: 5, ...lease, waitMs: 200 })).toEqual([]);
    expect((await conn.broker().getDeadLetter("only-bad"))?.reason).toBe("undecodable");
  });

  test("a job published in a transaction that rolls back is never delivered", async () => {
    const env = buildEnvelope({ name: "t.rollback", queue });
    const failed = await admin
      .begin(async (tx) => {
        await publishInTransaction(tx, schema, [env]);
        throw new Error("caller's write failed");
      })
      .catch((e: Error) => e);
    expect((failed as Error).message).toBe("caller's write failed");
    expect(await conn.broker().fetch([queue], { max: 1, ...lease, waitMs: 300 })).toEqual([]);
    const [stats] = await conn.broker().stats([queue]);
    expect(stats.pending + stats.delayed + stats.inflight).toBe(0);
  });

  test("a job published in a transaction is delivered once it commits, waking a waiting fetch then", async () => {
    const env = buildEnvelope({ name: "t.commit", queue, args: { order: 7 } });
    let committedAt = 0;
    const waiting = conn.broker().fetch([queue], { max: 1, ...lease, waitMs: 4000 });
    await Bun.sleep(150);
    await admin.begin(async (tx) => {
      await tx`CREATE TEMP TABLE caller_data (n int) ON COMMIT DROP`;
      const result = await publishInTransaction(tx, schema, [env]);
      expect(result.accepted).toEqual([env.id]);
      // Not visible (nor announced) before the commit.
      expect(await conn.broker().fetch([queue], { max: 1, ...lease })).toEqual([]);
      await Bun.sleep(300);
      committedAt = Date.now();
    });
    const [delivery] = await waiting;
    expect(delivery.envelope.args).toEqual({ order: 7 });
    expect(Date.now()).toBeGreaterThanOrEqual(committedAt);
    expect(Date.now() - committedAt).toBeLessThan(1000);
    await conn.broker().ack([delivery]);
  });

  test("broker.publishWith enqueues on the connection's own transactions", async () => {
    const kept = buildEnvelope({ name: "t.kept", queue });
    const dropped = buildEnvelope({ name: "t.dropped", queue });
    await conn.sql.begin((tx) => conn.broker().publishWith(tx, [kept]));
    await conn.sql
      .begin(async (tx) => {
        await conn.broker().publishWith(tx, [dropped]);
        throw new Error("abort");
      })
      .catch(() => {});
    const got = await conn.broker().fetch([queue], { max: 5, ...lease });
    expect(got.map((d) => d.envelope.id)).toEqual([kept.id]);
  });

  test("a waiting fetch returns within ~100 ms of a publish from another connection", async () => {
    const other = await peer();
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const waiting = conn.broker().fetch([queue], { max: 1, ...lease, waitMs: 10_000 });
      await Bun.sleep(200);
      const env = buildEnvelope({ name: "t.latency", queue, args: { i } });
      const publishedAt = performance.now();
      await other.broker().publish([env]);
      const [delivery] = await waiting;
      latencies.push(performance.now() - publishedAt);
      expect(delivery.envelope.id).toBe(env.id);
      await conn.broker().ack([delivery]);
    }
    latencies.sort((a, b) => a - b);
    // The fallback poll is 5 s: anything near 100 ms is the NOTIFY.
    expect(latencies[2]).toBeLessThan(100);
    expect(latencies[4]).toBeLessThan(1000);
  });

  test("an envelope Postgres cannot store is refused with a clear error, and nothing is stored", async () => {
    const ok = buildEnvelope({ name: "t.ok", queue });
    const bad = buildEnvelope({ name: "t.nul", queue, args: { text: "a\u0000b" } });
    const error = await conn
      .broker()
      .publish([ok, bad])
      .catch((e) => e);
    expect(error.code).toBe("invalid_argument");
    expect(error.message).toContain("NUL");
    await expect(conn.broker().publish([{ ...ok, queue: "" }])).rejects.toThrow(/without a queue/);
    const [stats] = await conn.broker().stats([queue]);
    expect(stats.pending).toBe(0);
  });

  test("a waiting fetch ignores publishes to other queues and ends early when aborted", async () => {
    const other = await peer();
    const controller = new AbortController();
    const started = Date.now();
    const waiting = conn.broker().fetch([queue], {
      max: 1,
      ...lease,
      waitMs: 10_000,
      signal: controller.signal,
    });
    await Bun.sleep(100);
    await other.broker().publish([buildEnvelope({ name: "t.elsewhere", queue: `${queue}-x` })]);
    setTimeout(() => controller.abort(), 400);
    expect(await waiting).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
