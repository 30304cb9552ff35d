/**
 * A real outage of the rate limiter's store: the worker's limiter goes through a TCP
 * proxy to Redis or Postgres (its broker does not), and the test stops the proxy. Tasks
 * that fail closed wait in the broker, spend no attempt, and run once the proxy is back;
 * tasks that fail open run without their limit. The worker warns once per outage.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { type AnyTaskHandler, defineTask, StemClient } from "../../src/index.ts";
import { eventually, sleep } from "../../src/testing/harness.ts";
import { captureLogs } from "../fixtures/capture-logs.ts";
import { TcpProxy } from "./fixtures/postgres-tcp-proxy.ts";
import { openTestStore, type TestStore } from "./fixtures/test-stores.ts";

const captured = captureLogs();
let store: TestStore | undefined;
let client: StemClient | undefined;
let proxy: TcpProxy | undefined;
afterEach(async () => {
  await proxy?.start().catch(() => {});
  await client?.close();
  await proxy?.stop();
  await store?.cleanup();
  client = store = proxy = undefined;
});

const outageWarnings = () =>
  captured.records.filter(
    (r) => r.type === "warn" && r.args.join(" ").includes("rate limiter store is unreachable"),
  );

/** A client on a fresh store whose workers take tokens through a proxy the test can stop. */
async function openThroughProxy(kind: "redis" | "postgres", tasks: AnyTaskHandler[]) {
  store = await openTestStore(kind, "rloutage");
  const direct = new URL(store.url);
  proxy = new TcpProxy(direct.hostname, Number(direct.port || (kind === "redis" ? 6379 : 5432)));
  await proxy.start();
  const proxied = new URL(store.url);
  proxied.host = `127.0.0.1:${proxy.port}`;
  client = await StemClient.fromUrl(store.url, { tasks });
  const limiter = (await client.connection(proxied.toString())).rateLimiter();
  return { client, proxy, limiter };
}

for (const kind of ["redis", "postgres"] as const) {
  describe(`rate limiter outage on ${kind}`, () => {
    test("fail closed: tasks wait without spending attempts and run once the store is back", async () => {
      const ran: number[] = [];
      const task = defineTask<{ n: number }>({
        name: "outage.closed",
        options: { rateLimit: "100/s", maxRetries: 2 },
        run: (_ctx, { n }) => void ran.push(n),
      });
      const { client, proxy, limiter } = await openThroughProxy(kind, [task]);
      await proxy.stop();
      const ids = await Promise.all([1, 2, 3, 4].map((n) => task.enqueue(client, { n })));
      await client.createWorker({ rateLimiter: limiter, concurrency: 4 }).start();
      await eventually(() => outageWarnings().length > 0, 15_000, "the outage warning");
      // Long enough for every task to come back at least once and be sent back again.
      await sleep(3000);
      expect(ran).toEqual([]);
      await proxy.start();
      for (const id of ids) {
        const status = await client.waitForTask(id, { timeout: 30_000 });
        expect(status).toMatchObject({ state: "succeeded", attempt: 1 });
      }
      expect(outageWarnings()).toHaveLength(1);
      expect(captured.records.filter((r) => r.type === "error")).toEqual([]);
    }, 60_000);

    test("fail open: tasks run without their limit while the store is down", async () => {
      const ran: number[] = [];
      const task = defineTask<{ n: number }>({
        name: "outage.open",
        options: { rateLimit: "1/h", rateLimitFailMode: "open" },
        run: (_ctx, { n }) => void ran.push(n),
      });
      const { client, proxy, limiter } = await openThroughProxy(kind, [task]);
      await proxy.stop();
      const ids = await Promise.all([1, 2, 3].map((n) => task.enqueue(client, { n })));
      await client.createWorker({ rateLimiter: limiter, concurrency: 3 }).start();
      for (const id of ids) {
        expect((await client.waitForTask(id, { timeout: 30_000 })).state).toBe("succeeded");
      }
      expect(outageWarnings()).toHaveLength(1);
    }, 60_000);
  });
}
