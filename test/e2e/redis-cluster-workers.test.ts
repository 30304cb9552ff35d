/**
 * Worker processes on a real three-node Redis Cluster (test/e2e/fixtures/redis-cluster.ts):
 * three workers drain 10,000 tasks spread over four queues whose hash slots are on every
 * node, while one worker is SIGKILLed mid-drain and replaced. Every task ends succeeded,
 * none is lost; tasks completed more than once (at-least-once delivery after the kill)
 * are counted and printed, as in worker-chaos.test.ts. And two workers keep draining a
 * queue while its slot moves to another node (ASK, then MOVED redirections). And a fetch
 * that long-polls queues on different nodes keeps one blocked connection per queue. And
 * what docs/stores.md says differs on a cluster: duplicate ids are refused per queue.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openRedisConnection } from "../../src/adapters/redis/index.ts";
import { keySlot } from "../../src/adapters/redis/key-slot.ts";
import { RedisKeys } from "../../src/adapters/redis/keys.ts";
import { buildEnvelope } from "../../src/core/envelope.ts";
import { StemClient } from "../../src/index.ts";
import { eventually } from "../../src/testing/harness.ts";
import { queueSlot, queuesOnEveryMaster } from "./fixtures/cluster-queues.ts";
import { type RedisClusterFixture, startRedisCluster } from "./fixtures/redis-cluster.ts";
import { randomPrefix } from "./fixtures/redis-server.ts";
import { enqueueChaos, executions, startWorker } from "./worker-processes.ts";

const TASKS = 10_000;
const QUEUES = 4;

let cluster: RedisClusterFixture;

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

test("three workers drain 10,000 tasks over queues on every node while one is SIGKILLed", async () => {
  const prefix = randomPrefix("cluster-workers");
  const url = `${cluster.url}?prefix=${prefix}`;
  const queues = await queuesOnEveryMaster(cluster, new RedisKeys(prefix, true), QUEUES);
  expect(new Set(queues.values())).toEqual(new Set(cluster.ports));
  const names = [...queues.keys()];
  const dir = mkdtempSync(join(tmpdir(), "stem-cluster-"));
  const log = join(dir, "runs.log");
  const workers = [0, 1, 2].map(() => startWorker(url, log, 10, names.join(",")));
  const client = await StemClient.fromUrl(url);
  let killed = false;
  try {
    await Promise.all(workers.map((w) => w.ready));
    const ids = await enqueueChaos(client, TASKS, 5, names);
    // Mid-drain: once a fifth of the tasks are done, with tasks of every queue in flight.
    await eventually(() => executions(log).size >= TASKS / 5, 60_000, "a fifth done");
    workers[0].proc.kill("SIGKILL");
    await workers[0].proc.exited;
    killed = true;
    workers[0] = startWorker(url, log, 10, names.join(","));
    await workers[0].ready;
    const drained = async () =>
      (await client.broker.stats(names)).every(
        (s) => s.pending === 0 && s.inflight === 0 && s.delayed === 0,
      );
    await eventually(
      async () => executions(log).size === TASKS && (await drained()),
      150_000,
      "all tasks completed",
    );
    const statuses = await client.backend.getMany(ids);
    const succeeded = statuses.filter((s) => s?.state === "succeeded").length;
    const counts = executions(log);
    const repeated = [...counts.values()].filter((n) => n > 1);
    console.log(
      `redis cluster: ${TASKS} tasks over ${names.length} queues on ${cluster.ports.length} nodes, ` +
        `a worker SIGKILLed mid-drain, ${succeeded} succeeded, ${repeated.length} completed more than once`,
    );
    expect(killed).toBe(true);
    expect(succeeded).toBe(TASKS);
    expect(counts.size).toBe(TASKS);
    expect(ids.every((id) => counts.has(id))).toBe(true);
    const stats = await client.broker.stats(names);
    expect(stats.map((s) => s.dead)).toEqual(names.map(() => 0));
    // Every queue took part.
    const perQueue = new Map<string, number>();
    for (const status of statuses) {
      if (status) perQueue.set(status.queue, (perQueue.get(status.queue) ?? 0) + 1);
    }
    expect(names.map((name) => perQueue.get(name))).toEqual(names.map(() => TASKS / names.length));
  } finally {
    for (const w of workers) w.proc.kill("SIGKILL");
    await Promise.all(workers.map((w) => w.proc.exited));
    await client.close();
    rmSync(dir, { recursive: true, force: true });
    await cluster.deletePrefix(prefix);
  }
}, 240_000);

test("workers keep draining a queue while its slot moves to another node", async () => {
  const prefix = randomPrefix("cluster-move");
  const url = `${cluster.url}?prefix=${prefix}`;
  const queue = "moving";
  const slot = await queueSlot(cluster, new RedisKeys(prefix, true), queue);
  const from = await cluster.ownerOf(slot);
  const to = cluster.ports.find((port) => port !== from)!;
  const dir = mkdtempSync(join(tmpdir(), "stem-cluster-move-"));
  const log = join(dir, "runs.log");
  const workers = [0, 1].map(() => startWorker(url, log, 10, queue));
  const client = await StemClient.fromUrl(url);
  const total = 3000;
  try {
    await Promise.all(workers.map((w) => w.ready));
    const ids = await enqueueChaos(client, total, 5, [queue]);
    await eventually(() => executions(log).size >= total / 10, 60_000, "a tenth done");
    await cluster.moveSlot(slot, to);
    expect(await cluster.ownerOf(slot)).toBe(to);
    // Tasks enqueued after the move land on the new node.
    ids.push(await client.enqueue("e2e.chaos", { ms: 5 }, { queue }));
    await eventually(
      async () => {
        const [stats] = await client.broker.stats([queue]);
        return executions(log).size === ids.length && stats.pending + stats.inflight === 0;
      },
      120_000,
      "all tasks completed",
    );
    const statuses = await client.backend.getMany(ids);
    expect(statuses.filter((s) => s?.state === "succeeded").length).toBe(ids.length);
    expect((await client.broker.stats([queue]))[0].dead).toBe(0);
  } finally {
    for (const w of workers) w.proc.kill("SIGKILL");
    await Promise.all(workers.map((w) => w.proc.exited));
    await client.close();
    rmSync(dir, { recursive: true, force: true });
    await cluster.deletePrefix(prefix);
  }
}, 180_000);

/** The blocking connections of `prefix` on every node: [all, blocked right now]. */
async function blockingConnections(prefix: string): Promise<[number, number]> {
  const client = cluster.client();
  try {
    await client.ping();
    let all = 0;
    let blocked = 0;
    for (const node of client.nodes("master")) {
      const list = (await node.call("CLIENT", "LIST")) as string;
      for (const line of list.split("\n")) {
        if (!line.includes(` name=stem:${prefix}:blocking `)) continue;
        all++;
        if (/ flags=\S*b/.test(line)) blocked++;
      }
    }
    return [all, blocked];
  } finally {
    client.disconnect();
  }
}

test("a fetch long-polling queues on different nodes keeps one blocked connection per queue", async () => {
  const prefix = randomPrefix("cluster-waits");
  const names = ["wa", "wb", "wc"];
  const connection = await openRedisConnection(`${cluster.url}?prefix=${prefix}`);
  const broker = connection.broker();
  try {
    for (let round = 0; round < 15; round++) {
      const fetching = broker.fetch(names, {
        max: 1,
        leaseMs: 60_000,
        consumer: "waiter",
        waitMs: 20_000,
      });
      // Every queue is being waited on (blocked) before the first one gets a task.
      await eventually(
        async () => (await blockingConnections(prefix))[1] >= names.length,
        10_000,
        "all queues waited on",
      );
      const envelope = buildEnvelope({ name: "w.x", queue: "wa" });
      await broker.publish([envelope]);
      const [delivery] = await fetching;
      expect(delivery.envelope.id).toBe(envelope.id);
      await broker.ack([delivery]);
    }
    // The waits on wb and wc still run, and were joined by every later fetch, not
    // repeated: no connection per round and queue piles up. Each is one connection, to
    // the node holding its queue (not a cluster client connected to every node).
    const [all, blocked] = await blockingConnections(prefix);
    expect(blocked).toBeLessThanOrEqual(names.length - 1);
    expect(all).toBeLessThanOrEqual(names.length);
  } finally {
    await connection.close();
    await cluster.deletePrefix(prefix);
  }
}, 120_000);

test("a duplicate id is refused in its own queue, and accepted in another queue's slot", async () => {
  const prefix = randomPrefix("cluster-dupes");
  const connection = await openRedisConnection(`${cluster.url}?prefix=${prefix}`);
  const broker = connection.broker();
  try {
    const first = buildEnvelope({ name: "d.x", queue: "da" });
    expect((await broker.publish([first])).accepted).toEqual([first.id]);
    expect((await broker.publish([{ ...first }])).duplicates).toEqual([first.id]);
    const elsewhere = { ...first, queue: "db" };
    expect((await broker.publish([elsewhere])).accepted).toEqual([first.id]);
    const stats = await broker.stats(["da", "db"]);
    expect(stats.map((s) => s.pending)).toEqual([1, 1]);
  } finally {
    await connection.close();
    await cluster.deletePrefix(prefix);
  }
});

test("keySlot gives every key the slot the cluster gives it", async () => {
  const client = cluster.client();
  try {
    const keys = [
      "",
      "stem:q:{emails}:s0",
      "{stem}:result:abc",
      "foo{}{bar}",
      "foo{{bar}}zap",
      "foo{bar",
      "{é}x",
      "日本語",
      ...Array.from({ length: 200 }, (_, n) => `key-${n}-${"x".repeat(n % 7)}`),
    ];
    for (const key of keys)
      expect([key, keySlot(key)]).toEqual([
        key,
        (await client.call("CLUSTER", "KEYSLOT", key)) as number,
      ]);
  } finally {
    client.disconnect();
  }
});
