/**
 * The Postgres contract suites through PgBouncer in transaction pooling mode (a private
 * pgbouncer in front of the test database, see fixtures/pgbouncer.ts): every suite with
 * `?pgbouncer=true` alone (waiting and control messages poll), and the broker and control
 * bus again with `&listen=` the direct URL (LISTEN/NOTIFY beside the pool).
 */
import { afterAll } from "bun:test";
import { startPgbouncer, type TestPgbouncer } from "../e2e/fixtures/pgbouncer.ts";
import { postgresContracts } from "./postgres-suites.ts";

let bouncer: Promise<TestPgbouncer> | undefined;
const started = () => (bouncer ??= startPgbouncer());
afterAll(async () => {
  await (await bouncer)?.stop();
});

postgresContracts("postgres via pgbouncer", async () => (await started()).url);
postgresContracts(
  "postgres via pgbouncer, listen=direct",
  async () => (await started()).urlWithListen,
  "broker-and-control",
);
