/** The URL's path selects the Redis database; consumer bookkeeping does not pile up. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import Redis from "ioredis";
import { openRedisConnection, type RedisConnection } from "../../src/adapters/redis/index.ts";
import { CONSUMER_GROUP } from "../../src/adapters/redis/keys.ts";
import { pruneConsumersScript } from "../../src/adapters/redis/lua/prune-consumers-10.ts";
import { runScript } from "../../src/adapters/redis/scripts.ts";
import { buildEnvelope } from "../../src/core/envelope.ts";
import {
  REDIS_URL,
  deletePrefix,
  openTestConnection,
  randomPrefix,
  requireRedis,
} from "./fixtures/redis-server.ts";

const prefix = randomPrefix("db");
let conn: RedisConnection;
let db3: Redis;

beforeAll(async () => {
  await requireRedis();
  conn = await openRedisConnection(`${REDIS_URL}/3`, { prefix });
  db3 = new Redis(`${REDIS_URL}/3`);
});
afterAll(async () => {
  if (db3) {
    const keys = await db3.keys(`${prefix}:*`);
    if (keys.length > 0) await db3.unlink(...keys);
    db3.disconnect();
  }
  await conn?.close();
  await deletePrefix(prefix);
});

test("keys are written to the database named in the URL path", async () => {
  await conn.lockStore().acquire("where", "me", 10_000);
  expect(await db3.get(`${prefix}:lock:where`)).toBe("me");
  const db0 = await openTestConnection(prefix);
  try {
    expect(await db0.lockStore().ownerOf("where")).toBeNull();
  } finally {
    await db0.close();
  }
});

test("consumers idle with nothing pending are pruned from the queue's groups", async () => {
  const broker = conn.broker();
  await broker.publish(
    [0, 1, 2].map((i) => buildEnvelope({ name: "t", queue: "pr", args: { i } })),
  );
  const [held] = await broker.fetch(["pr"], { max: 1, leaseMs: 10_000, consumer: "busy" });
  for (const consumer of ["gone-1", "gone-2"]) {
    await broker.ack(await broker.fetch(["pr"], { max: 1, leaseMs: 10_000, consumer }));
  }
  const streams = conn.keys.queue("pr").streams;
  const consumers = async () =>
    ((await db3.xinfo("CONSUMERS", streams[0], CONSUMER_GROUP)) as string[][])
      .map((c) => c[1])
      .sort();
  expect(await consumers()).toEqual(["busy", "gone-1", "gone-2"]);
  await Bun.sleep(20);
  const removed = await runScript<number>(conn.client, pruneConsumersScript, streams, [
    CONSUMER_GROUP,
    10,
  ]);
  // "busy" still holds a lease, so it stays.
  expect(removed).toBe(2);
  expect(await consumers()).toEqual(["busy"]);
  await broker.ack([held]);
});
