/**
 * A per-call `unique` deduplicates from any producer, including one that does not register
 * the task (as `stem enqueue` without --tasks), on every adapter; a worker's success frees it.
 */
import { describe, expect, test } from "bun:test";
import { defineTask, Stem, StemClient } from "../../src/index.ts";
import { openTestStore, type StoreKind } from "./fixtures/test-stores.ts";

const kinds: StoreKind[] = ["memory", "sqlite", "redis", "postgres"];
const report = defineTask<{ day: string }>({ name: "u.report", run: (_c, { day }) => day });

for (const kind of kinds) {
  describe(`per-call unique (${kind})`, () => {
    test("a producer without the task's registration deduplicates by key until it ran", async () => {
      const store = await openTestStore(kind, "uniq");
      const runner = await StemClient.fromUrl(store.url, { tasks: [report] });
      // A producer on the same stores that does not register the task.
      const producer = new Stem({
        broker: runner.broker,
        backend: runner.backend,
        lockStore: runner.lockStore,
      });
      try {
        const first = await producer.enqueue(
          "u.report",
          { day: "mon" },
          { unique: { key: "daily", ttl: "1m" } },
        );
        const again = await producer.enqueue(
          "u.report",
          { day: "tue" },
          { unique: { key: "daily" } },
        );
        expect(again).toBe(first);
        const byArgs = await producer.enqueue("u.report", { day: "wed" }, { unique: true });
        const byArgsAgain = await producer.enqueue("u.report", { day: "wed" }, { unique: true });
        expect(byArgsAgain).toBe(byArgs);
        expect(byArgs).not.toBe(first);
        const worker = runner.createWorker();
        await worker.start();
        expect((await runner.waitForTask(first, { timeout: 10_000 })).value).toBe("mon");
        // The success released the key: the next enqueue is a new task.
        const next = await producer.enqueue(
          "u.report",
          { day: "thu" },
          { unique: { key: "daily" } },
        );
        expect(next).not.toBe(first);
        expect((await runner.waitForTask(next, { timeout: 10_000 })).value).toBe("thu");
        await worker.shutdown();
      } finally {
        await runner.close();
        await store.cleanup();
      }
    }, 30_000);

    test("once waitForTask sees a unique task finish, its key is free (succeeded or failed)", async () => {
      const store = await openTestStore(kind, "uniqfree");
      const flaky = defineTask<{ fail: boolean }>({
        name: "u.flaky",
        options: { maxRetries: 0 },
        run: (_c, { fail }) => {
          if (fail) throw new Error("no");
          return "ok";
        },
      });
      const client = await StemClient.fromUrl(store.url, { tasks: [report, flaky] });
      // The worker's lock releases are slow, as over a slow link: the key must be free by
      // the time the final state can be seen, not some time after.
      const lockStore = client.lockStore;
      const slowRelease: typeof lockStore = Object.assign(Object.create(lockStore), {
        release: async (key: string, owner: string) => {
          await Bun.sleep(150);
          return lockStore.release(key, owner);
        },
      });
      const worker = client.createWorker({ lockStore: slowRelease });
      await worker.start();
      try {
        for (const [name, args] of [
          ["u.report", { day: "mon" }],
          ["u.flaky", { fail: true }],
        ] as const) {
          let previous = "";
          for (let round = 0; round < 3; round++) {
            const id = await client.enqueue(name, args, { unique: { key: "free", ttl: "1m" } });
            expect(id).not.toBe(previous);
            await client.waitForTask(id, { timeout: 10_000 });
            previous = id;
          }
        }
      } finally {
        await worker.shutdown();
        await client.close();
        await store.cleanup();
      }
    }, 30_000);
  });
}

test("a bad per-call unique is refused at enqueue", async () => {
  const client = await StemClient.inMemory();
  try {
    await expect(client.enqueue("x", {}, { unique: { key: "" } })).rejects.toThrow("unique.key");
    await expect(client.enqueue("x", {}, { unique: { ttl: "soon" } })).rejects.toThrow(
      "unique.ttl",
    );
  } finally {
    await client.close();
  }
});
