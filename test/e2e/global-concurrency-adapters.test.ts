/**
 * Global concurrency on every adapter, in one process: two workers with room for many
 * tasks each never run more of a limited task name (or of a limited queue) at once than
 * the limit, a task sent back for want of a slot costs neither an attempt nor a delivery,
 * and the worker stays free for other tasks meanwhile.
 */
import { describe, expect, test } from "bun:test";
import { defineTask } from "../../src/index.ts";
import { ADAPTERS } from "./fixtures/adapter-stores.ts";
import { clientPerTest } from "./fixtures/client-per-test.ts";

const openClient = clientPerTest();

/** Counts how many handlers run at once, per label. */
function overlapMeter() {
  const running = new Map<string, number>();
  const peak = new Map<string, number>();
  return {
    peak: (label: string) => peak.get(label) ?? 0,
    async run(label: string, ms: number) {
      const now = (running.get(label) ?? 0) + 1;
      running.set(label, now);
      peak.set(label, Math.max(peak.get(label) ?? 0, now));
      await Bun.sleep(ms);
      running.set(label, running.get(label)! - 1);
    },
  };
}

for (const adapter of ADAPTERS) {
  describe(`global concurrency on ${adapter.name}`, () => {
    test("two workers never run more of a task than its globalConcurrency", async () => {
      const meter = overlapMeter();
      const limited = defineTask<{ n: number }>({
        name: "gc.limited",
        // One delivery only: a deferral that counted as a delivery would dead-letter it.
        options: { globalConcurrency: 2, maxDeliveries: 1 },
        run: () => meter.run("limited", 40),
      });
      const other = defineTask<{ n: number }>({
        name: "gc.other",
        run: () => meter.run("other", 1),
      });
      const client = await openClient(adapter, "gconc", { tasks: [limited, other] });
      const ids = await client.stem.enqueueMany(
        Array.from({ length: 16 }, (_, n) => ({ name: "gc.limited", args: { n } })),
      );
      const others = await client.stem.enqueueMany(
        Array.from({ length: 4 }, (_, n) => ({ name: "gc.other", args: { n } })),
      );
      await client.createWorker({ concurrency: 6, workerId: "gc-a" }).start();
      await client.createWorker({ concurrency: 6, workerId: "gc-b" }).start();
      // The other task name is not held up behind the limited backlog.
      for (const id of others)
        expect((await client.waitForTask(id, { timeout: 20_000 })).state).toBe("succeeded");
      for (const id of ids) {
        const result = await client.waitForTask(id, { timeout: 30_000 });
        expect(result.state).toBe("succeeded");
        expect(result.status.attempt).toBe(1);
      }
      expect(meter.peak("limited")).toBeLessThanOrEqual(2);
      expect(meter.peak("limited")).toBeGreaterThan(0);
      // Every slot was given back.
      expect(await client.concurrencySlots.usage("task:gc.limited")).toEqual({
        key: "task:gc.limited",
        limit: 2,
        used: 0,
        holders: [],
      });
    }, 60_000);

    test("a queue's global concurrency covers every task name on it", async () => {
      const meter = overlapMeter();
      const list = ["gc.one", "gc.two"].map((name) =>
        defineTask<{ n: number }>({
          name,
          options: { queue: "slow" },
          run: () => meter.run("slow", 30),
        }),
      );
      const client = await openClient(adapter, "gconcq", { tasks: list });
      const ids = await client.stem.enqueueMany(
        Array.from({ length: 10 }, (_, n) => ({ name: n % 2 ? "gc.one" : "gc.two", args: { n } })),
      );
      const worker = client.createWorker({
        queues: ["slow"],
        concurrency: 5,
        queueGlobalConcurrency: { slow: 1 },
      });
      await worker.start();
      expect(await client.concurrencySlots.usage("queue:slow")).toMatchObject({ limit: 1 });
      for (const id of ids)
        expect((await client.waitForTask(id, { timeout: 30_000 })).state).toBe("succeeded");
      expect(meter.peak("slow")).toBe(1);
    }, 60_000);
  });
}
