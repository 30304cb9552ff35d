/** The dashboard's history: settled minutes are read once, recent ones every time; depth samples; pruning. */
import { expect, test } from "bun:test";
import { MemoryResultBackend } from "../../../src/adapters/memory/result-backend.ts";
import { MINUTE_MS, minuteOf, statusCounts } from "../../../src/core/minute-counts.ts";
import type { TaskStatus } from "../../../src/core/states.ts";
import { DepthSampler } from "../../../src/dashboard/depth-sampler.ts";
import { MinuteCountReader, readHistory, tasksTotal } from "../../../src/dashboard/history.ts";
import { injectFaults } from "../../../src/testing/faults.ts";

const T0 = Date.UTC(2003, 0, 1, 12, 0);

function succeeded(at: number): TaskStatus {
  return {
    id: crypto.randomUUID(),
    name: "h.task",
    queue: "default",
    state: "succeeded",
    attempt: 1,
    meta: {},
    createdAt: at,
    updatedAt: at,
    startedAt: at - 10,
    finishedAt: at,
  };
}

test("minutes two minutes past are read once and cached; the recent ones are read on every call", async () => {
  const backend = injectFaults(new MemoryResultBackend());
  let now = T0 + 30 * MINUTE_MS + 5_000;
  const reader = new MinuteCountReader(backend.store, () => now);
  await backend.store.addMinuteCounts(statusCounts(succeeded(T0 + 20 * MINUTE_MS)));
  const first = await readHistory(reader, now, 15 * MINUTE_MS);
  expect(first.buckets).toHaveLength(15);
  expect(tasksTotal(first.totals).succeeded).toBe(1);
  // A late write into a settled minute is not seen until the cache is renewed...
  await backend.store.addMinuteCounts(statusCounts(succeeded(T0 + 20 * MINUTE_MS)));
  // ...while one into the current minute is.
  await backend.store.addMinuteCounts(statusCounts(succeeded(now)));
  const calls = backend.calls("readMinuteCounts");
  const second = await readHistory(reader, now, 15 * MINUTE_MS);
  expect(tasksTotal(second.totals).succeeded).toBe(2);
  // One read: only the minutes that are not settled.
  expect(backend.calls("readMinuteCounts") - calls).toBe(1);
  now += 11 * MINUTE_MS;
  const renewed = await readHistory(reader, now, 30 * MINUTE_MS);
  expect(tasksTotal(renewed.totals).succeeded).toBe(3);
  // The current minute's rate is over the seconds that have passed of it.
  now = minuteOf(now) + 10_000;
  await backend.store.addMinuteCounts(statusCounts(succeeded(now)));
  const last = (await readHistory(reader, now, 15 * MINUTE_MS)).buckets.at(-1);
  expect(last?.seconds).toBe(10);
  expect(last?.tasks.get("h.task")?.succeeded).toBe(1);
});

test("a day is read in 120 buckets of 12 minutes, every one present", async () => {
  const backend = new MemoryResultBackend();
  const now = T0 + 5_000;
  await backend.addMinuteCounts(statusCounts(succeeded(T0 - 60 * MINUTE_MS)));
  const day = await readHistory(
    new MinuteCountReader(backend, () => now),
    now,
    24 * 60 * MINUTE_MS,
  );
  expect(day.buckets).toHaveLength(120);
  expect(day.buckets[1].t - day.buckets[0].t).toBe(12 * MINUTE_MS);
  expect(day.buckets.at(-1)?.t).toBe(minuteOf(now) + MINUTE_MS);
  expect(tasksTotal(day.totals).succeeded).toBe(1);
});

test("the depth sampler records depth and prunes counters older than a day, with no worker running", async () => {
  const backend = new MemoryResultBackend();
  const now = T0 + 5_000;
  await backend.addMinuteCounts(statusCounts(succeeded(T0 - 25 * 60 * MINUTE_MS)));
  await backend.addMinuteCounts(statusCounts(succeeded(T0 - 23 * 60 * MINUTE_MS)));
  const sampler = new DepthSampler(
    async () => [{ queue: "q", pending: 4, inflight: 0, delayed: 2, dead: 0 }],
    backend,
    1000,
    () => now,
  );
  await sampler.sample();
  const kept = await backend.readMinuteCounts({ from: 0, to: now + MINUTE_MS });
  expect(new Set(kept.map((c) => c.minute))).toEqual(
    new Set([T0 - 23 * 60 * MINUTE_MS, minuteOf(now)]),
  );
  const day = await readHistory(new MinuteCountReader(backend, () => now), now, 15 * MINUTE_MS);
  expect(day.buckets.at(-1)?.depth.get("q")).toBe(6);
});
