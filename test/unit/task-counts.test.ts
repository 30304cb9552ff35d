/** Workers count what they finish into the result backend's per-minute counters. */
import { afterEach, expect, test } from "bun:test";
import {
  histogramPercentile,
  minuteOf,
  sumCounts,
  taskSeries,
} from "../../src/core/minute-counts.ts";
import { defineTask, StemClient } from "../../src/index.ts";
import { injectFaults } from "../../src/testing/faults.ts";
import { eventually } from "../../src/testing/harness.ts";

let client: StemClient | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

let flakyRuns = 0;
const tasks = [
  defineTask({ name: "tc.ok", run: async () => Bun.sleep(30) }),
  defineTask({
    name: "tc.fail",
    run: () => {
      throw new Error("nope");
    },
  }),
  defineTask({
    name: "tc.flaky",
    options: { maxRetries: 1, retryBackoff: { kind: "fixed", delay: 10 } },
    run: () => {
      if (++flakyRuns === 1) throw new Error("once");
    },
  }),
  defineTask({ name: "tc.quiet", options: { ignoreResult: true }, run: () => 1 }),
];

async function countsNow(c: StemClient) {
  const now = Date.now();
  return sumCounts(
    await c.backend.readMinuteCounts({ from: minuteOf(now) - 120_000, to: now + 60_000 }),
  ).tasks;
}

test("succeeded, failed, retried and durations are counted per task name, ignoreResult tasks too", async () => {
  client = await StemClient.inMemory({ tasks });
  for (let i = 0; i < 3; i++) await client.enqueue("tc.ok");
  await client.enqueue("tc.fail");
  await client.enqueue("tc.flaky");
  await client.enqueue("tc.quiet");
  const worker = client.createWorker();
  await worker.start();
  const counts = await eventually(
    async () => {
      const c = await countsNow(client as StemClient);
      return c.get("tc.ok")?.succeeded === 3 &&
        c.get("tc.fail")?.failed === 1 &&
        c.get("tc.flaky")?.succeeded === 1 &&
        c.get("tc.quiet")?.succeeded === 1
        ? c
        : undefined;
    },
    15_000,
    "the counters",
  );
  expect(counts.get("tc.flaky")).toMatchObject({ retried: 1, failed: 0 });
  const ok = counts.get("tc.ok");
  expect([...(ok?.buckets.values() ?? [])].reduce((a, b) => a + b, 0)).toBe(3);
  // Each run slept 30 ms: the median read from the histogram is within a bucket of it.
  const p50 = histogramPercentile(ok?.buckets ?? new Map(), 50) ?? 0;
  expect(p50).toBeGreaterThan(25);
  expect(p50).toBeLessThan(60);
  expect(ok?.durationMs).toBeGreaterThanOrEqual(90);
  // The series are per task name.
  const stored = await client.backend.readMinuteCounts({
    from: 0,
    to: Date.now() + 60_000,
    series: taskSeries("tc.fail"),
  });
  expect(stored.some((c) => c.counter === "failed")).toBe(true);
});

test("counters are written once a second per worker, not once per task", async () => {
  client = await StemClient.inMemory({ tasks });
  const faulty = injectFaults(client.backend, { method: "addMinuteCounts", nth: 1000 });
  for (let i = 0; i < 40; i++) await client.enqueue("tc.ok");
  const worker = client.createWorker({ backend: faulty.store, concurrency: 20 });
  await worker.start();
  await eventually(
    async () => (await countsNow(client as StemClient)).get("tc.ok")?.succeeded === 40,
    15_000,
    "40 counted",
  );
  expect(faulty.calls("addMinuteCounts")).toBeLessThan(10);
});

test("a failed counter write is kept and added by a later one: nothing is lost or doubled", async () => {
  client = await StemClient.inMemory({ tasks });
  const faulty = injectFaults(client.backend, { method: "addMinuteCounts", nth: 1, times: 2 });
  for (let i = 0; i < 5; i++) await client.enqueue("tc.ok");
  const worker = client.createWorker({ backend: faulty.store });
  await worker.start();
  await eventually(() => faulty.injected() === 2, 15_000, "two failed writes");
  for (let i = 0; i < 2; i++) await client.enqueue("tc.ok");
  await eventually(
    async () => (await countsNow(client as StemClient)).get("tc.ok")?.succeeded === 7,
    15_000,
    "7 counted",
  );
  await worker.shutdown();
  expect((await countsNow(client)).get("tc.ok")?.succeeded).toBe(7);
});

test("a failed counter write is retried a second later even when no other task finishes", async () => {
  client = await StemClient.inMemory({ tasks });
  const faulty = injectFaults(client.backend, { method: "addMinuteCounts", nth: 1, times: 1 });
  for (let i = 0; i < 3; i++) await client.enqueue("tc.ok");
  const worker = client.createWorker({ backend: faulty.store });
  await worker.start();
  await eventually(
    async () => (await countsNow(client as StemClient)).get("tc.ok")?.succeeded === 3,
    15_000,
    "3 counted after the failed write",
  );
  expect(faulty.injected()).toBe(1);
  await worker.shutdown();
});
