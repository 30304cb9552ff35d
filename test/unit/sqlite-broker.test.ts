/** SQLite broker behaviour beyond the shared contract: undecodable rows, batches, waiting. */

import { Database } from "bun:sqlite";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Broker, StoreConnection } from "../../src/adapters/contracts.ts";
import { openSqlite } from "../../src/adapters/sqlite/index.ts";
import { WATCHED_POLL_MS } from "../../src/adapters/sqlite/write-watcher.ts";
import { buildEnvelope } from "../../src/core/envelope.ts";

let folder: string;
let path: string;
let connection: StoreConnection;
let broker: Broker;
beforeEach(async () => {
  folder = mkdtempSync(join(tmpdir(), "stem-sqlite-broker-"));
  path = join(folder, "stem.db");
  connection = await openSqlite(`sqlite://${path}`);
  broker = connection.broker();
});
afterEach(async () => {
  await connection.close();
  rmSync(folder, { recursive: true, force: true });
});

/** Writes a job row straight into the file, as a buggy or foreign producer might. */
function insertRaw(id: string, queue: string, priority: number, text: string): void {
  const db = new Database(path);
  db.run("INSERT INTO stem_jobs (id, queue, priority, envelope) VALUES (?, ?, ?, ?)", [
    id,
    queue,
    priority,
    text,
  ]);
  db.close();
}

const fetchAll = (queue: string, max = 10) =>
  broker.fetch([queue], { max, leaseMs: 5000, consumer: "test" });

describe("SQLite broker", () => {
  test("rows that are not valid envelopes are dead-lettered as undecodable and skipped", async () => {
    const good = buildEnvelope({ name: "t.good", queue: "q" });
    await broker.publish([good]);
    insertRaw("bad-json", "q", 9, "{not json");
    insertRaw("bad-shape", "q", 9, JSON.stringify({ id: "bad-shape", queue: "q", args: {} }));
    insertRaw("bad-array", "q", 9, "[1, 2, 3]");

    // Only one wanted, but three undecodable rows come first: the good one is still delivered.
    const got = await fetchAll("q", 1);
    expect(got.map((d) => d.envelope.id)).toEqual([good.id]);

    const dead = await broker.listDeadLetters({ queue: "q" });
    expect(dead.map((d) => d.envelope.id).sort()).toEqual(["bad-array", "bad-json", "bad-shape"]);
    for (const entry of dead) {
      expect(entry.reason).toBe("undecodable");
      expect(entry.queue).toBe("q");
      expect(String(entry.meta.error)).toContain("undecodable message");
    }
    const json = await broker.getDeadLetter("bad-json");
    expect(json?.meta.raw).toBe("{not json");
    expect((await broker.getDeadLetter("bad-shape"))?.meta.error).toContain('"name"');
    const [stats] = await broker.stats(["q"]);
    expect(stats).toEqual({ queue: "q", pending: 0, inflight: 1, delayed: 0, dead: 3 });
    await broker.ack(got);
  });

  test("a batch with a repeated id stores the rest and reports the repeat", async () => {
    const a = buildEnvelope({ name: "t.a", queue: "q" });
    const b = buildEnvelope({ name: "t.b", queue: "q" });
    const result = await broker.publish([a, b, { ...a, args: { again: true } }]);
    expect(result).toEqual({ accepted: [a.id, b.id], duplicates: [a.id] });
    expect((await fetchAll("q")).map((d) => d.envelope.id)).toEqual([a.id, b.id]);
  });

  test("queues are served in the order given, up to max in total", async () => {
    await broker.publish([
      buildEnvelope({ name: "t.1", queue: "low" }),
      buildEnvelope({ name: "t.2", queue: "high" }),
      buildEnvelope({ name: "t.3", queue: "high" }),
    ]);
    const got = await broker.fetch(["high", "low"], { max: 3, leaseMs: 5000, consumer: "test" });
    expect(got.map((d) => d.queue)).toEqual(["high", "high", "low"]);
    expect(
      (await broker.fetch(["high", "low"], { max: 0, leaseMs: 5000, consumer: "test" })).length,
    ).toBe(0);
  });

  test("the consumer and lease are recorded on the row", async () => {
    const env = buildEnvelope({ name: "t.lease", queue: "q" });
    await broker.publish([env]);
    const [d] = await broker.fetch(["q"], { max: 1, leaseMs: 5000, consumer: "worker-7" });
    const db = new Database(path, { readonly: true });
    const row = db
      .query<{ consumer: string; receipt: string; lease_expires_at: number }, [string]>(
        "SELECT consumer, receipt, lease_expires_at FROM stem_jobs WHERE id = ?",
      )
      .get(env.id);
    db.close();
    expect(row).toEqual({
      consumer: "worker-7",
      receipt: d.receipt,
      lease_expires_at: d.leaseExpiresAt,
    });
  });

  test("aborting a waiting fetch ends it early with nothing", async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    const got = await broker.fetch(["empty"], {
      max: 1,
      leaseMs: 5000,
      consumer: "test",
      waitMs: 10_000,
      signal: controller.signal,
    });
    expect(got).toEqual([]);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  test("closing the connection ends a waiting fetch", async () => {
    const waiting = broker.fetch(["empty"], {
      max: 1,
      leaseMs: 5000,
      consumer: "test",
      waitMs: 10_000,
    });
    await Bun.sleep(50);
    const started = Date.now();
    await connection.close();
    expect(await waiting).toEqual([]);
    expect(Date.now() - started).toBeLessThan(3000);
    connection = await openSqlite(`sqlite://${path}`);
  });

  test("a waiting fetch wakes when a delayed job comes due, not at its next safety-net poll", async () => {
    const delayMs = 300;
    await broker.publish([
      buildEnvelope({ name: "t.later", queue: "due", notBefore: Date.now() + delayMs }),
    ]);
    const started = Date.now();
    const got = await broker.fetch(["due"], {
      max: 1,
      leaseMs: 5000,
      consumer: "test",
      waitMs: WATCHED_POLL_MS - 200,
    });
    expect(got.map((d) => d.envelope.name)).toEqual(["t.later"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(delayMs - 20);
    // Woken by the due time, long before the safety-net poll.
    expect(Date.now() - started).toBeLessThan(delayMs + 1000);
  });

  test("a waiting fetch wakes when a lease runs out", async () => {
    await broker.publish([buildEnvelope({ name: "t.lost", queue: "lease" })]);
    const first = await broker.fetch(["lease"], { max: 1, leaseMs: 300, consumer: "gone" });
    expect(first.length).toBe(1);
    const started = Date.now();
    const again = await broker.fetch(["lease"], {
      max: 1,
      leaseMs: 5000,
      consumer: "test",
      waitMs: WATCHED_POLL_MS - 200,
    });
    expect(again.map((d) => d.afterLeaseLoss)).toEqual([true]);
    // Woken by the lease's end (300 ms), long before the safety-net poll.
    expect(Date.now() - started).toBeLessThan(300 + 1000);
  });
});
