/**
 * A real outage (the server unreachable for a while, reconnects refused) as a worker
 * sees it: its fetch loop neither crashes nor logs per retry; one warning per outage,
 * and work resumes once the server is back.
 */
import { afterEach, beforeAll, beforeEach, expect, test } from "bun:test";
import { openRedisConnection, type RedisConnection } from "../../src/adapters/redis/index.ts";
import { buildEnvelope } from "../../src/core/envelope.ts";
import { captureLogs } from "../fixtures/capture-logs.ts";
import { RedisProxy } from "./fixtures/redis-proxy.ts";
import {
  deletePrefix,
  openTestConnection,
  randomPrefix,
  requireRedis,
} from "./fixtures/redis-server.ts";

let prefix: string;
let proxy: RedisProxy;
let conn: RedisConnection;
const captured = captureLogs();

beforeAll(requireRedis);
beforeEach(async () => {
  prefix = randomPrefix("outage");
  proxy = new RedisProxy();
  proxy.start();
  conn = await openRedisConnection(proxy.url, { prefix });
});
afterEach(async () => {
  await conn.close();
  proxy.stop();
  await deletePrefix(prefix);
});

test("a worker loop rides out an outage with one warning and picks up work after it", async () => {
  const broker = conn.broker();
  const received: string[] = [];
  const failures: unknown[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const got = await broker.fetch(["out"], {
          max: 5,
          leaseMs: 5000,
          consumer: "w1",
          waitMs: 200,
        });
        received.push(...got.map((d) => d.envelope.id));
        if (got.length > 0) await broker.ack(got);
      } catch (error) {
        failures.push(error);
        await Bun.sleep(100);
      }
    }
  })();

  await Bun.sleep(300);
  proxy.stop(); // server gone: every reconnect attempt is refused
  await Bun.sleep(1500);
  proxy.start();

  const producer = await openTestConnection(prefix);
  try {
    const env = buildEnvelope({ name: "t.after-outage", queue: "out" });
    await producer.broker().publish([env]);
    const deadline = Date.now() + 8000;
    while (!received.includes(env.id) && Date.now() < deadline) await Bun.sleep(50);
    expect(received).toContain(env.id);
  } finally {
    running = false;
    await loop;
    await producer.close();
  }
  expect(failures).toEqual([]);
  const warnings = captured.records.filter((l) => l.type === "warn");
  expect(warnings.length).toBe(1);
  expect(warnings[0].args.join(" ")).toContain("connection lost");
  expect(
    captured.records.some(
      (l) => l.type === "info" && l.args.join(" ").includes("connection restored"),
    ),
  ).toBe(true);
}, 20_000);
