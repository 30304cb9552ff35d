/**
 * The Redis broker's combined writes: statuses stored and envelopes published (producer),
 * or statuses stored and deliveries acked (worker), in one atomic script per queue. A
 * failure while storing must leave nothing published and nothing acked.
 */
import { expect, test } from "bun:test";
import Redis from "ioredis";
import { MemoryResultBackend } from "../../src/adapters/memory/index.ts";
import type { RedisConnection } from "../../src/adapters/redis/index.ts";
import { buildEnvelope, type Envelope } from "../../src/core/envelope.ts";
import type { TaskState, TaskStatus } from "../../src/core/states.ts";
import { Stem } from "../../src/core/stem.ts";
import { REDIS_URL, useRedisPerTest } from "./fixtures/redis-server.ts";

let conn: RedisConnection;
let other: RedisConnection;
useRedisPerTest("combined", (r) => {
  conn = r.conn;
  other = r.peer;
});

function statusOf(envelope: Envelope, state: TaskState, updatedAt = Date.now()): TaskStatus {
  return {
    id: envelope.id,
    name: envelope.name,
    queue: envelope.queue,
    state,
    attempt: envelope.attempt,
    meta: {},
    createdAt: envelope.enqueuedAt,
    updatedAt,
  };
}

/** Makes the results index a plain string, so the next status write fails with WRONGTYPE. */
async function breakResultIndex(): Promise<void> {
  const raw = new Redis(REDIS_URL);
  try {
    await raw.set(conn.keys.resultsByUpdated, "not a sorted set");
  } finally {
    raw.disconnect();
  }
}

test("combined writes are offered only for a result backend on the broker's own connection", () => {
  const broker = conn.broker();
  expect(broker.publishWithStatuses(conn.resultBackend())).toBeFunction();
  expect(broker.ackWithStatuses(conn.resultBackend())).toBeFunction();
  // Another connection (even on the same server and prefix) keeps no order with this one.
  expect(broker.publishWithStatuses(other.resultBackend())).toBeNull();
  expect(broker.ackWithStatuses(other.resultBackend())).toBeNull();
  expect(broker.publishWithStatuses(new MemoryResultBackend())).toBeNull();
  expect(broker.ackWithStatuses(new MemoryResultBackend())).toBeNull();
});

test("publishWithStatuses stores every status and publishes to each queue, reporting duplicates", async () => {
  const broker = conn.broker();
  const backend = conn.resultBackend();
  const publish = broker.publishWithStatuses(backend)!;
  const a = buildEnvelope({ name: "t.a", queue: "qa" });
  const b = buildEnvelope({ name: "t.b", queue: "qb", priority: 7 });
  const later = buildEnvelope({ name: "t.later", queue: "qa", notBefore: Date.now() + 60_000 });
  const result = await publish(
    [a, b, later].map((e) => statusOf(e, "queued")),
    [a, b, later],
  );
  expect(result).toEqual({ accepted: [a.id, b.id, later.id], duplicates: [] });
  for (const e of [a, b, later]) expect((await backend.get(e.id))?.state).toBe("queued");
  expect((await backend.list({ state: "queued" })).map((s) => s.id).sort()).toEqual(
    [a.id, b.id, later.id].sort(),
  );
  const stats = await broker.stats(["qa", "qb"]);
  expect(stats.map((s) => [s.queue, s.pending, s.delayed])).toEqual([
    ["qa", 1, 1],
    ["qb", 1, 0],
  ]);
  const again = await publish([statusOf(a, "queued")], [a]);
  expect(again).toEqual({ accepted: [], duplicates: [a.id] });
});

test("ackWithStatuses stores statuses before acking, keeps statuses of unacked tasks, and ignores lost leases", async () => {
  const broker = conn.broker();
  const backend = conn.resultBackend();
  const [x, y, z] = ["t.x", "t.y", "t.z"].map((name) => buildEnvelope({ name, queue: "work" }));
  await broker.publish([x, y, z]);
  const got = await broker.fetch(["work"], { max: 3, leaseMs: 30_000, consumer: "w1" });
  expect(got).toHaveLength(3);
  const [dx, dy, dz] = got;
  // y's lease is lost to another consumer before the worker acks it.
  await broker.nack(dy, { countAttempt: false });
  const complete = broker.ackWithStatuses(backend)!;
  await complete(
    [statusOf(x, "succeeded"), statusOf(y, "succeeded"), statusOf(z, "running")],
    [dx, dy],
  );
  expect((await backend.get(x.id))?.state).toBe("succeeded");
  expect((await backend.get(y.id))?.state).toBe("succeeded");
  expect((await backend.get(z.id))?.state).toBe("running");
  const [stats] = await broker.stats(["work"]);
  // x acked; y back in the queue (its stale receipt was ignored); z still leased.
  expect(stats.pending).toBe(1);
  expect(stats.inflight).toBe(1);
  const redelivered = await broker.fetch(["work"], { max: 5, leaseMs: 30_000, consumer: "w2" });
  expect(redelivered.map((d) => d.envelope.id)).toEqual([y.id]);
  await complete([], [dz, ...redelivered]);
  const [after] = await broker.stats(["work"]);
  expect(after.pending + after.inflight).toBe(0);
});

test("a status write that fails stops the ack: the delivery stays leased", async () => {
  const broker = conn.broker();
  const envelope = buildEnvelope({ name: "t.x", queue: "work" });
  await broker.publish([envelope]);
  const [delivery] = await broker.fetch(["work"], { max: 1, leaseMs: 30_000, consumer: "w1" });
  await breakResultIndex();
  const complete = broker.ackWithStatuses(conn.resultBackend())!;
  await expect(complete([statusOf(envelope, "succeeded")], [delivery])).rejects.toThrow(
    /WRONGTYPE/,
  );
  const [stats] = await broker.stats(["work"]);
  expect(stats.inflight).toBe(1);
});

test("a status write that fails stops the publish: nothing is queued", async () => {
  const broker = conn.broker();
  const envelope = buildEnvelope({ name: "t.x", queue: "work" });
  await breakResultIndex();
  const publish = broker.publishWithStatuses(conn.resultBackend())!;
  await expect(publish([statusOf(envelope, "queued")], [envelope])).rejects.toThrow(/WRONGTYPE/);
  const [stats] = await broker.stats(["work"]);
  expect(stats.pending + stats.delayed).toBe(0);
  // The id was not recorded either: publishing it again later is accepted.
  const raw = new Redis(REDIS_URL);
  await raw.del(conn.keys.resultsByUpdated);
  raw.disconnect();
  expect((await publish([statusOf(envelope, "queued")], [envelope])).accepted).toEqual([
    envelope.id,
  ]);
});

test("the producer on one Redis connection stores the queued status with the publish", async () => {
  const stem = new Stem({ broker: conn.broker(), backend: conn.resultBackend() });
  const id = await stem.enqueue("t.any", { n: 1 });
  expect((await conn.resultBackend().get(id))?.state).toBe("queued");
  const [stats] = await conn.broker().stats(["default"]);
  expect(stats.pending).toBe(1);
  await breakResultIndex();
  await expect(stem.enqueue("t.any")).rejects.toThrow(/WRONGTYPE/);
  const [after] = await conn.broker().stats(["default"]);
  expect(after.pending).toBe(1);
});
