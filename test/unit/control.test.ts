import { afterEach, describe, expect, test } from "bun:test";
import { defineTask, FakeStem, sendControl, StemClient } from "../../src/index.ts";
import { eventually, sleep } from "../../src/testing/harness.ts";

const opened: StemClient[] = [];
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close();
});

describe("worker control", () => {
  test("ping reaches every live worker; stats and inspect describe them", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const job = defineTask({ name: "held", run: () => gate });
    const client = await StemClient.inMemory({ tasks: [job] });
    opened.push(client);
    const a = client.createWorker({ workerId: "w-a" });
    const b = client.createWorker({ workerId: "w-b" });
    await a.start();
    await b.start();
    const pongs = await sendControl(client.controlBus, "ping", { timeoutMs: 200 });
    expect(pongs.map((r) => r.workerId)).toEqual(["w-a", "w-b"]);
    const id = await client.enqueue("held");
    await eventually(() => a.stats().inflight + b.stats().inflight === 1);
    const inspected = await sendControl(client.controlBus, "inspect", { timeoutMs: 200 });
    const active = inspected.flatMap((r) => r.payload.active as { id: string }[]);
    expect(active.map((t) => t.id)).toEqual([id]);
    const stats = await sendControl(client.controlBus, "stats", {
      workers: ["w-b"],
      timeoutMs: 1000,
    });
    expect(stats.map((r) => r.workerId)).toEqual(["w-b"]);
    expect(stats[0].payload).toMatchObject({ workerId: "w-b", concurrency: 10 });
    release();
  });

  test("pause stops fetching from a queue until resume", async () => {
    const job = defineTask({ name: "p", run: () => "ran" });
    const client = await StemClient.inMemory({ tasks: [job] });
    opened.push(client);
    const worker = client.createWorker({ workerId: "w-p" });
    await worker.start();
    await sendControl(client.controlBus, "pause", {
      payload: { queues: ["default"] },
      timeoutMs: 100,
    });
    const id = await client.enqueue("p");
    await sleep(400);
    expect((await client.getTaskStatus(id))?.state).toBe("queued");
    await sendControl(client.controlBus, "resume", {
      payload: { queues: ["default"] },
      timeoutMs: 100,
    });
    expect((await client.waitForTask(id, { timeout: 3000 })).value).toBe("ran");
  });

  test("shutdown stops a worker gracefully", async () => {
    const client = await StemClient.inMemory({ tasks: [defineTask({ name: "x", run: () => 1 })] });
    opened.push(client);
    const worker = client.createWorker({ workerId: "w-s" });
    await worker.start();
    const replies = await sendControl(client.controlBus, "shutdown", {
      workers: ["w-s"],
      timeoutMs: 1000,
    });
    expect(replies[0].payload.mode).toBe("warm");
    await worker.done;
    expect(await sendControl(client.controlBus, "ping", { timeoutMs: 100 })).toEqual([]);
  });
});

describe("typed tasks and test helpers", () => {
  test("a typed definition encodes args and builds enqueues fluently", async () => {
    const hello = defineTask<{ name: string }, string>({
      name: "demo.hello",
      encodeArgs: (a) => ({ who: a.name }),
      run: (ctx) => `hello ${(ctx.args as unknown as { who: string }).who}`,
    });
    const fake = new FakeStem();
    await hello
      .with({ name: "Tenant A" })
      .header("x-tenant", "tenant-a")
      .priority(5)
      .delay("30s")
      .enqueueWith(fake);
    expect(fake.enqueues[0]).toMatchObject({
      name: "demo.hello",
      args: { who: "Tenant A" },
      options: { headers: { "x-tenant": "tenant-a" }, priority: 5, delay: "30s" },
    });
    const client = await StemClient.inMemory({ tasks: [hello] });
    opened.push(client);
    await client.createWorker().start();
    const id = await hello.enqueue(client, { name: "Stem" });
    expect((await client.waitForTask(id, { timeout: 3000 })).value).toBe("hello Stem");
  });

  test("a delayed enqueue is held until its time", async () => {
    const client = await StemClient.inMemory({
      tasks: [defineTask({ name: "later", run: () => Date.now() })],
    });
    opened.push(client);
    await client.createWorker().start();
    const before = Date.now();
    const id = await client.enqueue("later", {}, { delay: "300ms" });
    const result = await client.waitForTask<number>(id, { timeout: 3000 });
    expect(result.value! - before).toBeGreaterThanOrEqual(290);
  });
});
