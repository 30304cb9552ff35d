/**
 * On a Redis Cluster, control messages (and task events) published one after another from
 * different connections reach a subscriber in the order they were sent: a cluster forwards
 * a PUBLISH from the node that took it to the others, so messages sent through different
 * nodes could overtake each other; publishers all go through one node.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { openRedisConnection, type RedisConnection } from "../../src/adapters/redis/index.ts";
import { eventually } from "../../src/testing/harness.ts";
import { type RedisClusterFixture, startRedisCluster } from "./fixtures/redis-cluster.ts";
import { randomPrefix } from "./fixtures/redis-server.ts";

let cluster: RedisClusterFixture;
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

test("messages sent in turn by three connections arrive in the order sent", async () => {
  const prefix = randomPrefix("cluster-order");
  const open = () => openRedisConnection(`${cluster.url}?prefix=${prefix}`);
  const connections: RedisConnection[] = [await open(), await open(), await open()];
  try {
    const got: number[] = [];
    const stop = await connections[0]
      .controlBus()
      .subscribe("order", (message) => got.push(message.n as number));
    const sent = Array.from({ length: 300 }, (_, n) => n);
    for (const n of sent) await connections[n % 3].controlBus().publish("order", { n });
    await eventually(() => got.length === sent.length, 10_000, "every message");
    expect(got).toEqual(sent);
    await stop();
  } finally {
    await Promise.all(connections.map((c) => c.close()));
    await cluster.deletePrefix(prefix);
  }
}, 60_000);
