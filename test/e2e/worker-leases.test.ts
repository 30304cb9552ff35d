/**
 * Leases and error paths of the worker, on every adapter:
 * - a task's own visibility timeout governs its lease even when its producer did not
 *   know the task (the envelope has none, so the fetch leased the worker default);
 * - lease deadlines are judged on the worker's clock, so a worker clock behind the
 *   store's does not lose the lease of a short-visibility task;
 * - a task whose admission or outcome write fails returns to the queue at once, not
 *   after its whole lease.
 */
import { describe, expect, test } from "bun:test";
import { type Clock, systemClock } from "../../src/core/clock.ts";
import { buildEnvelope } from "../../src/core/envelope.ts";
import { defineTask, StemClient } from "../../src/index.ts";
import { injectFaults } from "../../src/testing/faults.ts";
import { deadLetterOf } from "../../src/testing/harness.ts";
import { openTestStore, type StoreKind } from "./fixtures/test-stores.ts";

const KINDS: StoreKind[] = ["memory", "sqlite", "redis", "postgres"];

for (const kind of KINDS) {
  describe(`worker leases on ${kind}`, () => {
    test("a task enqueued by a producer that does not know it gets its own lease, not the worker's", async () => {
      const store = await openTestStore(kind, "ls");
      const release = Promise.withResolvers<void>();
      const started = Promise.withResolvers<void>();
      const task = defineTask({
        name: "ls.own",
        options: { visibilityTimeout: 400 },
        run: async () => {
          started.resolve();
          await release.promise;
          return "done";
        },
      });
      const client = await StemClient.fromUrl(store.url, { tasks: [task] });
      try {
        // The worker may set the task's lease once; after that the store "fails" every
        // extension, so the lease lapses after the task's 400 ms, not the default 30 s.
        const broker = injectFaults(client.broker, {
          method: "extendLease",
          nth: 2,
          times: Number.POSITIVE_INFINITY,
        });
        // Holding one task, the worker has no room to fetch it again itself.
        const worker = client.createWorker({
          broker: broker.store,
          visibilityTimeout: "30s",
          concurrency: 1,
        });
        await worker.start();
        // Published as a producer that does not know the task would: no visibility timeout.
        const envelope = buildEnvelope({ name: "ls.own" });
        await client.broker.publish([envelope]);
        const id = envelope.id;
        await started.promise;
        const [again] = await client.broker.fetch(["default"], {
          max: 1,
          leaseMs: 60_000,
          consumer: "other",
          waitMs: 8000,
        });
        expect(again?.envelope.id).toBe(id);
        expect(again.afterLeaseLoss).toBe(true);
        expect(broker.calls("extendLease")).toBeGreaterThanOrEqual(2);
        await client.broker.ack([again]);
        release.resolve();
      } finally {
        release.resolve();
        await client.close();
        await store.cleanup();
      }
    }, 30_000);

    test("a worker clock 10 s behind the store still extends a short lease in time", async () => {
      const store = await openTestStore(kind, "ls");
      const behind: Clock = { now: () => Date.now() - 10_000, sleep: systemClock.sleep };
      let runs = 0;
      const task = defineTask({
        name: "ls.slow",
        options: { visibilityTimeout: 500 },
        run: async () => {
          runs++;
          await Bun.sleep(2000);
          return "slept";
        },
      });
      const client = await StemClient.fromUrl(store.url, { tasks: [task] });
      try {
        const worker = client.createWorker({ clock: behind, concurrency: 2 });
        await worker.start();
        const id = await client.enqueue("ls.slow");
        const result = await client.waitForTask(id, { timeout: 15_000 });
        expect(result.state).toBe("succeeded");
        // Nothing else got the task while it ran: its lease was never lost.
        await Bun.sleep(700);
        expect(runs).toBe(1);
        const [stats] = await client.broker.stats(["default"]);
        expect(stats).toMatchObject({ pending: 0, inflight: 0 });
      } finally {
        await client.close();
        await store.cleanup();
      }
    }, 30_000);

    test("a task whose admission fails returns at once, not after its lease", async () => {
      const store = await openTestStore(kind, "ls");
      const task = defineTask({
        name: "ls.limited",
        options: { rateLimit: "100/s" },
        run: () => 7,
      });
      const client = await StemClient.fromUrl(store.url, { tasks: [task] });
      try {
        const limiter = injectFaults(client.rateLimiter, { method: "acquire" });
        const worker = client.createWorker({
          rateLimiter: limiter.store,
          visibilityTimeout: "30s",
        });
        await worker.start();
        const id = await client.enqueue("ls.limited");
        const result = await client.waitForTask(id, { timeout: 10_000 });
        expect(result.state).toBe("succeeded");
        expect(limiter.injected()).toBe(1);
      } finally {
        await client.close();
        await store.cleanup();
      }
    }, 30_000);

    test("a task whose outcome cannot be written returns at once and ends dead-lettered at its delivery limit", async () => {
      const store = await openTestStore(kind, "ls");
      let runs = 0;
      const task = defineTask({
        name: "ls.nul-error",
        options: { maxDeliveries: 2 },
        run: () => {
          runs++;
          // Its failure status cannot be stored (no backend takes a NUL character).
          throw new Error("bad byte \u0000 here");
        },
      });
      const client = await StemClient.fromUrl(store.url, { tasks: [task] });
      try {
        const worker = client.createWorker({ visibilityTimeout: "30s" });
        await worker.start();
        const id = await client.enqueue("ls.nul-error");
        const result = await client.waitForTask(id, { timeout: 10_000 });
        expect(result.state).toBe("failed");
        expect(result.error?.type).toBe("max-deliveries");
        expect(runs).toBe(2);
        const dead = await deadLetterOf(client.broker, id);
        expect(dead.meta.deliveries).toBe(3);
      } finally {
        await client.close();
        await store.cleanup();
      }
    }, 30_000);
  });
}
