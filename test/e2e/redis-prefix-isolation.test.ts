/** Two apps sharing one Redis under different key prefixes never see each other's data. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { StoreConnection } from "../../src/adapters/contracts.ts";
import { connect } from "../../src/adapters/url.ts";
import { buildEnvelope } from "../../src/core/envelope.ts";
import { REDIS_URL, deletePrefix, randomPrefix, requireRedis } from "./fixtures/redis-server.ts";

const prefixA = randomPrefix("app-a");
const prefixB = randomPrefix("app-b");
let a: StoreConnection;
let b: StoreConnection;

beforeAll(async () => {
  await requireRedis();
  // One through the URL's ?prefix=, one through the option: both routes set the prefix.
  a = await connect(`${REDIS_URL}?prefix=${prefixA}`);
  b = await connect(REDIS_URL, { prefix: prefixB });
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await Promise.all([deletePrefix(prefixA), deletePrefix(prefixB)]);
});

test("queues with the same name under two prefixes are separate", async () => {
  expect(a.url).toBe(`${REDIS_URL}?prefix=${prefixA}`);
  const env = buildEnvelope({ name: "t.a-only", queue: "default" });
  await a.broker().publish([env]);
  expect(
    await b.broker().fetch(["default"], { max: 1, leaseMs: 1000, consumer: "b", waitMs: 200 }),
  ).toEqual([]);
  expect((await b.broker().stats()).map((s) => s.queue)).toEqual([]);
  expect((await a.broker().stats()).map((s) => s.queue)).toEqual(["default"]);
  // The same id is not a duplicate in the other app.
  expect((await b.broker().publish([env])).accepted).toEqual([env.id]);
  const [d] = await a.broker().fetch(["default"], { max: 1, leaseMs: 1000, consumer: "a" });
  await a.broker().deadLetter(d, "boom");
  expect(await b.broker().listDeadLetters()).toEqual([]);
  expect((await a.broker().listDeadLetters()).length).toBe(1);
});

test("results, locks and schedules are per prefix too", async () => {
  const now = Date.now();
  await a.resultBackend().set([
    {
      id: "task-1",
      name: "t",
      queue: "default",
      state: "succeeded",
      attempt: 0,
      meta: {},
      createdAt: now,
      updatedAt: now,
    },
  ]);
  expect(await b.resultBackend().get("task-1")).toBeNull();
  expect(await a.lockStore().acquire("beat", "a", 5000)).toBe(true);
  expect(await b.lockStore().acquire("beat", "b", 5000)).toBe(true);
  const before = await b.scheduleStore().changeToken();
  await a.scheduleStore().upsert({
    id: "nightly",
    taskName: "t",
    args: {},
    kwargs: {},
    meta: {},
    spec: { kind: "interval", every: "1h" },
    enabled: true,
    totalRunCount: 0,
    version: 0,
  });
  expect(await b.scheduleStore().list()).toEqual([]);
  expect(await b.scheduleStore().changeToken()).toBe(before);
});
