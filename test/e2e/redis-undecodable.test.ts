/**
 * A stream entry that is not an envelope (written by hand, by another tool, or corrupted)
 * never blocks a queue: the fetch dead-letters it with reason "undecodable" and goes on.
 */
import { expect, test } from "bun:test";
import type { RedisConnection } from "../../src/adapters/redis/index.ts";
import { buildEnvelope } from "../../src/core/envelope.ts";
import { useRedisPerTest } from "./fixtures/redis-server.ts";

let conn: RedisConnection;
let peer: RedisConnection;
useRedisPerTest("undecodable", (r) => {
  conn = r.conn;
  peer = r.peer;
});

test("garbage entries are dead-lettered as undecodable and the valid task is still delivered", async () => {
  const broker = conn.broker();
  const queue = "mixed";
  const streams = conn.keys.queue(queue).streams;
  // Band 7 has never been published to: the stream exists without the consumer group.
  await conn.client.xadd(streams[7], "*", "foo", "bar");
  await broker.publish([buildEnvelope({ name: "t.first", queue })]);
  await conn.client.xadd(streams[0], "*", "envelope", "{not json");
  await conn.client.xadd(streams[0], "*", "envelope", JSON.stringify({ id: "x1", queue }));
  const valid = buildEnvelope({ name: "t.second", queue, args: { n: 2 } });
  await broker.publish([valid]);

  const got = await broker.fetch([queue], { max: 10, leaseMs: 5000, consumer: "w1" });
  expect(got.map((d) => d.envelope.name)).toEqual(["t.first", "t.second"]);
  expect(got[1].envelope.args).toEqual({ n: 2 });

  const dead = await broker.listDeadLetters({ queue });
  expect(dead.length).toBe(3);
  expect(dead.every((d) => d.reason === "undecodable" && d.queue === queue)).toBe(true);
  const errors = dead.map((d) => String(d.meta.error)).sort();
  expect(errors).toEqual([
    // the JSON parser's own wording (for "{not json") varies by runtime
    expect.stringMatching(/^undecodable message: .*JSON/i),
    'undecodable message: field "name" is missing or invalid',
    'undecodable message: stream entry has no "envelope" field',
  ]);
  const raw = dead.find((d) => String(d.meta.error).includes('no "envelope"'));
  expect(raw?.meta.fields).toEqual({ foo: "bar" });
  expect(await broker.getDeadLetter(raw!.envelope.id)).toEqual(raw!);

  const [stats] = await broker.stats([queue]);
  expect(stats).toEqual({ queue, pending: 0, inflight: 2, delayed: 0, dead: 3 });
  await broker.ack(got);
  const [after] = await broker.stats([queue]);
  expect(after).toMatchObject({ pending: 0, inflight: 0 });
});

test("a fetch of one skips past undecodable entries to the next valid task", async () => {
  const broker = conn.broker();
  const queue = "skip";
  const stream = conn.keys.queue(queue).streams[0];
  await broker.publish([buildEnvelope({ name: "t.warmup", queue })]);
  const [warm] = await broker.fetch([queue], { max: 1, leaseMs: 5000, consumer: "w1" });
  await broker.ack([warm]);
  for (let i = 0; i < 3; i++) await conn.client.xadd(stream, "*", "envelope", `garbage ${i}`);
  const env = buildEnvelope({ name: "t.after-garbage", queue });
  await broker.publish([env]);
  const [d] = await broker.fetch([queue], { max: 1, leaseMs: 5000, consumer: "w1", waitMs: 500 });
  expect(d.envelope.id).toBe(env.id);
  expect((await broker.listDeadLetters({ queue })).length).toBe(3);
});

test("a waiting fetch dead-letters garbage that arrives while it waits and keeps waiting", async () => {
  const broker = conn.broker();
  const queue = "late";
  const pending = broker.fetch([queue], { max: 1, leaseMs: 5000, consumer: "w1", waitMs: 3000 });
  await Bun.sleep(150);
  await peer.client.xadd(conn.keys.queue(queue).streams[3], "*", "envelope", "[]");
  await Bun.sleep(150);
  const env = buildEnvelope({ name: "t.late", queue });
  await peer.broker().publish([env]);
  const [d] = await pending;
  expect(d.envelope.id).toBe(env.id);
  const [dead] = await broker.listDeadLetters({ queue });
  expect(dead.reason).toBe("undecodable");
  expect(dead.meta.error).toContain("not a JSON object");
});

test("malformed delayed data is dead-lettered when due instead of wedging the queue", async () => {
  const broker = conn.broker();
  const queue = "delayed-garbage";
  const q = conn.keys.queue(queue);
  await conn.client.zadd(q.delayed, Date.now() - 1, "odd-id");
  await conn.client.hset(q.delayedData, "odd-id", "no header here");
  const env = buildEnvelope({ name: "t.fine", queue });
  await broker.publish([env]);
  const got = await broker.fetch([queue], { max: 5, leaseMs: 5000, consumer: "w1" });
  expect(got.map((d) => d.envelope.id)).toEqual([env.id]);
  const [dead] = await broker.listDeadLetters({ queue });
  expect(dead.reason).toBe("undecodable");
  expect(dead.meta.fields).toMatchObject({ id: "odd-id", envelope: "no header here" });
});
