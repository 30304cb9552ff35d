/**
 * The Postgres adapter (postgres.js): every store in one schema of one database.
 *
 * `postgres://user:pass@host:5432/db?schema=stem&sslmode=require&max=10` — `schema`
 * (default `stem`), `max` (query pool size) and `resultTtlMs`/`resultTtl` are read by
 * Stem; `sslmode` (with `sslrootcert`, `sslcert`, `sslkey` or STEM_TLS_*) sets TLS; any
 * other parameter is passed to the server as a connection parameter.
 *
 * Behind PgBouncer in transaction pooling mode add `pgbouncer=true`: queries then use no
 * named prepared statements, and LISTEN (which needs a session) goes to a direct URL
 * given as `listen=postgres://...` (percent-encoded when it has a query of its own).
 * Without one, waiting workers poll every 500 ms and control messages travel through a
 * table polled every 250 ms.
 */
import postgres from "postgres";
import type { PublishResult, StoreConnection } from "../contracts.ts";
import { type Clock, systemClock } from "../../core/clock.ts";
import type { Envelope } from "../../core/envelope.ts";
import { StemError, StoreMissingError } from "../../core/errors.ts";
import { PostgresBroker } from "./broker.ts";
import { PostgresConcurrencySlots } from "./concurrency-slots.ts";
import {
  type PostgresConnectOptions,
  checkSchemaName,
  resolvePostgresOptions,
} from "./connection-options.ts";
import { PostgresControlBus } from "./control-bus.ts";
import { PolledControlBus } from "./polled-control-bus.ts";
import { ControlBusTaskEvents } from "../../events/control-bus-events.ts";
import { OutageLog, PgDatabase, isConnectionError, log } from "./database.ts";
import { NotificationListener } from "./listener.ts";
import { PostgresLockStore } from "./lock-store.ts";
import { appliedVersion, LATEST_VERSION, migrate } from "./migrations.ts";
import { PostgresRateLimiter } from "./rate-limiter.ts";
import { PostgresResultBackend } from "./result-backend.ts";
import { PostgresRevokeStore } from "./revoke-store.ts";
import { PostgresScheduleStore } from "./schedule-store.ts";
import { publishJobs } from "./sql/publish-jobs.ts";
import { sweepExpired } from "./sql/sweep-expired.ts";
import { PostgresWorkflowStore } from "./workflow-store.ts";

export { PostgresBroker } from "./broker.ts";
export { PostgresConcurrencySlots } from "./concurrency-slots.ts";
export { PostgresControlBus } from "./control-bus.ts";
export { PostgresLockStore } from "./lock-store.ts";
export { PostgresRateLimiter } from "./rate-limiter.ts";
export { PostgresResultBackend } from "./result-backend.ts";
export { PostgresRevokeStore } from "./revoke-store.ts";
export { PostgresScheduleStore } from "./schedule-store.ts";
export { PostgresWorkflowStore } from "./workflow-store.ts";
export { DEFAULT_SCHEMA, type PostgresConnectOptions } from "./connection-options.ts";
export { LATEST_VERSION, MIGRATIONS, migrate } from "./migrations.ts";

/** Task event batches per NOTIFY, under the inline limit with room for the wrapping. */
const MAX_EVENT_NOTIFY_BYTES = 7000;

/** How often a connection deletes expired results, groups, heartbeats and locks. */
const SWEEP_INTERVAL_MS = 60_000;

/** A Postgres StoreConnection; `broker()` also offers `publishWith(tx, envelopes)`. */
export interface PostgresStoreConnection extends StoreConnection {
  broker(): PostgresBroker;
  /** The schema every table lives in. */
  readonly schema: string;
  /** The query pool, for callers who want to run their own transactions beside Stem's. */
  readonly sql: postgres.Sql;
}

/**
 * Publishes envelopes as part of a caller's transaction (or on any postgres.js `sql`):
 * the jobs exist only if that transaction commits, and waiting workers are woken when
 * it does. Use it to enqueue work atomically with your own writes:
 *
 * ```ts
 * await sql.begin(async (tx) => {
 *   await tx`INSERT INTO orders ...`;
 *   await publishInTransaction(tx, "stem", [buildEnvelope({ name: "orders.confirm", args })]);
 * });
 * ```
 * The schema must already be migrated (any `openPostgres` on it does that).
 */
export function publishInTransaction(
  sql: postgres.TransactionSql | postgres.Sql,
  schema: string,
  envelopes: Envelope[],
): Promise<PublishResult> {
  return publishJobs(sql, checkSchemaName(schema), envelopes);
}

function openError(displayUrl: string, schema: string, error: unknown): unknown {
  if (error instanceof StemError) return error;
  const message = (error as Error)?.message ?? String(error);
  if (isConnectionError(error)) {
    return new StemError(
      "store_unavailable",
      `cannot connect to Postgres at ${displayUrl}: ${message}`,
      {
        cause: error,
      },
    );
  }
  return new StemError(
    "store_unavailable",
    `cannot prepare schema "${schema}" in Postgres at ${displayUrl}: ${message}`,
    { cause: error },
  );
}

/**
 * Seconds postgres.js waits before reconnecting after its `attempt`-th failed
 * connection: 0.1 s doubling to 1 s, with jitter. Its own default grows to 20 s, which
 * would hold every query of a worker that long after a short outage.
 */
function reconnectBackoff(attempt: number): number {
  return (0.5 + Math.random() / 2) * Math.min(0.1 * 2 ** Math.max(0, attempt - 1), 1);
}

/**
 * Connects to Postgres, creates or upgrades the schema (safe when many processes start
 * at once) and returns every store on it. Throws StemError `store_unavailable` when the
 * server cannot be reached.
 */
export async function openPostgres(
  url: string,
  options: PostgresConnectOptions & {
    /** Time source for the workflow store's timestamps, leases and due times (tests pass a fake clock). */
    clock?: Clock;
  } = {},
): Promise<PostgresStoreConnection> {
  const resolved = resolvePostgresOptions(url, options);
  const { schema, displayUrl } = resolved;
  const clientOptions: postgres.Options<{}> = {
    ssl: resolved.ssl,
    connect_timeout: 10,
    backoff: reconnectBackoff,
    onnotice: (notice) => log.debug(`notice: ${notice.message}`),
    connection: { application_name: `stem:${schema}` },
    // PgBouncer in transaction mode hands each transaction to any server connection, where
    // a statement prepared on another one does not exist.
    prepare: !resolved.pgbouncer,
  };
  const sql = postgres(resolved.clientUrl, { ...clientOptions, max: resolved.max });
  try {
    if (options.existingOnly && (await appliedVersion(sql, schema)) === 0)
      throw new StoreMissingError(`schema "${schema}" of Postgres ${displayUrl}`);
    await migrate(sql, schema);
  } catch (error) {
    await sql.end({ timeout: 0 });
    throw openError(displayUrl, schema, error);
  }

  const outage = new OutageLog(displayUrl);
  const db = new PgDatabase(sql, schema, displayUrl, outage);
  // Null behind PgBouncer without a direct URL: LISTEN needs a session of its own.
  const listener = resolved.listen
    ? new NotificationListener(
        resolved.listen.clientUrl,
        { ...clientOptions, ssl: resolved.listen.ssl },
        outage,
      )
    : null;
  const broker = new PostgresBroker(db, listener);
  const backend = new PostgresResultBackend(db, resolved.resultTtlMs);
  const schedules = new PostgresScheduleStore(db);
  const locks = new PostgresLockStore(db);
  const revokes = new PostgresRevokeStore(db);
  const limiter = new PostgresRateLimiter(db);
  const slots = new PostgresConcurrencySlots(db);
  const control = listener
    ? new PostgresControlBus(db, listener, resolved.pgbouncer)
    : new PolledControlBus(db);
  // Batches small enough to travel inline in a NOTIFY payload.
  const events = new ControlBusTaskEvents(control, MAX_EVENT_NOTIFY_BYTES);
  const workflows = new PostgresWorkflowStore(db, options.clock ?? systemClock);

  let sweeping: Promise<unknown> = Promise.resolve();
  const sweeper = setInterval(() => {
    sweeping = db
      .run("sweep expired rows", (q) => sweepExpired(q, schema))
      .catch((error) => {
        // Outages are reported by db.run; anything else is worth a line of its own.
        if (!(error instanceof StemError)) log.warn("sweeping expired rows failed:", error);
      });
  }, SWEEP_INTERVAL_MS);
  sweeper.unref?.();

  let closing: Promise<void> | null = null;
  return {
    url: displayUrl,
    schema,
    sql,
    broker: () => broker,
    resultBackend: () => backend,
    scheduleStore: () => schedules,
    lockStore: () => locks,
    revokeStore: () => revokes,
    rateLimiter: () => limiter,
    concurrencySlots: () => slots,
    controlBus: () => control,
    taskEvents: () => events,
    workflowStore: () => workflows,
    ping: async () => {
      await db.run("ping", (q) => q`SELECT 1`);
    },
    verify: async () => {
      const version = await db.run("read the schema version", (q) =>
        appliedVersion(q as postgres.Sql, schema),
      );
      if (version !== LATEST_VERSION)
        throw new StemError(
          version > LATEST_VERSION ? "schema_too_new" : "store_corrupt",
          `Postgres schema "${schema}" at ${displayUrl} is at version ${version}, expected ${LATEST_VERSION}`,
        );
      return { schemaVersion: version };
    },
    close: () => {
      closing ??= (async () => {
        clearInterval(sweeper);
        await Promise.all([broker.close(), control.close()]);
        await sweeping;
        await Promise.all([listener?.close(), sql.end({ timeout: 5 })]);
      })();
      return closing;
    },
  };
}
