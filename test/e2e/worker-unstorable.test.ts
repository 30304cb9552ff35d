/**
 * Unstorable outcomes fail alone, on every adapter: a handler returning a BigInt, a
 * circular object or a string with \u0000 (which Postgres refuses) ends `failed` with an
 * error naming the problem and goes to the dead letters, while the tasks that finished
 * in the same batch are stored and acked, each run once.
 */
import { describe, expect, test } from "bun:test";
import { defineTask, StemClient } from "../../src/index.ts";
import { eventually } from "../../src/testing/harness.ts";
import { openTestStore, type StoreKind } from "./fixtures/test-stores.ts";

const KINDS: StoreKind[] = ["memory", "sqlite", "redis", "postgres"];

for (const kind of KINDS) {
  describe(`unstorable outcomes on ${kind}`, () => {
    test("a BigInt, circular or NUL result fails alone while the rest of its batch succeeds", async () => {
      const store = await openTestStore(kind, "un");
      const runs = new Map<string, number>();
      const count = (id: string) => runs.set(id, (runs.get(id) ?? 0) + 1);
      const release = Promise.withResolvers<void>();
      // Every task waits for the same moment, so their outcomes share one batched write.
      const together = async (id: string) => {
        count(id);
        await release.promise;
      };
      const tasks = [
        defineTask<{ i: number }>({
          name: "un.ok",
          run: async (ctx, { i }) => {
            await together(ctx.id);
            return { i };
          },
        }),
        defineTask({
          name: "un.bigint",
          run: async (ctx) => {
            await together(ctx.id);
            return { total: 10n };
          },
        }),
        defineTask({
          name: "un.circular",
          run: async (ctx) => {
            await together(ctx.id);
            const node: Record<string, unknown> = { name: "a" };
            node.next = { back: node };
            return node;
          },
        }),
        defineTask({
          name: "un.nul",
          run: async (ctx) => {
            await together(ctx.id);
            return { text: "a\u0000b" };
          },
        }),
        defineTask({
          name: "un.progress",
          run: async (ctx) => {
            await together(ctx.id);
            try {
              await ctx.progress(50, { rows: 1n });
            } catch (error) {
              return `refused: ${(error as Error).message}`;
            }
            return "stored";
          },
        }),
      ];
      const client = await StemClient.fromUrl(store.url, { tasks });
      try {
        const worker = client.createWorker({ concurrency: 40 });
        await worker.start();
        const ok = await client.stem.enqueueMany(
          Array.from({ length: 30 }, (_, i) => ({ name: "un.ok", args: { i }, options: {} })),
        );
        const [big, circular, nul, progress] = await Promise.all(
          ["un.bigint", "un.circular", "un.nul", "un.progress"].map((n) => client.enqueue(n)),
        );
        const all = [...ok, big, circular, nul, progress];
        for (let i = 0; i < 200 && all.some((id) => !runs.has(id)); i++) await Bun.sleep(25);
        release.resolve();

        const expectFailed = async (id: string, message: string) => {
          const result = await client.waitForTask(id, { timeout: 15_000 });
          expect(result.state).toBe("failed");
          expect(result.error?.message).toBe(message);
          expect(result.error?.type).toBe("UnstorableValueError");
          const dead = await eventually(
            async () => (await client.broker.getDeadLetter(id)) ?? undefined,
            5000,
          );
          expect(dead.reason).toBe("max-retries-exhausted");
        };
        await expectFailed(big, "result is not JSON: BigInt at $.total");
        await expectFailed(circular, "result is not JSON: circular reference at $.next.back");
        await expectFailed(
          nul,
          "result is not JSON: NUL character (\\u0000) in a string at $.text",
        );
        const p = await client.waitForTask(progress, { timeout: 15_000 });
        expect(p.value).toBe("refused: progress data is not JSON: BigInt at $.rows");
        for (const [i, id] of ok.entries()) {
          const r = await client.waitForTask(id, { timeout: 15_000 });
          expect(r.state).toBe("succeeded");
          expect(r.value).toEqual({ i });
        }
        for (const id of all) expect(runs.get(id)).toBe(1);
        const [stats] = await client.broker.stats(["default"]);
        expect(stats).toMatchObject({ pending: 0, inflight: 0, delayed: 0, dead: 3 });
      } finally {
        await client.close();
        await store.cleanup();
      }
    }, 40_000);
  });
}
