/**
 * A worker survives a store outage in the middle of a task's lease extensions: Redis and
 * Postgres reached through a TCP proxy that the test stops and restarts. The handler
 * fires heartbeats, lease extensions and progress without awaiting them (as a thread's
 * messages do); none may end as an unhandled rejection, the worker keeps running, and
 * once the proxy is back the task finishes and new tasks run.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { defineTask, StemClient } from "../../src/index.ts";
import { injectFaults } from "../../src/testing/faults.ts";
import { TcpProxy } from "./fixtures/postgres-tcp-proxy.ts";
import { RedisProxy } from "./fixtures/redis-proxy.ts";
import { openTestStore, type StoreKind } from "./fixtures/test-stores.ts";

interface Outage {
  /** The store URL through the proxy. */
  url: string;
  down(): Promise<void>;
  up(): Promise<void>;
}

/** A proxy in front of the store; `down` and `up` may be called in any order, any number of times. */
async function proxied(kind: StoreKind, direct: string): Promise<Outage> {
  const url = new URL(direct);
  const target = { host: url.hostname, port: Number(url.port || (kind === "redis" ? 6379 : 5432)) };
  const proxy =
    kind === "redis"
      ? new RedisProxy(target.host, target.port)
      : new TcpProxy(target.host, target.port);
  let running = false;
  const up = async () => {
    if (running) return;
    await proxy.start();
    running = true;
  };
  await up();
  url.port = String(proxy.port);
  return {
    url: url.toString(),
    up,
    down: async () => {
      if (!running) return;
      running = false;
      await proxy.stop();
    },
  };
}

const rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);
beforeAll(() => {
  process.on("unhandledRejection", onRejection);
});
afterAll(() => {
  process.off("unhandledRejection", onRejection);
});

for (const kind of ["redis", "postgres"] as StoreKind[]) {
  describe(`worker during a ${kind} outage`, () => {
    test("unawaited heartbeats and lease extensions during the outage leave the worker running, and it recovers", async () => {
      const store = await openTestStore(kind, "out");
      const outage = await proxied(kind, store.url);
      const inOutage = Promise.withResolvers<void>();
      const over = Promise.withResolvers<void>();
      const task = defineTask<{ fireDuringOutage?: boolean }>({
        name: "out.task",
        options: { visibilityTimeout: "20s" },
        run: async (ctx, { fireDuringOutage }) => {
          if (!fireDuringOutage) return "plain";
          await inOutage.promise;
          for (let i = 0; i < 10; i++) {
            void ctx.heartbeat();
            void ctx.extendLease();
            void ctx.progress(i * 10);
            await Bun.sleep(50);
          }
          await over.promise;
          return "survived";
        },
      });
      const observer = await StemClient.fromUrl(store.url, { tasks: [task] });
      const client = await StemClient.fromUrl(outage.url, { tasks: [task] });
      const before = rejections.length;
      try {
        const worker = client.createWorker({ concurrency: 2, heartbeatInterval: "200ms" });
        await worker.start();
        const id = await observer.enqueue("out.task", { fireDuringOutage: true });
        for (let i = 0; i < 200 && (await observer.getTaskStatus(id))?.state !== "running"; i++)
          await Bun.sleep(25);
        await outage.down();
        inOutage.resolve();
        await Bun.sleep(1500);
        await outage.up();
        over.resolve();
        const result = await observer.waitForTask(id, { timeout: 20_000 });
        expect(result.state).toBe("succeeded");
        expect(result.value).toBe("survived");
        const after = await observer.enqueue("out.task", {});
        expect((await observer.waitForTask(after, { timeout: 20_000 })).state).toBe("succeeded");
        expect(worker.stats().workerId).toBe(worker.id);
        expect(rejections.slice(before)).toEqual([]);
      } finally {
        inOutage.resolve();
        over.resolve();
        await client.close();
        await observer.close();
        await outage.up();
        await store.cleanup();
      }
    }, 60_000);
  });
}

// Memory and SQLite have no server to cut off: their outage is injected (the first 20
// lease extensions, all those the handler fires without awaiting, fail).
for (const kind of ["memory", "sqlite"] as StoreKind[]) {
  describe(`worker during an injected ${kind} outage`, () => {
    test("unawaited heartbeats and lease extensions that fail leave the worker running", async () => {
      const store = await openTestStore(kind, "out");
      const task = defineTask({
        name: "out.local",
        run: async (ctx) => {
          for (let i = 0; i < 10; i++) {
            void ctx.heartbeat();
            void ctx.extendLease("5s");
            await Bun.sleep(10);
          }
          return (await ctx.extendLease()) ? "extended" : "lost";
        },
      });
      const client = await StemClient.fromUrl(store.url, { tasks: [task] });
      const before = rejections.length;
      try {
        const broker = injectFaults(client.broker, { method: "extendLease", times: 20 });
        const worker = client.createWorker({ broker: broker.store });
        await worker.start();
        const id = await client.enqueue("out.local");
        const result = await client.waitForTask(id, { timeout: 10_000 });
        expect(result.value).toBe("extended");
        expect(broker.injected()).toBe(20);
        const next = await client.enqueue("out.local");
        expect((await client.waitForTask(next, { timeout: 10_000 })).state).toBe("succeeded");
        expect(rejections.slice(before)).toEqual([]);
      } finally {
        await client.close();
        await store.cleanup();
      }
    }, 30_000);
  });
}
