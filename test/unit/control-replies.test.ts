import { afterEach, describe, expect, test } from "bun:test";
import { defineTask, sendControl, StemClient } from "../../src/index.ts";

const opened: StemClient[] = [];
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close();
});

describe("gathering control replies", () => {
  test("ends as soon as every expected worker replied, long before the timeout", async () => {
    const client = await StemClient.inMemory({ tasks: [defineTask({ name: "x", run: () => 1 })] });
    opened.push(client);
    await client.createWorker({ workerId: "w-1" }).start();
    await client.createWorker({ workerId: "w-2" }).start();
    const started = Date.now();
    const replies = await sendControl(client.controlBus, "ping", {
      expected: ["w-1", "w-2"],
      timeoutMs: 30_000,
    });
    expect(replies.map((r) => r.workerId)).toEqual(["w-1", "w-2"]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test("an expected worker that does not reply keeps gathering until the timeout", async () => {
    const client = await StemClient.inMemory({ tasks: [defineTask({ name: "x", run: () => 1 })] });
    opened.push(client);
    await client.createWorker({ workerId: "w-1" }).start();
    const started = Date.now();
    const replies = await sendControl(client.controlBus, "ping", {
      expected: ["w-1", "w-gone"],
      timeoutMs: 300,
    });
    expect(replies.map((r) => r.workerId)).toEqual(["w-1"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });
});
