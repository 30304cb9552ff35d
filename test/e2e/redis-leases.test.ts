/**
 * Leases on the Redis broker: each envelope's own visibility timeout, extendLease moving
 * the deadline (without re-queueing the task, the bug the Dart broker had), and long
 * polls that wake for delayed tasks and on abort.
 */
import { expect, test } from "bun:test";
import type { RedisConnection } from "../../src/adapters/redis/index.ts";
import { buildEnvelope } from "../../src/core/envelope.ts";
import { useRedisPerTest } from "./fixtures/redis-server.ts";

let conn: RedisConnection;
let peer: RedisConnection;
useRedisPerTest("leases", (r) => {
  conn = r.conn;
  peer = r.peer;
});

test("each envelope's visibility timeout sets its own lease within one fetch", async () => {
  const broker = conn.broker();
  const short = buildEnvelope({ name: "t.short", queue: "vis", visibilityTimeoutMs: 300 });
  const long = buildEnvelope({ name: "t.long", queue: "vis" });
  await broker.publish([short, long]);
  const got = await broker.fetch(["vis"], { max: 2, leaseMs: 20_000, consumer: "w1" });
  expect(got.map((d) => d.envelope.id)).toEqual([short.id, long.id]);
  const now = Date.now();
  expect(got[0].leaseExpiresAt - now).toBeLessThanOrEqual(300);
  expect(got[1].leaseExpiresAt - now).toBeGreaterThan(15_000);

  // Another worker gets only the short-lease task back, as its second attempt.
  const again = await peer
    .broker()
    .fetch(["vis"], { max: 5, leaseMs: 20_000, consumer: "w2", waitMs: 2000 });
  expect(again.map((d) => d.envelope.id)).toEqual([short.id]);
  expect(again[0].envelope.attempt).toBe(1);
  // Its redelivery gets the envelope's lease again, not the fetch default.
  expect(again[0].leaseExpiresAt - Date.now()).toBeLessThanOrEqual(300);
  await peer.broker().ack(again);
  // The long-lease task stays with its first consumer.
  expect(
    await peer.broker().fetch(["vis"], { max: 5, leaseMs: 20_000, consumer: "w2", waitMs: 400 }),
  ).toEqual([]);
  const [stats] = await broker.stats(["vis"]);
  expect(stats.inflight).toBe(1);
  expect(await broker.extendLease(got[0], 1000)).toBe(false);
});

test("extendLease keeps a task from redelivery well past its original lease, without re-queueing it", async () => {
  const broker = conn.broker();
  const other = peer.broker();
  // The lease is ten times the poll, so a loaded machine's slow iteration cannot lose it.
  const env = buildEnvelope({ name: "t.long-running", queue: "ext", visibilityTimeoutMs: 1000 });
  await broker.publish([env]);
  const [d] = await broker.fetch(["ext"], { max: 1, leaseMs: 1000, consumer: "w1" });
  const until = Date.now() + 3000; // three times the original lease
  while (Date.now() < until) {
    expect(await broker.extendLease(d, 1000)).toBe(true);
    expect(
      await other.fetch(["ext"], { max: 1, leaseMs: 1000, consumer: "w2", waitMs: 100 }),
    ).toEqual([]);
    const [stats] = await broker.stats(["ext"]);
    expect(stats).toMatchObject({ pending: 0, inflight: 1, delayed: 0 });
  }
  // Once the holder stops extending, the lease runs out and the task comes back, once.
  const [again] = await other.fetch(["ext"], {
    max: 1,
    leaseMs: 5000,
    consumer: "w2",
    waitMs: 3000,
  });
  expect(again.envelope.id).toBe(env.id);
  expect(again.envelope.attempt).toBe(1);
  expect(await broker.extendLease(d, 1000)).toBe(false);
  await broker.ack([d]); // the lost lease's ack changes nothing
  const [stats] = await broker.stats(["ext"]);
  expect(stats.inflight).toBe(1);
  await other.ack([again]);
  const [done] = await broker.stats(["ext"]);
  expect(done).toMatchObject({ pending: 0, inflight: 0, delayed: 0 });
});

test("every lost lease counts one more attempt", async () => {
  const broker = conn.broker();
  await broker.publish([
    buildEnvelope({ name: "t.flaky", queue: "att", attempt: 2, visibilityTimeoutMs: 150 }),
  ]);
  const attempts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const [d] = await broker.fetch(["att"], {
      max: 1,
      leaseMs: 150,
      consumer: `w${i}`,
      waitMs: 2000,
    });
    attempts.push(d.envelope.attempt);
  }
  expect(attempts).toEqual([2, 3, 4]);
});

test("a waiting fetch wakes for a delayed task published while it waits", async () => {
  const started = Date.now();
  const pending = conn
    .broker()
    .fetch(["later"], { max: 1, leaseMs: 5000, consumer: "w1", waitMs: 8000 });
  await Bun.sleep(200);
  const notBefore = Date.now() + 400;
  await peer.broker().publish([buildEnvelope({ name: "t.delayed", queue: "later", notBefore })]);
  const [d] = await pending;
  expect(d.envelope.name).toBe("t.delayed");
  expect(Date.now()).toBeGreaterThanOrEqual(notBefore - 5);
  expect(Date.now() - started).toBeLessThan(3000);
});

test("an aborted fetch returns at once, and the broker keeps serving", async () => {
  const broker = conn.broker();
  const controller = new AbortController();
  const started = Date.now();
  const pending = broker.fetch(["abort"], {
    max: 1,
    leaseMs: 5000,
    consumer: "w1",
    waitMs: 10_000,
    signal: controller.signal,
  });
  await Bun.sleep(150);
  controller.abort();
  expect(await pending).toEqual([]);
  expect(Date.now() - started).toBeLessThan(1500);
  const env = buildEnvelope({ name: "t.after-abort", queue: "abort" });
  const next = broker.fetch(["abort"], { max: 1, leaseMs: 5000, consumer: "w1", waitMs: 3000 });
  await Bun.sleep(100);
  await peer.broker().publish([env]);
  const [d] = await next;
  expect(d.envelope.id).toBe(env.id);
});

test("nack with a delay holds the task in the delayed set until due", async () => {
  const broker = conn.broker();
  await broker.publish([buildEnvelope({ name: "t.retry", queue: "nd" })]);
  const [d] = await broker.fetch(["nd"], { max: 1, leaseMs: 5000, consumer: "w1" });
  await broker.nack(d, { delayMs: 400 });
  const [held] = await broker.stats(["nd"]);
  expect(held).toMatchObject({ pending: 0, inflight: 0, delayed: 1 });
  const [again] = await peer
    .broker()
    .fetch(["nd"], { max: 1, leaseMs: 5000, consumer: "w2", waitMs: 3000 });
  expect(again.envelope.attempt).toBe(1);
  expect(again.envelope.notBefore).toBeGreaterThan(d.envelope.enqueuedAt);
});
