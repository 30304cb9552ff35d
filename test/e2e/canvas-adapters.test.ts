/**
 * The core canvas scenarios on every persistent adapter, through `StemClient.fromUrl`:
 * SQLite (a temp file), Redis (127.0.0.1:6379 under a fresh key prefix) and Postgres
 * (the `test` database under a fresh schema). An unreachable server fails the suite.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CanvasError, chain, group, StemClient, task, type Worker } from "../../src/index.ts";
import { canvasTasks, releaseHangingTasks } from "./fixtures/canvas-tasks.ts";
import {
  postgresStore,
  redisStore,
  sqliteStore,
  type TestStore,
} from "./fixtures/canvas-stores.ts";

const TIMEOUT = 30_000;

async function failure(promise: Promise<unknown>): Promise<CanvasError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CanvasError);
    return error as CanvasError;
  }
  throw new Error("expected the canvas to fail");
}

function canvasScenarios(name: string, open: () => Promise<TestStore>): void {
  describe(`canvas on ${name}`, () => {
    let store: TestStore | undefined;
    let client: StemClient;
    let worker: Worker;

    beforeAll(async () => {
      store = await open();
      client = await StemClient.fromUrl(store.url, { tasks: canvasTasks });
      worker = client.createWorker({ concurrency: 8 });
      await worker.start();
    }, TIMEOUT);

    afterAll(async () => {
      await client?.close();
      await store?.cleanup();
    }, TIMEOUT);

    test(
      "a chain passes each result to the next step and stores its record",
      async () => {
        const handle = await client.canvas.chain([
          task("cv.add", { a: 1, b: 2 }),
          task("cv.times", { by: 10 }, { previousAs: "value" }),
          task("cv.times", { by: 2 }, { previousAs: "value" }),
        ]);
        expect(await handle.get({ timeout: "20s" })).toBe(60);
        const record = await client.getTaskStatus(handle.id);
        expect(record).toMatchObject({ name: "stem.chain", state: "succeeded", result: 60 });
        expect((await handle.members()).map((m) => m.result)).toEqual([3, 30, 60]);
      },
      TIMEOUT,
    );

    test(
      "a group returns results in the order given while members finish in reverse",
      async () => {
        const handle = await client.canvas.group(
          [400, 250, 100, 0].map((ms, i) => task("cv.nap", { ms, value: `m${i}` })),
        );
        expect(await handle.get({ timeout: "20s" })).toEqual(["m0", "m1", "m2", "m3"]);
        const finishedAt = (await handle.members()).map((m) => m.status?.finishedAt ?? 0);
        expect(finishedAt[3]).toBeLessThan(finishedAt[0]);
        expect(await handle.status()).toMatchObject({ state: "succeeded", completed: 4, total: 4 });
      },
      TIMEOUT,
    );

    test(
      "a chord runs its callback with the ordered results",
      async () => {
        const handle = await client.canvas.chord(
          [
            task("cv.nap", { ms: 200, value: "a" }),
            task("cv.nap", { ms: 0, value: "b" }),
            task("cv.nap", { ms: 100, value: "c" }),
          ],
          task("cv.collect"),
        );
        expect(await handle.get({ timeout: "20s" })).toEqual({
          results: ["a", "b", "c"],
          previous: ["a", "b", "c"],
        });
        expect((await client.getTaskStatus(handle.id))?.name).toBe("stem.chord");
      },
      TIMEOUT,
    );

    test(
      "a failing chain step leaves the rest not run",
      async () => {
        const handle = await client.canvas.chain([
          task("cv.add", { a: 1, b: 1 }),
          task("cv.boom", { message: "step failed" }),
          task("cv.times", { by: 2 }, { previousAs: "value" }),
        ]);
        const error = await failure(handle.get({ timeout: "20s" }));
        const members = await handle.members();
        expect(error.memberId).toBe(members[1].id);
        expect(error.memberError).toMatchObject({ type: "RangeError", message: "step failed" });
        expect(members.map((m) => m.state)).toEqual(["succeeded", "failed", "revoked"]);
        expect(members[2].status?.meta.reason).toBe("chain-aborted");
      },
      TIMEOUT,
    );

    test(
      "a failing group member fails the group with its error",
      async () => {
        const handle = await client.canvas.group([
          task("cv.nap", { ms: 100, value: 1 }),
          task("cv.boom", { message: "member failed" }),
        ]);
        const error = await failure(handle.get({ timeout: "20s" }));
        expect(error.memberError.message).toBe("member failed");
        expect((await handle.members()).map((m) => m.state)).toEqual(["succeeded", "failed"]);
      },
      TIMEOUT,
    );

    test(
      "a failing chord member keeps the callback from running",
      async () => {
        const handle = await client.canvas.chord(
          [task("cv.add", { a: 1, b: 1 }), task("cv.boom", { message: "chord member failed" })],
          task("cv.collect"),
        );
        const error = await failure(handle.get({ timeout: "20s" }));
        expect(error.memberError.message).toBe("chord member failed");
        const members = await handle.members();
        expect(members[2]).toMatchObject({ role: "callback", state: "revoked" });
        expect(members[2].status?.meta.reason).toBe("chord-aborted");
      },
      TIMEOUT,
    );

    test(
      'a chord with onMemberFailure "partial" runs its callback with the results there are',
      async () => {
        const handle = await client.canvas.chord(
          [task("cv.add", { a: 1, b: 1 }), task("cv.boom", { message: "lost one" })],
          task("cv.collect"),
          { onMemberFailure: "partial" },
        );
        const result = (await handle.get({ timeout: "20s" })) as { results: unknown[] };
        expect(result.results).toEqual([2, null]);
        expect(await handle.status()).toMatchObject({ state: "succeeded", completed: 2 });
      },
      TIMEOUT,
    );

    test(
      "a chord whose members have not settled by its timeout fails with chord-timeout; the late member starts nothing",
      async () => {
        const handle = await client.canvas.chord(
          [task("cv.add", { a: 1, b: 1 }), task("cv.hang", { value: 2 })],
          task("cv.collect"),
          { timeout: "300ms" },
        );
        const error = await failure(handle.get({ timeout: "20s" }));
        expect(error.memberError.type).toBe("ChordTimeout");
        const [, late, callback] = await handle.members();
        const record = await client.getTaskStatus(handle.id);
        expect(record?.meta).toMatchObject({ reason: "chord-timeout", missing: [late.id] });
        releaseHangingTasks();
        await client.waitForTask(late.id, { timeout: "20s" });
        expect(await handle.status()).toMatchObject({ state: "failed", completed: 2 });
        expect((await client.getTaskStatus(callback.id))?.state).toBe("revoked");
      },
      TIMEOUT,
    );

    test(
      "nested: a group in a chain, a chain in a group, a chord with a chain callback",
      async () => {
        const groupInChain = await client.canvas.chain([
          task("cv.add", { a: 1, b: 2 }),
          group([
            task("cv.times", { by: 2 }, { previousAs: "value" }),
            task("cv.times", { by: 3 }, { previousAs: "value" }),
          ]),
          task("cv.sum", {}, { previousAs: "results" }),
        ]);
        const chainInGroup = await client.canvas.group([
          chain([
            task("cv.nap", { ms: 100, value: 4 }),
            task("cv.times", { by: 10 }, { previousAs: "value" }),
          ]),
          task("cv.add", { a: 5, b: 5 }),
        ]);
        const chainCallback = await client.canvas.chord(
          [task("cv.add", { a: 1, b: 2 }), task("cv.add", { a: 3, b: 4 })],
          chain([task("cv.sum"), task("cv.times", { by: 2 }, { previousAs: "value" })]),
        );
        expect(await groupInChain.get({ timeout: "20s" })).toBe(15);
        expect(await chainInGroup.get({ timeout: "20s" })).toEqual([40, 10]);
        expect(await chainCallback.get({ timeout: "20s" })).toBe(20);
      },
      TIMEOUT,
    );
  });
}

canvasScenarios("SQLite", sqliteStore);
canvasScenarios("Redis", redisStore);
canvasScenarios("Postgres", postgresStore);
