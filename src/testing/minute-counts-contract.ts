/**
 * The result backend's history contract: per-minute counters (add, read a range, prune)
 * and listing statuses by update time. Every adapter must pass it.
 */
import { beforeEach, describe, expect, test } from "bun:test";
import type { MinuteCount, ResultBackend } from "../adapters/contracts.ts";
import type { TaskStatus } from "../core/states.ts";
import { type ContractFactory, freshSubjectEachTest, uniqueName } from "./harness.ts";

const MINUTE = 60_000;
/** A fixed minute, far from the present, so suites sharing a store never meet. */
const T0 = Date.UTC(2001, 0, 1, 12, 0);

const sorted = (cells: MinuteCount[]) =>
  [...cells].sort(
    (a, b) =>
      a.minute - b.minute || a.series.localeCompare(b.series) || a.counter.localeCompare(b.counter),
  );

export function minuteCountsContract(name: string, factory: ContractFactory<ResultBackend>): void {
  describe(`ResultBackend minute counts and time listing: ${name}`, () => {
    const fresh = freshSubjectEachTest(factory);
    let backend: ResultBackend;
    beforeEach(() => {
      backend = fresh.current.subject;
    });

    test("added values sum per (minute, series, counter), from every instance", async () => {
      const series = uniqueName("task:counts");
      const peer = await fresh.current.peer();
      await backend.addMinuteCounts([
        { minute: T0, series, counter: "succeeded", value: 2 },
        { minute: T0, series, counter: "succeeded", value: 1 },
        { minute: T0, series, counter: "duration_ms", value: 12.5 },
      ]);
      await Promise.all(
        Array.from({ length: 5 }, () =>
          peer.addMinuteCounts([{ minute: T0, series, counter: "succeeded", value: 1 }]),
        ),
      );
      await backend.addMinuteCounts([{ minute: T0 + MINUTE, series, counter: "failed", value: 1 }]);
      expect(
        sorted(await backend.readMinuteCounts({ from: T0, to: T0 + 2 * MINUTE, series })),
      ).toEqual([
        { minute: T0, series, counter: "duration_ms", value: 12.5 },
        { minute: T0, series, counter: "succeeded", value: 8 },
        { minute: T0 + MINUTE, series, counter: "failed", value: 1 },
      ]);
    });

    test("a read returns minutes in [from, to), oldest first, of one series or all", async () => {
      const a = uniqueName("task:a");
      const b = uniqueName("queue:b");
      const cells: MinuteCount[] = [0, 1, 2, 3].flatMap((i) => [
        { minute: T0 + i * MINUTE, series: a, counter: "succeeded", value: i + 1 },
        { minute: T0 + i * MINUTE, series: b, counter: "depth_sum", value: 10 * i },
      ]);
      await backend.addMinuteCounts(cells);
      const range = await backend.readMinuteCounts({ from: T0 + MINUTE, to: T0 + 3 * MINUTE });
      const minutes = range.map((c) => c.minute);
      expect(minutes).toEqual([...minutes].sort((x, y) => x - y));
      expect(sorted(range.filter((c) => c.series === a || c.series === b))).toEqual(
        sorted(cells.slice(2, 6)),
      );
      expect(
        await backend.readMinuteCounts({ from: T0 + MINUTE, to: T0 + 2 * MINUTE, series: a }),
      ).toEqual([{ minute: T0 + MINUTE, series: a, counter: "succeeded", value: 2 }]);
      expect(
        await backend.readMinuteCounts({ from: T0 + 4 * MINUTE, to: T0 + 9 * MINUTE, series: a }),
      ).toEqual([]);
    });

    test("a series name may hold any character, a newline too", async () => {
      const series = `task:${uniqueName("odd")}\n<b> "x"`;
      await backend.addMinuteCounts([{ minute: T0, series, counter: "failed", value: 3 }]);
      expect(await backend.readMinuteCounts({ from: T0, to: T0 + MINUTE, series })).toEqual([
        { minute: T0, series, counter: "failed", value: 3 },
      ]);
    });

    test("pruning deletes every minute before the given time and keeps the rest", async () => {
      const series = uniqueName("task:prune");
      await backend.addMinuteCounts(
        [0, 1, 2].map((i) => ({ minute: T0 + i * MINUTE, series, counter: "retried", value: 1 })),
      );
      await backend.pruneMinuteCounts(T0 + 2 * MINUTE);
      expect(await backend.readMinuteCounts({ from: 0, to: T0 + 10 * MINUTE, series })).toEqual([
        { minute: T0 + 2 * MINUTE, series, counter: "retried", value: 1 },
      ]);
      // Counting on in a kept minute after a prune still adds.
      await backend.addMinuteCounts([
        { minute: T0 + 2 * MINUTE, series, counter: "retried", value: 4 },
      ]);
      expect(
        (await backend.readMinuteCounts({ from: T0, to: T0 + 3 * MINUTE, series }))[0].value,
      ).toBe(5);
    });

    test("list filters by update time (inclusive bounds), newest first, and pages within it", async () => {
      const queue = uniqueName("q-time");
      const now = Date.now();
      const statuses: TaskStatus[] = [0, 1, 2, 3, 4, 5].map((i) => ({
        id: `${queue}-${i}`,
        name: "t.time",
        queue,
        state: i % 2 ? "failed" : "succeeded",
        attempt: 1,
        meta: {},
        createdAt: now - 10_000,
        updatedAt: now - 6_000 + i * 1000,
      }));
      await backend.set(statuses);
      const ids = (list: TaskStatus[]) => list.map((s) => s.id);
      const since = now - 5_000;
      const until = now - 2_000;
      expect(ids(await backend.list({ queue, updatedSince: since, updatedUntil: until }))).toEqual(
        [4, 3, 2, 1].map((i) => `${queue}-${i}`),
      );
      expect(ids(await backend.list({ queue, updatedSince: since, limit: 2, offset: 1 }))).toEqual(
        [4, 3].map((i) => `${queue}-${i}`),
      );
      expect(
        ids(await backend.list({ queue, updatedUntil: now - 5_000, state: "succeeded" })),
      ).toEqual([`${queue}-0`]);
      expect(await backend.list({ queue, updatedSince: now + 60_000 })).toEqual([]);
    });
  });
}
