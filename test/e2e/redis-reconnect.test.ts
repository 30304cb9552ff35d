/**
 * A dropped connection (killed by the server) is re-established and the broker keeps
 * working: a fetch in progress retries and still gets the task, publish and ack work
 * afterwards, and the outage is logged once, not once per retry.
 */
import { afterEach, beforeAll, beforeEach, expect, test } from "bun:test";
import Redis from "ioredis";
import type { RedisConnection } from "../../src/adapters/redis/index.ts";
import { buildEnvelope } from "../../src/core/envelope.ts";
import { captureLogs } from "../fixtures/capture-logs.ts";
import {
  REDIS_URL,
  deletePrefix,
  openTestConnection,
  randomPrefix,
  requireRedis,
} from "./fixtures/redis-server.ts";

let prefix: string;
let conn: RedisConnection;
let admin: Redis;
const captured = captureLogs();

beforeAll(requireRedis);
beforeEach(async () => {
  prefix = randomPrefix("reconnect");
  conn = await openTestConnection(prefix);
  admin = new Redis(REDIS_URL);
});
afterEach(async () => {
  await conn.close();
  admin.disconnect();
  await deletePrefix(prefix);
});

/** Kills, server side, every client connection this test's RedisConnection opened. */
async function killConnections(): Promise<number> {
  const list = (await admin.client("LIST")) as string;
  const ids = list
    .split("\n")
    .filter((line) => line.includes(` name=stem:${prefix}:`))
    .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1])
    .filter((id): id is string => id !== undefined);
  for (const id of ids) await admin.client("KILL", "ID", id);
  return ids.length;
}

const warnings = () =>
  captured.records.filter((l) => l.type === "warn").map((l) => l.args.join(" "));

test("a fetch waiting while its connections are killed recovers and gets the task", async () => {
  const broker = conn.broker();
  const pending = broker.fetch(["rc"], { max: 1, leaseMs: 5000, consumer: "w1", waitMs: 5000 });
  await Bun.sleep(200);
  expect(await killConnections()).toBe(2); // command + blocking
  await Bun.sleep(300);
  const producer = await openTestConnection(prefix);
  try {
    const env = buildEnvelope({ name: "t.after-kill", queue: "rc" });
    await producer.broker().publish([env]);
    const [d] = await pending;
    expect(d.envelope.id).toBe(env.id);
    await broker.ack([d]);
    const [stats] = await broker.stats(["rc"]);
    expect(stats).toMatchObject({ pending: 0, inflight: 0 });
  } finally {
    await producer.close();
  }
  const lost = warnings().filter((w) => w.includes("connection lost"));
  expect(lost.length).toBe(1);
  expect(lost[0]).toContain(`redis ${REDIS_URL}`);
}, 15_000);

test("publish, fetch and ack work right after the command connection is killed", async () => {
  const broker = conn.broker();
  await conn.ping();
  expect(await killConnections()).toBe(1);
  const env = buildEnvelope({ name: "t.reconnect", queue: "rc2" });
  expect((await broker.publish([env])).accepted).toEqual([env.id]);
  const [d] = await broker.fetch(["rc2"], { max: 1, leaseMs: 5000, consumer: "w1", waitMs: 2000 });
  expect(d.envelope.id).toBe(env.id);
  await killConnections();
  await broker.ack([d]);
  const [stats] = await broker.stats(["rc2"]);
  expect(stats).toMatchObject({ pending: 0, inflight: 0 });
  await conn.ping();
  // Two separate outages, each logged once.
  expect(warnings().filter((w) => w.includes("connection lost")).length).toBe(2);
}, 15_000);

test("control bus subscriptions survive a killed subscriber connection", async () => {
  const bus = conn.controlBus();
  const got: unknown[] = [];
  const stop = await bus.subscribe("ctl", (m) => got.push(m));
  await killConnections();
  const sender = await openTestConnection(prefix);
  try {
    // The subscriber re-subscribes on reconnect; publish until a message gets through.
    const deadline = Date.now() + 5000;
    while (got.length === 0 && Date.now() < deadline) {
      await sender.controlBus().publish("ctl", { type: "ping" });
      await Bun.sleep(100);
    }
    expect(got[0]).toEqual({ type: "ping" });
  } finally {
    await stop();
    await sender.close();
  }
}, 15_000);
