/**
 * Rate-limited tasks wait in the broker, not in the worker: on every adapter a burst of
 * a `1/m` task leaves the worker free to run other tasks from the same queue, and
 * same-priority rate-limited tasks run in the order they were enqueued; keyed limits keep
 * a bucket per key and a group's tasks share one.
 */
import { describe, expect, test } from "bun:test";
import { defineTask } from "../../src/index.ts";
import { eventually } from "../../src/testing/harness.ts";
import { ADAPTERS } from "./fixtures/adapter-stores.ts";
import { clientPerTest } from "./fixtures/client-per-test.ts";

const openClient = clientPerTest();

function tasks(rateLimit: string) {
  const ran: string[] = [];
  const limited = defineTask<{ n: number }>({
    name: "rl.limited",
    options: { rateLimit },
    run: (_ctx, { n }) => void ran.push(`limited ${n}`),
  });
  const other = defineTask<{ n: number }>({
    name: "rl.other",
    run: (_ctx, { n }) => void ran.push(`other ${n}`),
  });
  return { ran, list: [limited, other] };
}

for (const adapter of ADAPTERS) {
  describe(`rate limits on ${adapter.name}`, () => {
    test("a 1/m burst does not block another task name on the same queue", async () => {
      const { ran, list } = tasks("1/m");
      const client = await openClient(adapter, "ratelimit", { tasks: list });
      const calls = [
        ...Array.from({ length: 6 }, (_, n) => ({ name: "rl.limited", args: { n }, options: {} })),
        ...Array.from({ length: 3 }, (_, n) => ({ name: "rl.other", args: { n }, options: {} })),
      ];
      const ids = await client.stem.enqueueMany(calls);
      // Two prefetch slots: waiting for tokens in the worker would hold both for a minute.
      await client.createWorker({ concurrency: 2, prefetch: 2 }).start();
      for (const id of ids.slice(6))
        expect((await client.waitForTask(id, { timeout: 20_000 })).state).toBe("succeeded");
      expect(ran.filter((r) => r.startsWith("limited"))).toEqual(["limited 0"]);
      // The rest wait in the broker for their turns, holding nothing in the worker.
      const [stats] = await eventually(async () => {
        const s = await client.broker.stats(["default"]);
        return s[0].delayed === 5 ? s : undefined;
      }, 10_000);
      expect(stats).toMatchObject({ delayed: 5, inflight: 0, pending: 0 });
      const statuses = await Promise.all(ids.slice(1, 6).map((id) => client.getTaskStatus(id)));
      expect(statuses.map((s) => s?.state)).toEqual(Array(5).fill("queued"));
    }, 30_000);

    test("same-priority rate-limited tasks run in the order they were enqueued", async () => {
      const { ran, list } = tasks("5/s");
      const client = await openClient(adapter, "ratelimit", { tasks: list });
      const ids = await client.stem.enqueueMany(
        Array.from({ length: 8 }, (_, n) => ({ name: "rl.limited", args: { n }, options: {} })),
      );
      await client.createWorker({ concurrency: 4, prefetch: 8 }).start();
      for (const id of ids) await client.waitForTask(id, { timeout: 20_000 });
      expect(ran).toEqual(Array.from({ length: 8 }, (_, n) => `limited ${n}`));
    }, 30_000);

    test("a 1/m bucket per tenant key, and one 1/m bucket for a group's two tasks", async () => {
      const ran: string[] = [];
      const keyed = defineTask<{ tenant: string; n: number }>({
        name: "rl.keyed",
        options: { rateLimit: "1/m", rateLimitKey: "args.tenant" },
        run: (_ctx, { tenant, n }) => void ran.push(`${tenant}${n}`),
      });
      const grouped = ["rl.welcome", "rl.digest"].map((name) =>
        defineTask({
          name,
          options: { rateLimit: "1/m", rateLimitGroup: "rl.smtp" },
          run: () => void ran.push(name),
        }),
      );
      const client = await openClient(adapter, "ratelimit", { tasks: [keyed, ...grouped] });
      const ids = await client.stem.enqueueMany([
        { name: "rl.keyed", args: { tenant: "a", n: 1 } },
        { name: "rl.keyed", args: { tenant: "b", n: 1 } },
        { name: "rl.keyed", args: { tenant: "a", n: 2 } },
        { name: "rl.welcome", args: {} },
        { name: "rl.digest", args: {} },
      ]);
      await client.createWorker({ concurrency: 2, prefetch: 4 }).start();
      for (const id of [ids[0], ids[1]]) {
        expect((await client.waitForTask(id, { timeout: 20_000 })).state).toBe("succeeded");
      }
      // The second task of tenant a and the group's second task wait for their buckets.
      await eventually(async () => {
        const [s] = await client.broker.stats(["default"]);
        return s.delayed === 2 && s.inflight === 0;
      }, 10_000);
      expect(ran.filter((r) => !r.startsWith("rl.")).sort()).toEqual(["a1", "b1"]);
      expect(ran.filter((r) => r.startsWith("rl."))).toHaveLength(1);
    }, 30_000);
  });
}
