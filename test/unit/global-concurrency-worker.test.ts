/**
 * The worker's concurrency gate, in memory: bad limits are refused, a slot is renewed while
 * a task outlives its lease, a redelivery of a task still running takes a slot of its
 * own, and a slots store that fails sends the task back (no attempt counted) instead of
 * running it unlimited or crashing the worker.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { MemoryBroker } from "../../src/adapters/memory/broker.ts";
import { MemoryConcurrencySlots } from "../../src/adapters/memory/concurrency-slots.ts";
import {
  defineTask,
  FakeClock,
  StemApp,
  StemClient,
  systemClock,
  Worker,
} from "../../src/index.ts";
import { injectFaults } from "../../src/testing/faults.ts";
import { eventually } from "../../src/testing/harness.ts";
import { ConcurrencyGate } from "../../src/worker/concurrency-gate.ts";
import type { HeldTask } from "../../src/worker/task-runner.ts";

let client: StemClient | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

describe("global concurrency options", () => {
  test("a task's globalConcurrency must be a positive integer, named in the error", () => {
    for (const bad of [0, -1, 1.5])
      expect(() =>
        defineTask({ name: "x.bad", options: { globalConcurrency: bad }, run: () => {} }),
      ).toThrow(`task "x.bad": globalConcurrency must be a positive integer, got ${bad}`);
  });

  test("a queue's global concurrency must be a positive integer", async () => {
    client = await StemClient.inMemory();
    expect(() => client!.createWorker({ queueGlobalConcurrency: { emails: 0 } })).toThrow(
      'global concurrency of queue "emails" must be a positive integer, got 0',
    );
  });

  test("a queue limit without a slots store is refused", async () => {
    client = await StemClient.inMemory();
    expect(() =>
      client!.createWorker({
        concurrencySlots: undefined,
        queueGlobalConcurrency: { emails: 2 },
      }),
    ).toThrow("queueGlobalConcurrency needs concurrencySlots");
  });
});

describe("the concurrency gate in a worker", () => {
  test("a task that outlives its lease keeps its slot: the next one waits", async () => {
    const spans: string[] = [];
    const long = defineTask<{ n: number }>({
      name: "gate.long",
      // The slot's lease is the task's: 150 ms, renewed while the 600 ms handler runs.
      options: { globalConcurrency: 1, visibilityTimeout: 150 },
      run: async (_ctx, { n }) => {
        spans.push(`start ${n}`);
        await Bun.sleep(600);
        spans.push(`end ${n}`);
      },
    });
    const app = await StemApp.inMemory({ tasks: [long] });
    client = app;
    const ids = await app.stem.enqueueMany([0, 1].map((n) => ({ name: "gate.long", args: { n } })));
    for (const id of ids)
      expect((await app.waitForTask(id, { timeout: 10_000 })).state).toBe("succeeded");
    // Never two at once: each start follows the previous end.
    expect(spans[1]).toStartWith("end");
    expect(spans[2]).toStartWith("start");
  }, 20_000);

  test("a task redelivered to its own worker while it still runs waits for the first run", async () => {
    let running = 0;
    let peak = 0;
    let runs = 0;
    const task = defineTask({
      name: "gate.relapsed",
      options: { globalConcurrency: 1, visibilityTimeout: 150, maxDeliveries: 10 },
      run: async () => {
        runs++;
        peak = Math.max(peak, ++running);
        await Bun.sleep(500);
        running--;
      },
    });
    const app = await StemClient.inMemory({ tasks: [task] });
    client = app;
    // The first extensions fail: the first run's lease runs out and the broker hands the
    // task to this worker again while it runs.
    const broker = injectFaults(app.broker, { method: "extendLease", times: 4 });
    const worker = new Worker({
      broker: broker.store,
      backend: app.backend,
      tasks: [task],
      concurrencySlots: app.concurrencySlots,
    });
    await worker.start();
    const id = await app.enqueue("gate.relapsed", {});
    await eventually(() => runs >= 2, 10_000, "the redelivery runs");
    expect((await app.waitForTask(id, { timeout: 10_000 })).state).toBe("succeeded");
    await worker.shutdown();
    expect(broker.injected()).toBe(4);
    expect(peak).toBe(1);
  }, 20_000);

  test("a failing slots store sends the task back without counting an attempt", async () => {
    const slots = injectFaults(new MemoryConcurrencySlots(), { method: "acquire", times: 2 });
    const ran: number[] = [];
    const task = defineTask({
      name: "gate.faulty",
      options: { globalConcurrency: 1, maxDeliveries: 1 },
      run: (ctx) => void ran.push(ctx.attempt),
    });
    client = await StemClient.inMemory({ tasks: [task] });
    await client.createWorker({ concurrencySlots: slots.store }).start();
    const id = await client.enqueue("gate.faulty", {});
    const result = await client.waitForTask(id, { timeout: 15_000 });
    expect(result.state).toBe("succeeded");
    expect(slots.injected()).toBe(2);
    // It ran once, as its first attempt, and its one delivery was not spent by the faults.
    expect(ran).toEqual([1]);
  }, 20_000);
});

describe("the concurrency gate", () => {
  test("a task under a task limit and a queue limit takes both or neither", async () => {
    const slots = new MemoryConcurrencySlots();
    const gate = new ConcurrencyGate({
      workerId: "w",
      slots,
      broker: new MemoryBroker(),
      queueLimits: { emails: 1 },
      leaseOf: () => 5000,
      clock: systemClock,
    });
    const held = (id: string) =>
      ({
        delivery: { envelope: { id, name: "send" }, queue: "emails", deliveries: 1 },
        task: { options: { globalConcurrency: 2 } },
      }) as unknown as HeldTask;
    const first = held("t1");
    expect(await gate.enter(first)).toBe(0);
    expect((await slots.usage("task:send"))?.holders).toEqual(["w/t1#1"]);
    expect((await slots.usage("queue:emails"))?.holders).toEqual(["w/t1#1"]);
    // The task slot is free, the queue's is not: the second takes neither.
    const delay = await gate.enter(held("t2"));
    expect(delay).toBeGreaterThan(0);
    expect(delay).toBeLessThanOrEqual(60_000);
    expect((await slots.usage("task:send"))?.holders).toEqual(["w/t1#1"]);
    await gate.leave(first);
    expect((await slots.usage("task:send"))?.used).toBe(0);
    expect((await slots.usage("queue:emails"))?.used).toBe(0);
    expect(await gate.enter(held("t2"))).toBe(0);
    gate.stop();
  });

  test("a redelivery of a task still running here takes a slot of its own", async () => {
    const slots = new MemoryConcurrencySlots();
    const gate = new ConcurrencyGate({
      workerId: "w",
      slots,
      broker: new MemoryBroker(),
      queueLimits: {},
      leaseOf: () => 5000,
      clock: systemClock,
    });
    // The first delivery's lease ran out while it ran; the broker handed the task out again.
    const delivery = (deliveries: number) =>
      ({
        delivery: { envelope: { id: "t1", name: "send" }, queue: "q", deliveries },
        task: { options: { globalConcurrency: 1 } },
      }) as unknown as HeldTask;
    const first = delivery(1);
    expect(await gate.enter(first)).toBe(0);
    expect(await gate.enter(delivery(2))).toBeGreaterThan(0);
    expect((await slots.usage("task:send"))?.used).toBe(1);
    await gate.leave(first);
    expect(await gate.enter(delivery(2))).toBe(0);
    gate.stop();
  });

  test("tasks denied a slot get turns one slot interval apart, learnt from run times", async () => {
    const clock = new FakeClock();
    const slots = new MemoryConcurrencySlots(clock);
    const gate = new ConcurrencyGate({
      workerId: "w",
      slots,
      broker: new MemoryBroker(clock),
      queueLimits: {},
      leaseOf: () => 60_000,
      clock,
    });
    const held = (id: string) =>
      ({
        delivery: { envelope: { id, name: "render" }, queue: "default" },
        task: { options: { globalConcurrency: 2 } },
      }) as unknown as HeldTask;
    const running = [held("a"), held("b")];
    for (const h of running) expect(await gate.enter(h)).toBe(0);
    // No run seen yet: 200 ms assumed, so a slot frees every 100 ms; the first turn is 50 ms away.
    const before = [];
    for (const id of ["c", "d", "e"]) before.push(await gate.enter(held(id)));
    expect(before).toEqual([50, 150, 250]);
    // A run of 1 s seen: from now on a slot frees every 500 ms.
    await clock.advance(1000);
    await gate.leave(running[0]);
    const a2 = held("a2");
    expect(await gate.enter(a2)).toBe(0);
    expect(await gate.enter(held("f"))).toBe(50);
    expect(await gate.enter(held("g"))).toBe(550);
    expect(await gate.enter(held("h"))).toBe(1050);
    // The line empties (every task sent back got in): the next one is not put behind it.
    await gate.leave(running[1]);
    await gate.leave(a2);
    for (const id of ["c", "d", "e", "f", "g", "h"]) {
      const back = held(id);
      expect(await gate.enter(back)).toBe(0);
      await gate.leave(back);
    }
    const full = [held("y"), held("z")];
    for (const h of full) expect(await gate.enter(h)).toBe(0);
    expect(await gate.enter(held("late"))).toBe(50);
    gate.stop();
  });
});
