/**
 * The Redis result list index (results:updated / results:expiry) keeps up with the write
 * rate: a prune that drops a full batch of expired entries makes the next write prune
 * again, instead of waiting its 5 s interval, so the index never grows without bound.
 */
import { expect, test } from "bun:test";
import Redis from "ioredis";
import type { TaskStatus } from "../../src/core/states.ts";
import { sleep } from "../../src/testing/harness.ts";
import { REDIS_URL, type RedisPerTest, useRedisPerTest } from "./fixtures/redis-server.ts";

let redis: RedisPerTest;
useRedisPerTest("result-index", (opened) => {
  redis = opened;
});

const status = (id: string): TaskStatus => ({
  id,
  name: "t.index",
  queue: "q",
  state: "succeeded",
  attempt: 1,
  createdAt: Date.now(),
  updatedAt: Date.now(),
  meta: {},
});

test("after a full batch of expired entries, each write prunes another batch", async () => {
  const backend = redis.conn.resultBackend();
  await backend.set(
    Array.from({ length: 2500 }, (_, i) => status(`old-${i}`)),
    1,
  );
  await sleep(20);
  const client = new Redis(REDIS_URL);
  try {
    // Three writes within the 5 s interval: each drops up to 1,000 expired entries.
    for (const id of ["live-1", "live-2", "live-3"]) await backend.set([status(id)]);
    expect(await client.zcard(`${redis.prefix}:results:expiry`)).toBe(3);
    expect(await client.zcard(`${redis.prefix}:results:updated`)).toBe(3);
  } finally {
    client.disconnect();
  }
});
