/**
 * Worker processes through PgBouncer in transaction pooling mode: two workers and a
 * producer run every task exactly once, and a SIGKILLed worker's task comes back after
 * its lease; once with `?pgbouncer=true` alone (waiting polls) and once with `&listen=`
 * the direct URL (LISTEN/NOTIFY beside the pool).
 */
import { afterAll } from "bun:test";
import { startPgbouncer, type TestPgbouncer } from "./fixtures/pgbouncer.ts";
import { adminClient, dropSchema, randomSchema } from "./fixtures/postgres-test-db.ts";
import { workerProcessScenarios } from "./worker-processes.ts";

let bouncer: Promise<TestPgbouncer> | undefined;
afterAll(async () => {
  await (await bouncer)?.stop();
});

function throughPgbouncer(pick: (b: TestPgbouncer) => string) {
  return async () => {
    const started = await (bouncer ??= startPgbouncer());
    const admin = await adminClient();
    const schema = randomSchema("stem_pgb");
    return {
      url: `${pick(started)}&schema=${schema}`,
      cleanup: async () => {
        await dropSchema(admin, schema);
        await admin.end({ timeout: 1 });
      },
    };
  };
}

workerProcessScenarios(
  "Postgres via PgBouncer (polling)",
  throughPgbouncer((b) => b.url),
  2000,
);
workerProcessScenarios(
  "Postgres via PgBouncer (listen=direct)",
  throughPgbouncer((b) => b.urlWithListen),
  2000,
);
