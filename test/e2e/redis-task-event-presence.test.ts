/**
 * Task events on Redis go out only while some process subscribes: a subscriber marks its
 * presence (a key with a ttl) before its subscription goes live, and publishers check it
 * after storing what the events describe. A raw Redis subscriber (which does not mark
 * presence) sees what is published.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { openRedisConnection, type RedisConnection } from "../../src/adapters/redis/index.ts";
import { LISTENER_TTL_MS, RedisTaskEvents } from "../../src/adapters/redis/task-events.ts";
import { defineTask, StemClient, signals, type TaskEvent } from "../../src/index.ts";
import { injectFaults } from "../../src/testing/faults.ts";
import { eventually } from "../../src/testing/harness.ts";
import { captureLogs } from "../fixtures/capture-logs.ts";
import { deletePrefix, REDIS_URL, randomPrefix, requireRedis } from "./fixtures/redis-server.ts";

const noop = defineTask({ name: "presence.noop", run: () => null });
let prefix: string;
let client: StemClient;
let raw: Redis;
let seen: string[];
const logs = captureLogs();

beforeEach(async () => {
  await requireRedis();
  prefix = randomPrefix("presence");
  client = await StemClient.fromUrl(`${REDIS_URL}?prefix=${prefix}`, { tasks: [noop] });
  seen = [];
  raw = new Redis(REDIS_URL);
  raw.on("message", (_channel: string, text: string) => seen.push(text));
  await raw.subscribe(`${prefix}:control:stem.task-events`);
});

afterEach(async () => {
  raw.disconnect();
  await client.close();
  await deletePrefix(prefix);
});

/** Waits until everything published before now has reached the raw subscriber. */
async function drained(): Promise<string[]> {
  const marker = JSON.stringify({ marker: Math.random() });
  const publisher = new Redis(REDIS_URL);
  await publisher.publish(`${prefix}:control:stem.task-events`, marker);
  publisher.disconnect();
  while (!seen.includes(marker)) await Bun.sleep(5);
  return seen.filter((text) => text !== marker);
}

async function runTasks(n: number): Promise<string[]> {
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const disconnect = signals.taskSucceeded.connect(() => {
    if (++done === n) finish();
  });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await client.enqueue("presence.noop", {}));
  const worker = client.createWorker({ concurrency: 4 });
  await worker.start();
  await finished;
  await worker.shutdown();
  disconnect();
  await client.stem.flushEvents();
  return ids;
}

test("with nobody subscribed, neither the producer nor the worker sends task events", async () => {
  await runTasks(20);
  expect(await drained()).toEqual([]);
});

test("a subscription makes producer and worker send every event, and its presence outlives it by the ttl", async () => {
  const events: TaskEvent[] = [];
  const stream = client.events();
  const reading = (async () => {
    for await (const event of stream) {
      events.push(event);
      if (events.filter((e) => e.state === "succeeded").length === 5) break;
    }
  })();
  await stream.ready;
  const ids = await runTasks(5);
  await reading;
  for (const id of ids)
    expect(events.filter((e) => e.taskId === id).map((e) => e.state)).toEqual(
      expect.arrayContaining(["queued", "started", "succeeded"]),
    );
  expect((await drained()).length).toBeGreaterThan(0);
  const checker = new Redis(REDIS_URL);
  const ttl = await checker.pttl(`${prefix}:task-event-listeners`);
  checker.disconnect();
  expect(ttl).toBeGreaterThan(0);
  expect(ttl).toBeLessThanOrEqual(LISTENER_TTL_MS);
});

describe("the presence key", () => {
  const TTL = 300;
  let connection: RedisConnection;
  let redis: Redis;
  const key = () => `${prefix}:task-event-listeners`;
  beforeEach(async () => {
    connection = await openRedisConnection(`${REDIS_URL}?prefix=${prefix}`);
    redis = new Redis(REDIS_URL);
  });
  afterEach(async () => {
    redis.disconnect();
    await connection.close();
  });

  test("lives while its subscriber does, renewed past its ttl, and expires after", async () => {
    const events = new RedisTaskEvents(redis, connection.controlBus(), key(), TTL);
    expect(await events.anyoneListening()).toBe(false);
    const stop = await events.subscribe(() => {});
    await Bun.sleep(TTL * 3);
    expect(await events.anyoneListening()).toBe(true);
    await stop();
    await Bun.sleep(TTL + 100);
    expect(await events.anyoneListening()).toBe(false);
  });

  test("closing stops the renewals of subscriptions still open", async () => {
    const counted = injectFaults(redis);
    const events = new RedisTaskEvents(counted.store, connection.controlBus(), key(), TTL);
    await events.subscribe(() => {});
    await eventually(() => counted.calls("set") >= 2, 5000, "a renewal");
    await events.close();
    const calls = counted.calls("set");
    await Bun.sleep(TTL);
    expect(counted.calls("set")).toBe(calls);
  });

  test("a renewal that fails is said once and the next one restores the key", async () => {
    const faulty = injectFaults(redis, { method: "set", nth: 2, times: 4 });
    const events = new RedisTaskEvents(faulty.store, connection.controlBus(), key(), TTL);
    const stop = await events.subscribe(() => {});
    await eventually(
      () => faulty.injected() === 4,
      5000,
      "four failed renewals (the key outlives three)",
    );
    expect(await events.anyoneListening()).toBe(false);
    await eventually(() => events.anyoneListening(), 5000, "the key restored");
    await stop();
    const warnings = logs.records.filter((r) => String(r.args[0]).includes("presence failed"));
    expect(warnings.length).toBe(1);
  });
});
