/**
 * The Redis result list index (results:updated / results:expiry) keeps up with the write
 * rate: a prune that drops a full batch of expired entries makes the next write prune
 * again, instead of waiting its 5 s interval, so the index never grows without bound.
 */
import { afterEach, expect, test } from "bun:test";
import Redis from "ioredis";
import type { RedisConnection } from "../../src/adapters/redis/index.ts";
import type { TaskStatus } from "../../src/core/states.ts";
import { sleep } from "../../src/testing/harness.ts";
import {
  REDIS_URL,
  deletePrefix,
  openTestConnection,
  randomPrefix,
  requireRedis,
} from "./fixtures/redis-server.ts";

let connection: RedisConnection | undefined;
let prefix = "";
afterEach(async () => {
  await connection?.close();
  await deletePrefix(prefix);
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
  await requireRedis();
  prefix = randomPrefix("result-index");
  connection = await openTestConnection(prefix);
  const backend = connection.resultBackend();
  const expired = Array.from({ length: 2500 }, (_, i) => status(`old-${i}`));
  await backend.set(expired, 1);
  await sleep(20);
  const redis = new Redis(REDIS_URL);
  try {
    const indexed = () => redis.zcard(`${prefix}:results:expiry`);
    // Three writes within the 5 s interval: each drops up to 1,000 expired entries.
    for (const id of ["live-1", "live-2", "live-3"]) await backend.set([status(id)]);
    expect(await indexed()).toBe(3);
    expect(await redis.zcard(`${prefix}:results:updated`)).toBe(3);
  } finally {
    redis.disconnect();
  }
});
