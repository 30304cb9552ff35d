/**
 * Task events on Redis go out only while some process subscribes: a subscriber marks its
 * presence (a key with a ttl) before its subscription goes live, and publishers check it
 * after storing what the events describe. A raw Redis subscriber (which does not mark
 * presence) sees what is published.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import Redis from "ioredis";
import { LISTENER_TTL_MS } from "../../src/adapters/redis/task-events.ts";
import { defineTask, StemClient, signals, type TaskEvent } from "../../src/index.ts";
import { deletePrefix, REDIS_URL, randomPrefix, requireRedis } from "./fixtures/redis-server.ts";

const noop = defineTask({ name: "presence.noop", run: () => null });
let prefix: string;
let client: StemClient;
let raw: Redis;
let seen: string[];

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
