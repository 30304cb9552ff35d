/**
 * Queue counts on a filled queue, on every adapter: 20,000 tasks (a tenth delayed), some
 * leased, acked, released with a delay and dead-lettered; the counts `stem observe
 * queues` shows are exact before and after a purge, which leaves leased tasks alone.
 * (bench --suite large-queue times the same with a million tasks.)
 */
import { afterEach, describe, expect, test } from "bun:test";
import { type QueueStats, type StoreConnection, connect } from "../../src/index.ts";
import { fillQueue } from "../../src/testing/fill-queue.ts";
import { ADAPTERS, type TestStore } from "./fixtures/adapter-stores.ts";

const TASKS = 20_000;
const DELAYED = TASKS / 10;

let store: TestStore | undefined;
let connection: StoreConnection | undefined;
afterEach(async () => {
  await connection?.close();
  await store?.cleanup();
  connection = store = undefined;
});

for (const adapter of ADAPTERS) {
  describe(`queue counts on ${adapter.name}`, () => {
    test(`a queue of ${TASKS} tasks is counted exactly, before and after a purge`, async () => {
      store = await adapter.open("counts");
      connection = await connect(store.url);
      const broker = connection.broker();
      await fillQueue(broker, "big", TASKS, { delayEvery: 10 });
      await fillQueue(broker, "small", 3);
      const leased = await broker.fetch(["big"], { max: 7, leaseMs: 600_000, consumer: "c" });
      expect(leased).toHaveLength(7);
      await broker.ack(leased.slice(0, 2));
      await broker.nack(leased[2], { delayMs: 3_600_000 });
      await broker.deadLetter(leased[3], "test");
      const expected = (big: Omit<QueueStats, "queue">): QueueStats[] => [
        { queue: "big", ...big },
        { queue: "small", pending: 3, inflight: 0, delayed: 0, dead: 0 },
      ];
      expect(await broker.stats()).toEqual(
        expected({ pending: TASKS - DELAYED - 7, inflight: 3, delayed: DELAYED + 1, dead: 1 }),
      );

      expect(await broker.purge("big")).toBe(TASKS - 7 + 1);
      expect(await broker.stats()).toEqual(
        expected({ pending: 0, inflight: 3, delayed: 0, dead: 1 }),
      );
      await broker.ack(leased.slice(4));
      await fillQueue(broker, "big", 10);
      expect(await broker.stats(["big"])).toEqual(
        expected({ pending: 10, inflight: 0, delayed: 0, dead: 1 }).slice(0, 1),
      );
    }, 120_000);
  });
}
