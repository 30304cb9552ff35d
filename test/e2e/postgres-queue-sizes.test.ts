/**
 * Postgres queue sizes (migration 12): the per-queue job totals that `stats` sums stay
 * equal to the rows in the jobs table while several connections publish, roll back,
 * ack, dead-letter and purge at once, and folding a queue's deltas keeps its total.
 */
import { expect, test } from "bun:test";
import type postgres from "postgres";
import { publishInTransaction } from "../../src/adapters/postgres/index.ts";
import { fillQueue } from "../../src/testing/fill-queue.ts";
import { buildEnvelope } from "../../src/core/envelope.ts";
import { type PostgresPerTest, usePostgresPerTest } from "./fixtures/postgres-test-db.ts";

let pg: PostgresPerTest;
usePostgresPerTest("stem_sizes", (opened) => {
  pg = opened;
});

const QUEUES = ["a", "b", "c"];

async function rowCounts(admin: postgres.Sql, schema: string): Promise<Record<string, number>> {
  const rows = await admin.unsafe<{ queue: string; n: number }[]>(
    `SELECT queue, count(*)::integer AS n FROM "${schema}".jobs GROUP BY queue`,
  );
  return Object.fromEntries(QUEUES.map((q) => [q, rows.find((r) => r.queue === q)?.n ?? 0]));
}

async function statsTotals(broker: PostgresPerTest["conn"]): Promise<Record<string, number>> {
  const stats = await broker.broker().stats(QUEUES);
  return Object.fromEntries(stats.map((s) => [s.queue, s.pending + s.inflight + s.delayed]));
}

test("totals match the jobs table under concurrent publishes, rollbacks, acks and purges", async () => {
  const connections = [pg.conn, await pg.peer(), await pg.peer()];
  const pick = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)];
  const lane = async (conn: PostgresPerTest["conn"], steps: number) => {
    const broker = conn.broker();
    for (let i = 0; i < steps; i++) {
      const queue = pick(QUEUES);
      const roll = Math.random();
      if (roll < 0.4) {
        await fillQueue(broker, queue, 1 + Math.floor(Math.random() * 20), { delayEvery: 3 });
      } else if (roll < 0.5) {
        // Published and rolled back: the jobs and their count vanish together.
        await conn.sql
          .begin(async (tx) => {
            await publishInTransaction(tx, pg.schema, [buildEnvelope({ name: "x", queue })]);
            throw new Error("roll back");
          })
          .catch((error) => expect(error.message).toBe("roll back"));
      } else if (roll < 0.85) {
        const got = await broker.fetch([queue], { max: 5, leaseMs: 60_000, consumer: "t" });
        if (got.length > 0) await broker.ack(got.slice(1));
        if (got.length > 0) await broker.deadLetter(got[0], "test");
      } else if (roll < 0.9) {
        await broker.purge(queue);
      } else {
        await broker.fetch([queue], { max: 2, leaseMs: 60_000, consumer: "t" });
      }
    }
  };
  await Promise.all(connections.flatMap((c) => [lane(c, 120), lane(c, 120)]));
  expect(await statsTotals(pg.conn)).toEqual(await rowCounts(pg.admin, pg.schema));
}, 120_000);

test("folding a queue's deltas leaves one row with the same total", async () => {
  const broker = pg.conn.broker();
  for (let i = 0; i < 30; i++) await fillQueue(broker, "a", 7);
  await broker.ack(await broker.fetch(["a"], { max: 11, leaseMs: 60_000, consumer: "t" }));
  const before = await statsTotals(pg.conn);
  expect(before.a).toBe(30 * 7 - 11);
  await pg.admin.unsafe(`SELECT "${pg.schema}".fold_queue_size('a')`);
  const [{ rows }] = await pg.admin.unsafe<{ rows: number }[]>(
    `SELECT count(*)::integer AS rows FROM "${pg.schema}".queue_size_deltas WHERE queue = 'a'`,
  );
  expect(rows).toBe(1);
  expect(await statsTotals(pg.conn)).toEqual(before);
  // A queue that empties folds to no row at all.
  await broker.purge("a");
  await pg.admin.unsafe(`SELECT "${pg.schema}".fold_queue_size('a')`);
  const [{ left }] = await pg.admin.unsafe<{ left: number }[]>(
    `SELECT count(*)::integer AS left FROM "${pg.schema}".queue_size_deltas WHERE queue = 'a'`,
  );
  expect(left).toBe(0);
});
