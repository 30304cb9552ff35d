/**
 * Canvas continuations under store faults, on every adapter. A worker continues canvases
 * through a producer whose broker or result backend fails one chosen call (injectFaults):
 * the settling member's hook fails, the member is redelivered after its lease, and its
 * second run must finish what the first started — each later step and each chord callback
 * runs exactly once, and the canvas completes.
 */
import { afterEach, describe, expect, test } from "bun:test";
import {
  type Broker,
  defineTask,
  type ResultBackend,
  Stem,
  StemClient,
  task,
} from "../../src/index.ts";
import { type FaultPlan, injectFaults, injectPublishFaults } from "../../src/testing/faults.ts";
import { eventually } from "../../src/testing/harness.ts";
import { ALL_STORES, type TestStore } from "./fixtures/canvas-stores.ts";

const TIMEOUT = 60_000;
/** Short, so a member whose hook failed comes back soon. */
const LEASE = "1s";

/** Handler runs per task id, to prove what ran once. */
const runs = new Map<string, number>();
const ran = (id: string) => runs.set(id, (runs.get(id) ?? 0) + 1);

const add = defineTask<{ a: number; b: number }>({
  name: "cf.add",
  run: (ctx, { a, b }) => {
    ran(ctx.id);
    return a + b;
  },
});
const times = defineTask<{ value: number; by: number }>({
  name: "cf.times",
  run: (ctx, { value, by }) => {
    ran(ctx.id);
    return value * by;
  },
});
const sum = defineTask<{ results: number[] }>({
  name: "cf.sum",
  run: (ctx, { results }) => {
    ran(ctx.id);
    return results.reduce((n, v) => n + v, 0);
  },
});
const tasks = [add, times, sum];

interface Faulty {
  broker?: FaultPlan;
  backend?: FaultPlan;
  /** Resend a claimChord whose call failed, as postgres.js and ioredis do after a reconnect. */
  resendClaims?: boolean;
  /**
   * The first settle of a task with this name fails after its canvas was continued (as
   * when the worker dies there), so it is redelivered; the next read of a status of
   * `staleTask` then returns it as it was before that task ran.
   */
  crashAfterContinuing?: { task: string; staleTask: string };
}

/**
 * `backend` whose first status read after `armed()` holding a status of `name` answers
 * with the status that task had before it ran: a read that raced with its run.
 */
function staleOnce(backend: ResultBackend, name: string, armed: () => boolean): ResultBackend {
  let used = false;
  return new Proxy(backend, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key !== "getMany") return value;
      return async (ids: string[]) => {
        const found = await target.getMany(ids);
        if (used || !armed()) return found;
        const at = found.findIndex((status) => status?.name === name);
        if (at < 0) return found;
        used = true;
        const ran = found[at]!;
        // Wait for it to have run, then answer as if read before.
        await eventually(
          async () => {
            const [now] = await target.getMany([ran.id]);
            return now?.state === "succeeded";
          },
          20_000,
          `task ${ran.id} to run`,
        );
        return found.map((status, i) =>
          i === at ? { ...ran, state: "queued" as const, result: undefined } : status,
        );
      };
    },
  });
}

/** `backend` with a failed claimChord sent once more inside the same call. */
function resendingClaims(backend: ResultBackend): ResultBackend {
  return new Proxy(backend, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key !== "claimChord") return value;
      return async (groupId: string, owner: string) => {
        try {
          return await target.claimChord(groupId, owner);
        } catch {
          return target.claimChord(groupId, owner);
        }
      };
    },
  });
}

function faultScenarios(name: string, open: () => Promise<TestStore>): void {
  describe(`canvas under faults on ${name}`, () => {
    let store: TestStore | undefined;
    let client: StemClient | undefined;

    afterEach(async () => {
      await client?.close();
      await store?.cleanup();
      client = undefined;
      store = undefined;
      runs.clear();
    });

    /** A client whose workers continue canvases through a producer with the given faults. */
    async function start(faults: Faulty) {
      store = await open();
      client = await StemClient.fromUrl(store.url, { tasks });
      const broker = faults.broker
        ? injectPublishFaults<Broker>(client.broker, faults.broker)
        : null;
      const backend = faults.backend
        ? injectFaults<ResultBackend>(client.backend, faults.backend)
        : null;
      let crashed = false;
      const crash = faults.crashAfterContinuing;
      let faultyBackend = backend?.store ?? client.backend;
      if (faults.resendClaims) faultyBackend = resendingClaims(faultyBackend);
      if (crash) faultyBackend = staleOnce(faultyBackend, crash.staleTask, () => crashed);
      const continuing = new Stem({
        broker: broker?.store ?? client.broker,
        backend: faultyBackend,
        tasks: client.registry,
      });
      const worker = client.createWorker({
        stem: continuing,
        concurrency: 8,
        visibilityTimeout: LEASE,
        // Runs after the canvas hook has continued the canvas.
        onSettled: crash
          ? [
              async (envelope) => {
                if (envelope.name !== crash.task || crashed) return;
                crashed = true;
                throw new Error("the worker died after continuing the canvas");
              },
            ]
          : [],
      });
      await worker.start();
      return { client, broker, backend };
    }

    test(
      "a 3-step chain completes exactly once when the publish of step 2 fails once",
      async () => {
        const { client, broker } = await start({ broker: { method: "publish", nth: 1 } });
        const handle = await client.canvas.chain([
          task("cf.add", { a: 1, b: 2 }),
          task("cf.times", { by: 10 }, { previousAs: "value" }),
          task("cf.times", { by: 2 }, { previousAs: "value" }),
        ]);
        expect(await handle.get({ timeout: "30s" })).toBe(60);
        expect(broker?.injected()).toBe(1);
        const members = await handle.members();
        expect(members.map((m) => m.state)).toEqual(["succeeded", "succeeded", "succeeded"]);
        // Step 1 ran again (its hook failed before the ack); the steps after it ran once.
        expect(runs.get(members[0].id)).toBe(2);
        expect(runs.get(members[1].id)).toBe(1);
        expect(runs.get(members[2].id)).toBe(1);
        expect(await handle.status()).toMatchObject({ state: "succeeded", completed: 3 });
      },
      TIMEOUT,
    );

    test(
      "a 3-step chain runs each later step once when the publish of step 2 is stored but its reply is lost",
      async () => {
        const { client, broker } = await start({
          broker: { method: "publish", nth: 1, when: "after" },
        });
        const handle = await client.canvas.chain([
          task("cf.add", { a: 2, b: 3 }),
          task("cf.times", { by: 10 }, { previousAs: "value" }),
          task("cf.times", { by: 3 }, { previousAs: "value" }),
        ]);
        expect(await handle.get({ timeout: "30s" })).toBe(150);
        expect(broker?.injected()).toBe(1);
        const members = await handle.members();
        // Step 1's redelivery found step 2 published (and run): it was not sent again.
        await eventually(async () => runs.get(members[0].id) === 2, 10_000, "step 1's redelivery");
        await eventually(
          async () => (await client.broker.stats(["default"]))[0].inflight === 0,
          10_000,
          "step 1's redelivery to be acked",
        );
        expect(runs.get(members[1].id)).toBe(1);
        expect(runs.get(members[2].id)).toBe(1);
      },
      TIMEOUT,
    );

    test(
      "a chain's next step that ran while its previous step's redelivery was continuing the chain is not started again",
      async () => {
        const { client } = await start({
          crashAfterContinuing: { task: "cf.add", staleTask: "cf.times" },
        });
        const handle = await client.canvas.chain([
          task("cf.add", { a: 1, b: 1 }),
          task("cf.times", { by: 5 }, { previousAs: "value" }),
        ]);
        expect(await handle.get({ timeout: "30s" })).toBe(10);
        const members = await handle.members();
        await eventually(async () => runs.get(members[0].id) === 2, 20_000, "step 1's redelivery");
        await eventually(
          async () => (await client.broker.stats(["default"]))[0].inflight === 0,
          10_000,
          "step 1's redelivery to be acked",
        );
        expect(runs.get(members[1].id)).toBe(1);
        expect((await client.getTaskStatus(members[1].id))?.state).toBe("succeeded");
        expect((await client.broker.stats(["default"]))[0].pending).toBe(0);
      },
      TIMEOUT,
    );

    test(
      "a chord's callback runs exactly once when its publish fails once",
      async () => {
        const { client, broker } = await start({ broker: { method: "publish", nth: 1 } });
        const handle = await client.canvas.chord(
          Array.from({ length: 5 }, (_, i) => task("cf.add", { a: i, b: 0 })),
          task("cf.sum"),
        );
        expect(await handle.get({ timeout: "30s" })).toBe(10);
        expect(broker?.injected()).toBe(1);
        const callback = (await handle.members())[5];
        expect(callback).toMatchObject({ role: "callback", state: "succeeded" });
        expect(runs.get(callback.id)).toBe(1);
      },
      TIMEOUT,
    );

    test(
      "a 50-member chord's callback runs exactly once when claimChord's reply is lost and the client resends the claim",
      async () => {
        const { client, backend } = await start({
          backend: { method: "claimChord", nth: 1, when: "after" },
          resendClaims: true,
        });
        const handle = await client.canvas.chord(
          Array.from({ length: 50 }, (_, i) => task("cf.add", { a: i, b: 0 })),
          task("cf.sum"),
        );
        expect(await handle.get({ timeout: "30s" })).toBe((50 * 49) / 2);
        expect(backend?.injected()).toBe(1);
        // The resent claim was the winner's own: it won again, in the same settle.
        expect(backend?.calls("claimChord")).toBe(2);
        const members = await handle.members();
        expect(runs.get(members[50].id)).toBe(1);
        // No member ran twice: nothing was redelivered.
        expect(members.slice(0, 50).every((m) => runs.get(m.id) === 1)).toBe(true);
      },
      TIMEOUT,
    );

    test(
      "a 50-member chord's callback runs exactly once when claimChord's reply is lost and the member is redelivered",
      async () => {
        const { client, backend } = await start({
          backend: { method: "claimChord", nth: 1, when: "after" },
        });
        const handle = await client.canvas.chord(
          Array.from({ length: 50 }, (_, i) => task("cf.add", { a: i, b: 0 })),
          task("cf.sum"),
        );
        expect(await handle.get({ timeout: "30s" })).toBe((50 * 49) / 2);
        expect(backend?.injected()).toBe(1);
        // The retry came from the same member, and it won the claim again.
        expect(backend?.calls("claimChord")).toBeGreaterThanOrEqual(2);
        const callback = (await handle.members())[50];
        expect(runs.get(callback.id)).toBe(1);
        expect(await handle.status()).toMatchObject({ state: "succeeded", completed: 50 });
      },
      TIMEOUT,
    );
  });
}

for (const [name, open] of ALL_STORES) faultScenarios(name, open);
