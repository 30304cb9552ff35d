/**
 * Postgres delayed counts (migration 15): the delayed count `stats` reads from the log of
 * delays stays equal to the jobs due later in the jobs table while several connections
 * publish with delays, release with and without delays, dead-letter and purge; delays
 * that come due move to pending, and sweeping their log rows changes nothing. A schema
 * migrated from version 14 counts the jobs it already held.
 */
import { expect, test } from "bun:test";
import type postgres from "postgres";
import { MIGRATIONS, migrate } from "../../src/adapters/postgres/migrations.ts";
import { SWEEP_BATCH, sweepExpired } from "../../src/adapters/postgres/sql/sweep-expired.ts";
import { buildEnvelope } from "../../src/core/envelope.ts";
import { eventually } from "../../src/testing/harness.ts";
import {
  dropSchema,
  openTestConnection,
  type PostgresPerTest,
  randomSchema,
  usePostgresPerTest,
} from "./fixtures/postgres-test-db.ts";

let pg: PostgresPerTest;
usePostgresPerTest("stem_delays", (opened) => {
  pg = opened;
});

const QUEUES = ["a", "b"];
const HOUR = 3_600_000;

/** Jobs due later and not leased, per queue, counted on the jobs table itself. */
async function delayedRows(admin: postgres.Sql, schema: string): Promise<Record<string, number>> {
  const rows = await admin.unsafe<{ queue: string; n: number }[]>(
    `SELECT queue, count(*)::integer AS n FROM "${schema}".jobs
     WHERE not_before > now() AND (receipt IS NULL OR lease_expires_at <= now()) GROUP BY queue`,
  );
  return Object.fromEntries(QUEUES.map((q) => [q, rows.find((r) => r.queue === q)?.n ?? 0]));
}

async function delayedStats(conn: PostgresPerTest["conn"]): Promise<Record<string, number>> {
  const stats = await conn.broker().stats(QUEUES);
  return Object.fromEntries(stats.map((s) => [s.queue, s.delayed]));
}

/** `n` envelopes due `delayMs()` after one reading of the clock (equal delays, equal due times). */
const envelopes = (queue: string, n: number, delayMs: () => number | undefined) => {
  const now = Date.now();
  return Array.from({ length: n }, () => {
    const delay = delayMs();
    return buildEnvelope({
      name: "x",
      queue,
      notBefore: delay === undefined ? undefined : now + delay,
    });
  });
};

test("delayed counts match the jobs table under concurrent publishes, releases, dead letters and purges", async () => {
  const connections = [pg.conn, await pg.peer()];
  const pick = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)];
  const lane = async (conn: PostgresPerTest["conn"], steps: number) => {
    const broker = conn.broker();
    for (let i = 0; i < steps; i++) {
      const queue = pick(QUEUES);
      const roll = Math.random();
      if (roll < 0.4) {
        // Some due now, some later, at distinct times and at one shared time.
        const shared = HOUR + Math.floor(Math.random() * 1000);
        await broker.publish(
          envelopes(queue, 1 + Math.floor(Math.random() * 10), () => {
            const r = Math.random();
            return r < 0.3 ? undefined : r < 0.6 ? shared : HOUR + Math.random() * HOUR;
          }),
        );
      } else if (roll < 0.75) {
        const got = await broker.fetch([queue], { max: 4, leaseMs: 60_000, consumer: "t" });
        for (const [k, d] of got.entries()) {
          if (k === 0) await broker.deadLetter(d, "test");
          else if (k === 1) await broker.nack(d, { delayMs: HOUR });
          else if (k === 2) await broker.nack(d, { delayMs: 0 });
          else await broker.ack([d]);
        }
      } else if (roll < 0.8 && i < steps / 2) {
        // Purges only in the first half, so later delays are left to count.
        await broker.purge(queue);
      } else {
        await broker.fetch([queue], { max: 2, leaseMs: 60_000, consumer: "t" });
      }
    }
  };
  await Promise.all(connections.flatMap((c) => [lane(c, 80), lane(c, 80)]));
  const expected = await delayedRows(pg.admin, pg.schema);
  expect(Object.values(expected).some((n) => n > 0)).toBe(true);
  expect(await delayedStats(pg.conn)).toEqual(expected);
}, 120_000);

test("a delay that comes due moves its job to pending; sweeping its log row changes no count", async () => {
  const broker = pg.conn.broker();
  await broker.publish([
    ...envelopes("a", 3, () => 300),
    ...envelopes("a", 2, () => HOUR),
    ...envelopes("a", 1, () => undefined),
  ]);
  const [first] = await broker.stats(["a"]);
  expect(first).toMatchObject({ pending: 1, delayed: 5 });
  const due = await eventually(async () => {
    const [s] = await broker.stats(["a"]);
    return s.delayed === 2 ? s : undefined;
  });
  expect(due).toMatchObject({ pending: 4, delayed: 2 });
  await sweepExpired(pg.conn.sql, pg.schema);
  const [{ rows }] = await pg.admin.unsafe<{ rows: number }[]>(
    `SELECT count(*)::integer AS rows FROM "${pg.schema}".queue_delay_deltas`,
  );
  expect(rows).toBe(1);
  expect((await broker.stats(["a"]))[0]).toEqual(due);
});

test("one sweep empties a delay log that grew past a batch while its delays came due", async () => {
  const broker = pg.conn.broker();
  let i = 0;
  // Distinct due times: a log row each, more than one sweep batch of them.
  await broker.publish(envelopes("a", SWEEP_BATCH * 2 + 500, () => 300 + i++));
  await eventually(async () => (await broker.stats(["a"]))[0].delayed === 0, 15_000);
  await sweepExpired(pg.conn.sql, pg.schema);
  const [{ due }] = await pg.admin.unsafe<{ due: number }[]>(
    `SELECT count(*)::integer AS due FROM "${pg.schema}".queue_delay_deltas WHERE not_before <= now()`,
  );
  expect(due).toBe(0);
}, 60_000);

test("a schema migrated from version 14 counts the delayed jobs it already held", async () => {
  const schema = randomSchema("stem_delays_mig");
  const quoted = `"${schema}"`;
  try {
    await migrate(
      pg.admin,
      schema,
      MIGRATIONS.filter((m) => m.version <= 14),
    );
    await pg.admin.unsafe(
      `INSERT INTO ${quoted}.jobs (id, queue, not_before, envelope)
       SELECT 'j' || i, 'a', CASE WHEN i % 2 = 0 THEN now() + interval '1 hour' END, '{}'
       FROM generate_series(1, 9) AS i`,
    );
    expect(await migrate(pg.admin, schema)).toEqual(
      MIGRATIONS.filter((m) => m.version > 14).map((m) => m.version),
    );
    const conn = await openTestConnection(schema, 2);
    try {
      expect((await conn.broker().stats(["a"]))[0]).toMatchObject({ pending: 5, delayed: 4 });
    } finally {
      await conn.close();
    }
  } finally {
    await dropSchema(pg.admin, schema);
  }
});
