/**
 * Control messages through PgBouncer: a process polling the control table (no `listen=`)
 * and one listening on a direct URL exchange messages both ways, and a subscriber only
 * gets what was sent after it subscribed.
 */
import { afterAll, afterEach, expect, test } from "bun:test";
import { openPostgres, type PostgresStoreConnection } from "../../src/adapters/postgres/index.ts";
import { PolledControlBus } from "../../src/adapters/postgres/polled-control-bus.ts";
import { PostgresControlBus } from "../../src/adapters/postgres/control-bus.ts";
import { eventually, sleep } from "../../src/testing/harness.ts";
import { startPgbouncer, type TestPgbouncer } from "./fixtures/pgbouncer.ts";
import { adminClient, dropSchema, randomSchema } from "./fixtures/postgres-test-db.ts";

let bouncer: TestPgbouncer | undefined;
let schema: string | undefined;
const connections: PostgresStoreConnection[] = [];
afterEach(async () => {
  await Promise.all(connections.splice(0).map((c) => c.close()));
  if (schema) {
    const admin = await adminClient();
    await dropSchema(admin, schema);
    await admin.end({ timeout: 1 });
  }
  schema = undefined;
});
afterAll(async () => {
  await bouncer?.stop();
});

async function open(url: string): Promise<PostgresStoreConnection> {
  const connection = await openPostgres(url, { schema, max: 2 });
  connections.push(connection);
  return connection;
}

test("a polling and a listening process exchange control messages both ways", async () => {
  bouncer ??= await startPgbouncer();
  schema = randomSchema("stem_pgbctl");
  const polling = (await open(bouncer.url)).controlBus();
  const listening = (await open(bouncer.urlWithListen)).controlBus();
  expect(polling).toBeInstanceOf(PolledControlBus);
  expect(listening).toBeInstanceOf(PostgresControlBus);
  const atPoller: unknown[] = [];
  const atListener: unknown[] = [];
  await polling.subscribe("ops", (m) => atPoller.push(m));
  await listening.subscribe("ops", (m) => atListener.push(m));
  await listening.publish("ops", { from: "listener" });
  await polling.publish("ops", { from: "poller" });
  await eventually(() => atPoller.length === 2 && atListener.length === 2, 5000, "both got both");
  expect(atPoller).toEqual([{ from: "listener" }, { from: "poller" }]);
  expect(atListener).toEqual(atPoller);
});

test("a polling subscriber gets only messages sent after it subscribed", async () => {
  bouncer ??= await startPgbouncer();
  schema = randomSchema("stem_pgbctl");
  const bus = (await open(bouncer.url)).controlBus();
  const early: unknown[] = [];
  await bus.subscribe("first", (m) => early.push(m));
  await bus.publish("late", { n: 1 });
  await eventually(
    async () => {
      await bus.publish("first", { ping: true });
      return early.length > 0;
    },
    5000,
    "the poller is running",
  );
  const late: unknown[] = [];
  await bus.subscribe("late", (m) => late.push(m));
  await bus.publish("late", { n: 2 });
  await eventually(() => late.length === 1, 5000, "the later message");
  await sleep(600);
  expect(late).toEqual([{ n: 2 }]);
});
