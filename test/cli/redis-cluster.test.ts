/**
 * The built `stem` binary on a real three-node Redis Cluster (redis+cluster:// URL): a
 * worker consuming two queues whose slots are on different nodes, enqueue --wait on each,
 * a failing task in the dead letters (list, show, retry), observe queues, ping over the
 * control channel, revoke of a delayed task, and health.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisKeys } from "../../src/adapters/redis/keys.ts";
import { eventually } from "../../src/testing/harness.ts";
import { type RedisClusterFixture, startRedisCluster } from "../e2e/fixtures/redis-cluster.ts";
import { randomPrefix } from "../e2e/fixtures/redis-server.ts";
import { ensureBinary, spawnStem, startStem, stem, TASKS_TS, workspace } from "./binary.ts";

describe("stem binary on a Redis Cluster", () => {
  let cluster: RedisClusterFixture;
  let ws: ReturnType<typeof workspace>;
  let worker: ReturnType<typeof spawnStem>;
  let env: Record<string, string>;
  const prefix = randomPrefix("cluster-cli");
  // Two queues whose keys hash to slots on different nodes (checked in beforeAll).
  const queues = ["alpha", "beta"];

  beforeAll(async () => {
    await ensureBinary();
    cluster = await startRedisCluster();
    const client = cluster.client();
    try {
      const keys = new RedisKeys(prefix, true);
      const ranges = (await client.call("CLUSTER", "SLOTS")) as [
        number,
        number,
        [string, number],
      ][];
      const nodeOf = async (queue: string) => {
        const slot = (await client.call(
          "CLUSTER",
          "KEYSLOT",
          keys.queue(queue).streams[0],
        )) as number;
        return ranges.find(([from, to]) => slot >= from && slot <= to)?.[2][1];
      };
      expect(await nodeOf("alpha")).not.toBe(await nodeOf("beta"));
    } finally {
      client.disconnect();
    }
    env = { STEM_BROKER_URL: `${cluster.url}?prefix=${prefix}` };
    ws = workspace({ "tasks.ts": TASKS_TS });
    ({ proc: worker } = await startStem(
      ws.dir,
      ["worker", "--tasks", "./tasks.ts", "--queue", queues.join(","), "--worker-id", "cw"],
      env,
    ));
  }, 90_000);

  afterAll(async () => {
    worker?.kill("SIGKILL");
    await worker?.exited;
    ws?.cleanup();
    await cluster?.stop();
  });

  test("enqueue --wait runs a task on each queue", async () => {
    for (const queue of queues) {
      const r = await stem(
        ws.dir,
        [
          "enqueue",
          "demo.hello",
          "--args",
          `{"name":"${queue}"}`,
          "--queue",
          queue,
          "--wait",
          "--json",
        ],
        env,
      );
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        state: "succeeded",
        result: `hello ${queue}`,
        queue,
      });
    }
  });

  test("a failing task is dead-lettered; dlq list, show and retry work", async () => {
    const r = await stem(
      ws.dir,
      ["enqueue", "demo.fail", "--queue", "beta", "--wait", "--json"],
      env,
    );
    expect(r.code).toBe(1);
    const { id } = JSON.parse(r.stdout);
    const list = JSON.parse((await stem(ws.dir, ["dlq", "list", "--json"], env)).stdout) as {
      envelope: { id: string };
    }[];
    expect(list.map((e) => e.envelope.id)).toContain(id);
    const shown = JSON.parse((await stem(ws.dir, ["dlq", "show", id, "--json"], env)).stdout);
    expect(shown).toMatchObject({ queue: "beta", reason: "max-retries-exhausted" });
    const retried = await stem(ws.dir, ["dlq", "retry", id], env);
    expect(retried.code).toBe(0);
    expect(retried.stdout).toContain(`replayed ${id}`);
    const again = await eventually(async () => {
      const e = JSON.parse(
        (await stem(ws.dir, ["dlq", "show", id, "--json"], env)).stdout || "null",
      );
      return e?.envelope.meta["stem.replay.count"] === 1 ? e : undefined;
    }, 10_000);
    expect(again.queue).toBe("beta");
  });

  test("observe queues lists both queues", async () => {
    const rows = JSON.parse((await stem(ws.dir, ["observe", "queues", "--json"], env)).stdout) as {
      queue: string;
      pending: number;
      dead: number;
    }[];
    expect(rows.map((row) => row.queue)).toEqual(expect.arrayContaining(queues));
    expect(rows.find((row) => row.queue === "beta")?.dead).toBe(1);
  });

  test("ping reaches the worker; revoke skips a delayed task", async () => {
    const ping = await stem(ws.dir, ["worker", "ping", "--json", "--timeout", "2s"], env);
    expect(ping.code).toBe(0);
    expect(JSON.parse(ping.stdout).map((x: { workerId: string }) => x.workerId)).toEqual(["cw"]);
    const id = (
      await stem(
        ws.dir,
        ["enqueue", "demo.hello", "--args", '{"name":"late"}', "--queue", "alpha", "--delay", "1s"],
        env,
      )
    ).stdout.trim();
    expect((await stem(ws.dir, ["worker", "revoke", id], env)).code).toBe(0);
    const status = await eventually(async () => {
      const s = JSON.parse((await stem(ws.dir, ["result", id, "--json"], env)).stdout);
      return s.state === "revoked" ? s : undefined;
    }, 10_000);
    expect(status.state).toBe("revoked");
  });

  test("health reports the cluster healthy", async () => {
    const r = await stem(ws.dir, ["health", "--json"], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).healthy).toBe(true);
  });
});
