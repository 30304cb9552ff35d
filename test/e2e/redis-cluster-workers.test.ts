/**
 * Worker processes on a real three-node Redis Cluster (test/e2e/fixtures/redis-cluster.ts):
 * three workers drain 10,000 tasks spread over four queues whose hash slots are on every
 * node, while one worker is SIGKILLed mid-drain and replaced. Every task ends succeeded,
 * none is lost; tasks completed more than once (at-least-once delivery after the kill)
 * are counted and printed, as in worker-chaos.test.ts.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisKeys } from "../../src/adapters/redis/keys.ts";
import { StemClient } from "../../src/index.ts";
import { eventually } from "../../src/testing/harness.ts";
import { type RedisClusterFixture, startRedisCluster } from "./fixtures/redis-cluster.ts";
import { randomPrefix } from "./fixtures/redis-server.ts";
import { executions, startWorker } from "./worker-processes.ts";

const TASKS = 10_000;
const QUEUES = 4;

let cluster: RedisClusterFixture;

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

/** Port of the master that holds each slot, from CLUSTER SLOTS. */
async function slotOwners(): Promise<(slot: number) => number> {
  const client = cluster.client();
  try {
    const ranges = (await client.call("CLUSTER", "SLOTS")) as [number, number, [string, number]][];
    return (slot) => {
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      if (!range) throw new Error(`no node holds slot ${slot}`);
      return range[2][1];
    };
  } finally {
    client.disconnect();
  }
}

/** Queue names whose keys land on every node (by CLUSTER KEYSLOT of their stream key). */
async function queuesOnEveryNode(keys: RedisKeys): Promise<Map<string, number>> {
  const owner = await slotOwners();
  const client = cluster.client();
  const picked = new Map<string, number>();
  try {
    for (let i = 0; picked.size < QUEUES; i++) {
      const name = `cq${i}`;
      const slot = (await client.call("CLUSTER", "KEYSLOT", keys.queue(name).streams[0])) as number;
      const port = owner(slot);
      const ports = new Set(picked.values());
      // First one queue per node, then any.
      if (!ports.has(port) || ports.size === cluster.ports.length) picked.set(name, port);
    }
  } finally {
    client.disconnect();
  }
  return picked;
}

test("three workers drain 10,000 tasks over queues on every node while one is SIGKILLed", async () => {
  const prefix = randomPrefix("cluster-workers");
  const url = `${cluster.url}?prefix=${prefix}`;
  const queues = await queuesOnEveryNode(new RedisKeys(prefix, true));
  expect(new Set(queues.values())).toEqual(new Set(cluster.ports));
  const names = [...queues.keys()];
  const dir = mkdtempSync(join(tmpdir(), "stem-cluster-"));
  const log = join(dir, "runs.log");
  const workers = [0, 1, 2].map(() => startWorker(url, log, 10, names.join(",")));
  const client = await StemClient.fromUrl(url);
  let killed = false;
  try {
    await Promise.all(workers.map((w) => w.ready));
    const ids: string[] = [];
    for (let i = 0; i < TASKS; i += 500) {
      ids.push(
        ...(await client.stem.enqueueMany(
          Array.from({ length: 500 }, (_, j) => ({
            name: "e2e.chaos",
            args: { ms: 5 },
            options: { queue: names[(i + j) % names.length] },
          })),
        )),
      );
    }
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
