/**
 * A unique task whose publish fails must not leave its uniqueness lock behind: on every
 * adapter's LockStore, the next enqueue for the same key publishes a new task instead of
 * returning the id of one that was never published.
 */
import { describe, expect, test } from "bun:test";
import { defineTask, Stem } from "../../src/index.ts";
import { injectPublishFaults } from "../../src/testing/faults.ts";
import { ADAPTERS } from "./fixtures/adapter-stores.ts";
import { clientPerTest } from "./fixtures/client-per-test.ts";

const report = defineTask<{ day: string }>({
  name: "unique.report",
  options: { unique: true, uniqueFor: "10m" },
  run: (_ctx, { day }) => day,
});

const openClient = clientPerTest();

for (const adapter of ADAPTERS) {
  describe(`unique tasks on ${adapter.name}`, () => {
    test("a failed publish releases the uniqueness lock", async () => {
      const client = await openClient(adapter, "unique", { tasks: [report] });
      const stem = new Stem({
        broker: injectPublishFaults(client.broker, { method: "publish" }).store,
        backend: client.backend,
        lockStore: client.lockStore,
        tasks: [report],
      });
      await expect(stem.enqueue("unique.report", { day: "mon" })).rejects.toThrow("injected fault");
      // The key is free again: this enqueue publishes a real task.
      const id = await stem.enqueue("unique.report", { day: "mon" });
      expect(await stem.enqueue("unique.report", { day: "mon" })).toBe(id);
      const [stats] = await client.broker.stats(["default"]);
      expect(stats.pending).toBe(1);
      const worker = client.createWorker();
      await worker.start();
      expect((await client.waitForTask(id, { timeout: 20_000 })).value).toBe("mon");
    }, 30_000);
  });
}
