/**
 * Purging a 200,000-task queue on Redis never blocks the server for long: it runs as many
 * short script calls, so a PING loop on another connection keeps being answered. The
 * slowest PING must be a small fraction of the whole purge (a single-call purge blocks
 * Redis for all of it); the comparison is relative, so a busy machine does not fail it.
 * In-flight tasks survive the purge; the counts are right before and after.
 */
import { afterEach, expect, test } from "bun:test";
import Redis from "ioredis";
import type { RedisConnection } from "../../src/adapters/redis/index.ts";
import { fillQueue } from "../../src/testing/fill-queue.ts";
import {
  REDIS_URL,
  deletePrefix,
  openTestConnection,
  randomPrefix,
  requireRedis,
} from "./fixtures/redis-server.ts";

const TASKS = 200_000;
let prefix: string | undefined;
let conn: RedisConnection | undefined;
afterEach(async () => {
  await conn?.close();
  if (prefix) await deletePrefix(prefix);
  conn = prefix = undefined;
});

test(`purging a queue of ${TASKS} tasks answers other clients throughout`, async () => {
  await requireRedis();
  prefix = randomPrefix("large");
  conn = await openTestConnection(prefix);
  const broker = conn.broker();
  await fillQueue(broker, "big", TASKS, { delayEvery: 10 });
  const leased = await broker.fetch(["big"], { max: 5, leaseMs: 600_000, consumer: "test" });
  expect(leased).toHaveLength(5);
  expect(await broker.stats(["big"])).toEqual([
    { queue: "big", pending: TASKS - TASKS / 10 - 5, inflight: 5, delayed: TASKS / 10, dead: 0 },
  ]);

  const pinger = new Redis(REDIS_URL);
  let running = true;
  let slowest = 0;
  let pings = 0;
  const loop = (async () => {
    while (running) {
      const start = performance.now();
      await pinger.ping();
      slowest = Math.max(slowest, performance.now() - start);
      pings++;
    }
  })();
  const start = performance.now();
  let purged: number;
  try {
    purged = await broker.purge("big");
  } finally {
    running = false;
    await loop;
    pinger.disconnect();
  }
  const purgeMs = performance.now() - start;
  console.log(
    `purged ${purged} in ${purgeMs.toFixed(0)} ms; ${pings} PINGs answered meanwhile, slowest ${slowest.toFixed(1)} ms`,
  );
  expect(purged).toBe(TASKS - 5);
  expect(slowest * 10).toBeLessThan(purgeMs);
  expect(pings).toBeGreaterThan(20);
  expect(await broker.stats(["big"])).toEqual([
    { queue: "big", pending: 0, inflight: 5, delayed: 0, dead: 0 },
  ]);
  // The leased tasks are untouched: their acks still work.
  await broker.ack(leased);
  expect((await broker.stats(["big"]))[0].inflight).toBe(0);
}, 180_000);
