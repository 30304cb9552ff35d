/**
 * Task callbacks (`link` / `linkError`) on every adapter: enqueued by a producer that
 * registers no tasks (the callbacks travel in the envelope), continued by a worker, and
 * started exactly once when the callback's publish fails, when its reply is lost, and
 * when the task's settling runs again after the callback already ran (a worker that died
 * between starting the callback and acking the task).
 */
import { afterEach, describe, expect, test } from "bun:test";
import {
  type Broker,
  defineTask,
  type Envelope,
  Stem,
  StemClient,
  type TaskStatus,
} from "../../src/index.ts";
import { type FaultPlan, injectPublishFaults } from "../../src/testing/faults.ts";
import { eventually, sleep } from "../../src/testing/harness.ts";
import { openTestStore, type StoreKind } from "./fixtures/test-stores.ts";

const TIMEOUT = 60_000;
/** Short, so a task whose settling failed comes back soon. */
const LEASE = "1s";

/** Handler runs per task id, to prove what ran once. */
const runs = new Map<string, number>();
const ran = (id: string) => runs.set(id, (runs.get(id) ?? 0) + 1);
/** What each callback got, by its id. */
const got = new Map<string, { args: Record<string, unknown>; previous: unknown }>();

const double = defineTask<{ n: number }>({
  name: "lk.double",
  run: (ctx, { n }) => {
    ran(ctx.id);
    return n * 2;
  },
});
const broken = defineTask({
  name: "lk.broken",
  run: (ctx) => {
    ran(ctx.id);
    throw new TypeError("no such invoice");
  },
});
const notify = defineTask({
  name: "lk.notify",
  run: (ctx) => {
    ran(ctx.id);
    got.set(ctx.id, { args: ctx.args, previous: ctx.previousResult });
    return "sent";
  },
});
const tasks = [double, broken, notify];

const KINDS: [string, StoreKind][] = [
  ["memory", "memory"],
  ["SQLite", "sqlite"],
  ["Redis", "redis"],
  ["Postgres", "postgres"],
];

for (const [name, kind] of KINDS) {
  describe(`task callbacks on ${name}`, () => {
    /** Closes what the test opened, last opened first. */
    const teardown: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const step of teardown.splice(0).reverse()) await step();
      runs.clear();
      got.clear();
    });

    /**
     * A worker client whose workers continue through a producer with `fault` on its broker,
     * and a producer that registers no tasks.
     */
    async function start(fault?: FaultPlan, onSettled?: (e: Envelope, s: TaskStatus) => void) {
      const store = await openTestStore(kind, "links");
      teardown.push(() => store.cleanup());
      const client = await StemClient.fromUrl(store.url, { tasks });
      teardown.push(() => client.close());
      const broker = fault ? injectPublishFaults<Broker>(client.broker, fault) : null;
      const continuing = new Stem({
        broker: broker?.store ?? client.broker,
        backend: client.backend,
        tasks: client.registry,
      });
      const worker = client.createWorker({
        stem: continuing,
        concurrency: 4,
        visibilityTimeout: LEASE,
        onSettled: onSettled ? [async (e, s) => onSettled(e, s)] : [],
      });
      await worker.start();
      const producer = new Stem({ broker: client.broker, backend: client.backend });
      return { client, broker, producer };
    }

    test(
      "a producer that registers no tasks links a success and an error callback",
      async () => {
        const { client, producer } = await start();
        const link = { name: "lk.notify", args: { to: "ops" }, previousAs: "value" };
        const ok = await producer.enqueue("lk.double", { n: 21 }, { link, linkError: link });
        const bad = await producer.enqueue("lk.broken", {}, { link, linkError: link });
        const okCallback = await client.waitForTask(`${ok}:link:0`, { timeout: "30s" });
        expect(okCallback.value).toBe("sent");
        expect(got.get(`${ok}:link:0`)).toEqual({ args: { to: "ops", value: 42 }, previous: 42 });
        const badCallback = await client.waitForTask(`${bad}:link-error:0`, { timeout: "30s" });
        expect(badCallback.state).toBe("succeeded");
        expect(got.get(`${bad}:link-error:0`)?.args).toMatchObject({
          to: "ops",
          failure: { id: bad, name: "lk.broken", error: { type: "TypeError" } },
        });
        expect((await client.getTaskStatus(ok))?.meta.callbacks).toEqual([`${ok}:link:0`]);
        expect((await client.getTaskStatus(bad))?.meta.callbacks).toEqual([`${bad}:link-error:0`]);
        expect(await client.getTaskStatus(`${ok}:link-error:0`)).toBeNull();
        expect(await client.getTaskStatus(`${bad}:link:0`)).toBeNull();
      },
      TIMEOUT,
    );

    test(
      "a success callback whose publish fails once still runs exactly once",
      async () => {
        const { client, broker, producer } = await start({ method: "publish", nth: 1 });
        const id = await producer.enqueue("lk.double", { n: 5 }, { link: notify.call({}) });
        const callback = await client.waitForTask(`${id}:link:0`, { timeout: "30s" });
        expect(callback.state).toBe("succeeded");
        expect(broker?.injected()).toBe(1);
        // The task ran again (its settling failed before the ack); its callback once.
        await eventually(async () => (await client.getTaskStatus(id))?.state === "succeeded");
        expect(runs.get(id)).toBe(2);
        expect(runs.get(`${id}:link:0`)).toBe(1);
        expect(got.get(`${id}:link:0`)?.previous).toBe(10);
      },
      TIMEOUT,
    );

    test(
      "an error callback whose publish is stored but whose reply is lost runs exactly once",
      async () => {
        const { client, broker, producer } = await start({
          method: "publish",
          nth: 1,
          when: "after",
        });
        const id = await producer.enqueue("lk.broken", {}, { linkError: notify.call({}) });
        const callback = await client.waitForTask(`${id}:link-error:0`, { timeout: "30s" });
        expect(callback.state).toBe("succeeded");
        expect(broker?.injected()).toBe(1);
        // The task's redelivery finds the callback published and does not send it again.
        await eventually(async () => runs.get(id) === 2, 20_000, "the task's redelivery");
        await eventually(async () => (await client.getTaskStatus(id))?.state === "failed");
        await sleep(300);
        expect(runs.get(`${id}:link-error:0`)).toBe(1);
      },
      TIMEOUT,
    );

    test(
      "settling a task again after its callback ran starts nothing more",
      async () => {
        const settled: [Envelope, TaskStatus][] = [];
        const { client, producer } = await start(undefined, (e, s) => settled.push([e, s]));
        const id = await producer.enqueue("lk.double", { n: 1 }, { link: notify.call({}) });
        await client.waitForTask(`${id}:link:0`, { timeout: "30s" });
        const [envelope, status] = settled.find(([e]) => e.id === id) ?? [];
        expect(envelope).toBeDefined();
        // As a redelivery would after a worker died before the ack: the hook runs again.
        await client.canvas.settledHook(envelope!, { ...status!, meta: {} });
        await sleep(300);
        expect(runs.get(`${id}:link:0`)).toBe(1);
        expect((await client.getTaskStatus(`${id}:link:0`))?.state).toBe("succeeded");
      },
      TIMEOUT,
    );
  });
}
