/**
 * A rate limiter store that fails, on a fake clock: fail-closed tasks wait in the broker
 * without spending an attempt and run once the store answers; fail-open tasks run
 * unlimited meanwhile. Either way the worker logs the outage once, not per task.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { MemoryRateLimiter } from "../../src/adapters/memory/rate-limiter.ts";
import { defineTask, FakeClock, StemClient } from "../../src/index.ts";
import { injectFaults } from "../../src/testing/faults.ts";
import { eventually } from "../../src/testing/harness.ts";
import { captureLogs } from "../fixtures/capture-logs.ts";

const captured = captureLogs();
const opened: StemClient[] = [];
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close();
});

const lines = (type: string, text: string) =>
  captured.records.filter((r) => r.type === type && r.args.join(" ").includes(text));

describe("rate limiter store outage", () => {
  test("fail closed: tasks wait in the broker, spend no attempt, and run when the store is back", async () => {
    const clock = new FakeClock();
    const ran: number[] = [];
    const task = defineTask<{ n: number }>({
      name: "closed",
      options: { rateLimit: "100/s", maxRetries: 3 },
      run: (_ctx, { n }) => void ran.push(n),
    });
    const client = await StemClient.inMemory({ tasks: [task], clock });
    opened.push(client);
    // The first call and the first probe fail; the second probe finds the store back.
    const faulty = injectFaults(new MemoryRateLimiter(clock), { method: "acquire", times: 2 });
    const ids = await Promise.all([1, 2, 3].map((n) => task.enqueue(client, { n })));
    await client.createWorker({ rateLimiter: faulty.store, concurrency: 3 }).start();

    await eventually(async () => (await client.broker.stats(["default"]))[0].delayed === 3);
    expect(ran).toEqual([]);
    // One call found the store down; the others did not wait on it.
    expect(faulty.calls("acquire")).toBe(1);
    await clock.advance(2000);
    await eventually(() => faulty.calls("acquire") === 2, 3000, "the probe");
    await eventually(async () => (await client.broker.stats(["default"]))[0].delayed === 3);
    expect(ran).toEqual([]);
    await eventually(async () => {
      await clock.advance(100);
      return ran.length === 3;
    }, 5000);
    for (const id of ids) {
      const status = await client.getTaskStatus(id);
      expect(status).toMatchObject({ state: "succeeded", attempt: 1 });
    }
    expect(lines("warn", "rate limiter store is unreachable")).toHaveLength(1);
    expect(lines("warn", "injected fault")).toHaveLength(1);
    expect(lines("info", "rate limiter store answers again")).toHaveLength(1);
    expect(captured.records.filter((r) => r.type === "error")).toEqual([]);
  });

  test("fail open: tasks run without their limit while the store is down", async () => {
    const clock = new FakeClock();
    const ran: number[] = [];
    const task = defineTask<{ n: number }>({
      name: "open",
      options: { rateLimit: "1/h", rateLimitFailMode: "open" },
      run: (_ctx, { n }) => void ran.push(n),
    });
    const client = await StemClient.inMemory({ tasks: [task], clock });
    opened.push(client);
    const faulty = injectFaults(new MemoryRateLimiter(clock), {
      method: "acquire",
      times: Number.POSITIVE_INFINITY,
    });
    await Promise.all([1, 2, 3, 4].map((n) => task.enqueue(client, { n })));
    await client.createWorker({ rateLimiter: faulty.store, concurrency: 2 }).start();
    await eventually(() => ran.length === 4, 5000, "every task to run");
    expect(lines("warn", "rate limiter store is unreachable")).toHaveLength(1);
  });
});
