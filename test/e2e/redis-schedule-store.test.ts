/** Redis schedule store details beyond the shared contract: history cap, concurrent updates. */
import { expect, test } from "bun:test";
import type { RedisConnection } from "../../src/adapters/redis/index.ts";
import { SCHEDULE_HISTORY_LIMIT } from "../../src/adapters/schedule-state.ts";
import { scheduleEntry } from "../../src/testing/index.ts";
import { useRedisPerTest } from "./fixtures/redis-server.ts";

let prefix: string;
let conn: RedisConnection;
let peer: RedisConnection;
useRedisPerTest("schedules", (r) => {
  prefix = r.prefix;
  conn = r.conn;
  peer = r.peer;
});

test("history keeps the latest 1,000 runs in a list under <prefix>:schedule:<id>:history", async () => {
  const store = conn.scheduleStore();
  await store.upsert(scheduleEntry({ id: "busy", nextRunAt: 0 }));
  const runs = SCHEDULE_HISTORY_LIMIT + 5;
  for (let i = 0; i < runs; i++) {
    await store.markExecuted("busy", {
      scheduledFor: i * 1000,
      executedAt: i * 1000 + 1,
      success: true,
      nextRunAt: (i + 1) * 1000,
    });
  }
  const key = `${prefix}:schedule:busy:history`;
  expect(await conn.client.llen(key)).toBe(SCHEDULE_HISTORY_LIMIT);
  const history = await store.history("busy", 2000);
  expect(history.length).toBe(SCHEDULE_HISTORY_LIMIT);
  expect(history[0].scheduledFor).toBe((runs - 1) * 1000);
  expect(history.at(-1)?.scheduledFor).toBe(5 * 1000);
  expect((await store.get("busy"))?.totalRunCount).toBe(runs);
  expect(await store.remove("busy")).toBe(true);
  expect(await conn.client.exists(key)).toBe(0);
});

test("markExecuted from two instances at once counts every run", async () => {
  await conn.scheduleStore().upsert(scheduleEntry({ id: "shared", nextRunAt: 0 }));
  const stores = [conn.scheduleStore(), peer.scheduleStore()];
  await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      stores[i % 2].markExecuted("shared", {
        scheduledFor: i,
        executedAt: i,
        success: true,
        nextRunAt: i + 1,
      }),
    ),
  );
  const entry = await conn.scheduleStore().get("shared");
  expect(entry?.totalRunCount).toBe(30);
  expect(entry?.version).toBe(31);
  expect((await conn.scheduleStore().history("shared", 100)).length).toBe(30);
});

test("disabled entries and entries without a next run are not due", async () => {
  const store = conn.scheduleStore();
  const now = Date.now();
  const a = await store.upsert(scheduleEntry({ id: "a", nextRunAt: now - 10 }));
  await store.upsert(scheduleEntry({ id: "b" }));
  expect((await store.due(now)).map((e) => e.id)).toEqual(["a"]);
  await store.upsert({ ...a, enabled: false });
  expect(await store.due(now)).toEqual([]);
  expect(await store.nextDueAt()).toBeNull();
});
