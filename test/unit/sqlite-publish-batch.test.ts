/** SQLite publishes issued in the same tick share one write transaction. */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { SqliteBroker } from "../../src/adapters/sqlite/broker/broker.ts";
import { openDatabase, type SqliteDatabase } from "../../src/adapters/sqlite/database.ts";
import { migrate } from "../../src/adapters/sqlite/migrations.ts";
import { SqliteResultBackend } from "../../src/adapters/sqlite/results/result-backend.ts";
import { systemClock } from "../../src/core/clock.ts";
import { buildEnvelope, type Envelope } from "../../src/core/envelope.ts";
import type { TaskStatus } from "../../src/core/states.ts";

let db: SqliteDatabase;
let commits: number;
let broker: SqliteBroker;
beforeEach(() => {
  db = openDatabase({ kind: "memory" }, { busyTimeoutMs: 1000, clock: systemClock });
  migrate(db);
  commits = 0;
  db.afterWrite = () => commits++;
  broker = new SqliteBroker(db);
});
afterEach(async () => {
  await broker.close();
  db.close();
});

const queued = (envelope: Envelope, name = envelope.name): TaskStatus => ({
  id: envelope.id,
  name,
  queue: envelope.queue,
  state: "queued",
  args: {},
  attempt: 0,
  meta: {},
  createdAt: 1,
  updatedAt: 1,
});

test("single publishes of one tick commit once, each with its own result", async () => {
  const envelopes = Array.from({ length: 10 }, () => buildEnvelope({ name: "t", queue: "q" }));
  const repeat = { ...envelopes[3] };
  const results = await Promise.all([
    ...envelopes.map((envelope) => broker.publish([envelope])),
    broker.publish([repeat]),
  ]);
  expect(commits).toBe(1);
  expect(results.slice(0, 10)).toEqual(
    envelopes.map((envelope) => ({ accepted: [envelope.id], duplicates: [] })),
  );
  expect(results[10]).toEqual({ accepted: [], duplicates: [repeat.id] });
  expect((await broker.stats(["q"]))[0].pending).toBe(10);
});

test("statuses and jobs of concurrent producers share the commit; an unstorable status fails only its own call", async () => {
  const backend = new SqliteResultBackend(db);
  const publish = broker.publishWithStatuses(backend)!;
  const good = [buildEnvelope({ name: "t", queue: "q" }), buildEnvelope({ name: "t", queue: "q" })];
  const bad = buildEnvelope({ name: "t", queue: "q" });
  const outcomes = await Promise.allSettled([
    publish([queued(good[0])], [good[0]]),
    publish([queued(bad, "bad \u0000 name")], [bad]),
    publish([queued(good[1])], [good[1]]),
  ]);
  expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  expect(commits).toBe(1);
  expect(
    (await backend.getMany([good[0].id, bad.id, good[1].id])).map((s) => s?.state ?? null),
  ).toEqual(["queued", null, "queued"]);
  expect((await broker.stats(["q"]))[0].pending).toBe(2);
});

test("publishes awaited one after another each commit on their own", async () => {
  await broker.publish([buildEnvelope({ name: "t", queue: "q" })]);
  await broker.publish([buildEnvelope({ name: "t", queue: "q" })]);
  expect(commits).toBe(2);
});

test("an envelope that cannot be encoded fails only its own call", async () => {
  const good = buildEnvelope({ name: "t", queue: "q" });
  const bad = buildEnvelope({ name: "t", queue: "q", args: { n: 1n } as never });
  const outcomes = await Promise.allSettled([broker.publish([bad]), broker.publish([good])]);
  expect(outcomes.map((o) => o.status)).toEqual(["rejected", "fulfilled"]);
  expect((await broker.stats(["q"]))[0].pending).toBe(1);
});

test("a transaction that fails rejects every call of its tick, and none waits for ever", async () => {
  db.statement(
    "CREATE TRIGGER refuse BEFORE INSERT ON stem_jobs WHEN NEW.queue = 'boom' BEGIN SELECT RAISE(ABORT, 'refused'); END",
  ).run();
  const outcomes = await Promise.allSettled([
    broker.publish([buildEnvelope({ name: "t", queue: "q" })]),
    broker.publish([buildEnvelope({ name: "t", queue: "boom" })]),
    broker.publish([buildEnvelope({ name: "t", queue: "q" })]),
  ]);
  expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected", "rejected"]);
  expect((await broker.stats(["q"]))[0].pending).toBe(0);
});
