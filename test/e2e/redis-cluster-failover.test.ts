/**
 * A Redis Cluster master fails over under a running worker process (issue #19: "failover
 * handled by ioredis"). The cluster (test/e2e/fixtures/redis-cluster.ts) has a replica
 * per master; a worker process drains queues on every master, and the master of one of
 * them is SIGKILLed mid-drain, after its replica has every write it acknowledged. The
 * worker rides through the promotion without exiting; every task of the batch completes
 * (at least once: a task in flight on the killed node may run twice, never zero times),
 * and so do tasks enqueued while no master held their slot (the calls wait the failover
 * out); a batch enqueued after the failover through the same client completes too, and task
 * events, status reads and control commands keep working.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { RedisKeys } from "../../src/adapters/redis/keys.ts";
import { StemClient, sendControl } from "../../src/index.ts";
import { eventually } from "../../src/testing/harness.ts";
import { queueSlot, queuesOnEveryMaster } from "./fixtures/cluster-queues.ts";
import { type RedisClusterFixture, startRedisCluster } from "./fixtures/redis-cluster.ts";
import { randomPrefix } from "./fixtures/redis-server.ts";
import { enqueueChaos, executions, startWorker } from "./worker-processes.ts";

const FIRST = 2000;
const SECOND = 300;
/** Tasks enqueued right after the kill, before a replica took over. */
const DURING = 20;

let cluster: RedisClusterFixture;

beforeAll(async () => {
  cluster = await startRedisCluster({ replicas: 1 });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

/** Ports of the masters holding a subscribed connection of `prefix` (control bus, task events). */
async function subscriberMasters(prefix: string): Promise<Set<number>> {
  const client = cluster.client();
  try {
    await client.ping();
    const found = new Set<number>();
    for (const node of client.nodes("master") as Redis[]) {
      const list = (await node.call("CLIENT", "LIST")) as string;
      const subscribed = list
        .split("\n")
        .some((line) => line.includes(`:${prefix}:subscriber `) && !line.includes(" sub=0 "));
      if (subscribed) found.add(node.options.port!);
    }
    return found;
  } finally {
    client.disconnect();
  }
}

test("a worker rides through the SIGKILL of a queue's master: every task completes, before and after", async () => {
  const prefix = randomPrefix("cluster-failover");
  const url = `${cluster.url}?prefix=${prefix}`;
  const keys = new RedisKeys(prefix, true);
  const queues = await queuesOnEveryMaster(cluster, keys, 3);
  expect(new Set(queues.values())).toEqual(new Set(await cluster.masters()));
  const names = [...queues.keys()];
  const dir = mkdtempSync(join(tmpdir(), "stem-cluster-failover-"));
  const log = join(dir, "runs.log");
  const worker = startWorker(url, log, 10, names.join(","));
  const client = await StemClient.fromUrl(url);
  const events = client.events({ state: "succeeded" });
  const succeededEvents = new Set<string>();
  const reading = (async () => {
    for await (const event of events) succeededEvents.add(event.taskId);
  })();
  try {
    await Promise.all([worker.ready, events.ready]);
    const first = await enqueueChaos(client, FIRST, 5, names);
    await eventually(() => executions(log).size >= FIRST / 4, 60_000, "a quarter done");
    // The master of a queue; one serving a subscription too if any (ioredis may have put
    // them on replicas), so that ioredis must subscribe again elsewhere.
    const subscribed = await subscriberMasters(prefix);
    const victim = names.find((name) => subscribed.has(queues.get(name)!)) ?? names[0];
    const [before] = await client.broker.stats([victim]);
    expect(before.pending).toBeGreaterThan(0); // mid-drain: the queue still has work
    const started = Date.now();
    // A producer enqueuing while the cluster has no master for the slot: its call waits
    // out the failover instead of failing (each command is sent again for up to 20 s).
    let during: Promise<string[]> | undefined;
    const { killed, promoted } = await cluster.killMaster(
      await queueSlot(cluster, keys, victim),
      () => {
        during = Promise.all(
          Array.from({ length: DURING }, () =>
            client.enqueue("e2e.chaos", { ms: 5 }, { queue: victim }),
          ),
        );
      },
    );
    const failoverMs = Date.now() - started;
    const enqueuedDuring = await during!;
    expect(killed).toBe(queues.get(victim)!);
    expect(promoted).not.toBe(killed);

    const drained = async (ids: string[]) => {
      const counts = executions(log);
      if (!ids.every((id) => counts.has(id))) return false;
      const stats = await client.broker.stats(names);
      return stats.every((s) => s.pending === 0 && s.inflight === 0 && s.delayed === 0);
    };
    await eventually(
      () => drained([...first, ...enqueuedDuring]),
      60_000,
      "the first batch completed",
    );
    const firstStatuses = await client.backend.getMany([...first, ...enqueuedDuring]);
    expect(firstStatuses.filter((s) => s?.state === "succeeded").length).toBe(FIRST + DURING);

    // After the failover, through the same client.
    const second = await enqueueChaos(client, SECOND, 5, names);
    const last = await client.waitForTask(second.at(-1)!, { timeout: 30_000 });
    expect(last.state).toBe("succeeded");
    await eventually(() => drained(second), 30_000, "the second batch completed");
    const secondStatuses = await client.backend.getMany(second);
    expect(secondStatuses.filter((s) => s?.state === "succeeded").length).toBe(SECOND);
    // Task events still reach this client's subscription, for every task of the batch.
    await eventually(
      () => second.every((id) => succeededEvents.has(id)),
      10_000,
      "succeeded events of the second batch",
    );
    // The worker's heartbeat is still written, and it answers a control command.
    const [heartbeat] = await client.backend.listHeartbeats();
    const replies = await sendControl(client.controlBus, "ping", {
      workers: [heartbeat.workerId],
      timeoutMs: 10_000,
    });
    expect(replies.map((r) => r.workerId)).toEqual([heartbeat.workerId]);

    const counts = executions(log);
    expect(counts.size).toBe(FIRST + DURING + SECOND);
    expect([...first, ...enqueuedDuring, ...second].every((id) => (counts.get(id) ?? 0) >= 1)).toBe(
      true,
    );
    expect((await client.broker.stats(names)).map((s) => s.dead)).toEqual(names.map(() => 0));
    // The worker never exited: it rode through the failover.
    expect(worker.proc.exitCode).toBeNull();
    const repeated = [...counts.values()].filter((n) => n > 1).length;
    console.log(
      `redis cluster failover: master ${killed} of queue ${victim} ` +
        `(${subscribed.has(killed) ? "with" : "without"} a subscription) SIGKILLed mid-drain, ` +
        `replica ${promoted} promoted in ${failoverMs} ms; ${FIRST} + ${SECOND} tasks succeeded, ` +
        `${repeated} completed more than once`,
    );
  } catch (error) {
    console.error(`worker stderr:\n${worker.stderr()}`);
    throw error;
  } finally {
    worker.proc.kill("SIGKILL");
    await worker.proc.exited;
    await events.close();
    await reading;
    await client.close();
    rmSync(dir, { recursive: true, force: true });
    await cluster.deletePrefix(prefix);
  }
}, 120_000);
