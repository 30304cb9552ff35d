/** SQLite queue totals folded in now and then (migration 11) instead of counted per insert. */

import { Database } from "bun:sqlite";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Broker, StoreConnection } from "../../src/adapters/contracts.ts";
import {
  ADD_UNFOLDED,
  FOLD_EVERY,
  QUEUE_TOTAL,
} from "../../src/adapters/sqlite/broker/queue-sizes.ts";
import { openDatabase } from "../../src/adapters/sqlite/database.ts";
import { openSqlite } from "../../src/adapters/sqlite/index.ts";
import { MIGRATIONS, migrate } from "../../src/adapters/sqlite/migrations.ts";
import { systemClock } from "../../src/core/clock.ts";
import { buildEnvelope } from "../../src/core/envelope.ts";

let folder: string;
let path: string;
let connection: StoreConnection | undefined;
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), "stem-sqlite-sizes-"));
  path = join(folder, "stem.db");
});
afterEach(async () => {
  await connection?.close();
  connection = undefined;
  rmSync(folder, { recursive: true, force: true });
});

async function open(): Promise<Broker> {
  connection = await openSqlite(`sqlite://${path}`);
  return connection.broker();
}

function raw<T>(sql: string): T {
  const db = new Database(path, { readonly: true });
  try {
    return db.query(sql).get() as T;
  } finally {
    db.close();
  }
}

const foldedSeq = () => raw<{ s: number }>("SELECT folded_seq AS s FROM stem_queue_size_fold").s;

async function totals(broker: Broker): Promise<Record<string, number>> {
  const stats = await broker.stats(["a", "b"]);
  return Object.fromEntries(stats.map((s) => [s.queue, s.pending + s.inflight + s.delayed]));
}

async function drain(broker: Broker, queue: string, count: number): Promise<void> {
  const got = await broker.fetch([queue], { max: count, leaseMs: 60_000, consumer: "t" });
  expect(got.length).toBe(count);
  await broker.ack(got);
}

describe("SQLite queue totals", () => {
  test("jobs published one at a time are counted before and after a fold, and acks of both kinds", async () => {
    const broker = await open();
    for (let i = 0; i < FOLD_EVERY + 10; i++)
      await broker.publish([buildEnvelope({ name: "t", queue: i % 2 === 0 ? "a" : "b" })]);
    // One fold happened once FOLD_EVERY jobs were above the mark; ten are above it again.
    expect(foldedSeq()).toBe(FOLD_EVERY);
    expect(await totals(broker)).toEqual({ a: (FOLD_EVERY + 10) / 2, b: (FOLD_EVERY + 10) / 2 });
    // Acks of folded jobs (the oldest) and of unfolded ones (all of queue b) both count.
    await drain(broker, "a", 100);
    await drain(broker, "b", (FOLD_EVERY + 10) / 2);
    expect(await totals(broker)).toEqual({ a: (FOLD_EVERY + 10) / 2 - 100, b: 0 });
  });

  test("a drained queue that starts again is counted: new jobs get seqs above the fold mark", async () => {
    const broker = await open();
    await broker.publish(
      Array.from({ length: FOLD_EVERY }, () => buildEnvelope({ name: "t", queue: "a" })),
    );
    expect(foldedSeq()).toBe(FOLD_EVERY);
    await drain(broker, "a", FOLD_EVERY);
    expect(raw<{ n: number }>("SELECT count(*) AS n FROM stem_jobs").n).toBe(0);
    // An empty table would hand out rowid 1 again, below the mark, and the job would go uncounted.
    await broker.publish([buildEnvelope({ name: "t", queue: "a" })]);
    expect(raw<{ s: number }>("SELECT max(seq) AS s FROM stem_jobs").s).toBe(FOLD_EVERY + 1);
    expect(await totals(broker)).toEqual({ a: 1, b: 0 });
  });

  test("migrating a file with queued jobs keeps their totals and their order", async () => {
    const db = openDatabase({ kind: "file", path }, { busyTimeoutMs: 5000, clock: systemClock });
    migrate(
      db,
      MIGRATIONS.filter((m) => m.version <= 10),
    );
    db.close();
    const old = new Database(path);
    const insert = old.prepare(
      "INSERT INTO stem_jobs (id, queue, priority, envelope) VALUES (?, ?, 0, ?)",
    );
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const envelope = buildEnvelope({ name: "t", queue: "a" });
      ids.push(envelope.id);
      insert.run(envelope.id, "a", JSON.stringify(envelope));
    }
    old.run("INSERT INTO stem_queues (name) VALUES ('a')");
    old.close();

    const broker = await open();
    expect(
      raw<{ sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'stem_jobs'").sql,
    ).not.toContain("AUTOINCREMENT");
    expect(foldedSeq()).toBe(5);
    await broker.publish([buildEnvelope({ name: "t", queue: "a" })]);
    expect(await totals(broker)).toEqual({ a: 6, b: 0 });
    const got = await broker.fetch(["a"], { max: 10, leaseMs: 60_000, consumer: "t" });
    expect(got.slice(0, 5).map((d) => d.envelope.id)).toEqual(ids);
    await broker.ack(got);
    expect(await totals(broker)).toEqual({ a: 0, b: 0 });
  });
});

test("counting and folding read only the jobs above the mark, by rowid range", async () => {
  await open();
  const db = new Database(path, { readonly: true });
  try {
    for (const sql of [`SELECT ${QUEUE_TOTAL}`, ADD_UNFOLDED]) {
      const plan = db
        .query(`EXPLAIN QUERY PLAN ${sql}`)
        .all({ $queue: "default" } as never)
        .map((row) => (row as { detail: string }).detail)
        .filter((detail) => detail.includes("stem_jobs"));
      expect(plan.length).toBeGreaterThan(0);
      for (const detail of plan) expect(detail).toContain("INTEGER PRIMARY KEY (rowid>?)");
    }
  } finally {
    db.close();
  }
});
