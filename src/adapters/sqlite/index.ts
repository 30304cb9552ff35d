/**
 * The embedded SQLite adapter, Stem's default store: every contract on one database file
 * (`sqlite://./.stem/stem.db`) that workers, producers, Beat and the CLI share from
 * separate processes, or on a private in-memory database (`sqlite::memory:`).
 */
import type {
  Broker,
  ConcurrencySlots,
  ConnectOptions,
  ControlBus,
  LockStore,
  RateLimiter,
  ResultBackend,
  RevokeStore,
  ScheduleStore,
  StoreConnection,
  TaskEventBus,
  WorkflowStore,
} from "../contracts.ts";
import { type Clock, systemClock } from "../../core/clock.ts";
import { SqliteBroker } from "./broker/broker.ts";
import { SqliteConcurrencySlots } from "./concurrency-slots.ts";
import { SqliteControlBus } from "./control-bus.ts";
import { openDatabase, type SqliteDatabase } from "./database.ts";
import { SqliteLockStore } from "./lock-store.ts";
import { migrate } from "./migrations.ts";
import { verifyDatabase } from "./verify.ts";
import { PRUNE_INTERVAL_MS, Pruner, SCHEDULE_HISTORY_RETENTION_MS } from "./prune.ts";
import { SqliteRateLimiter } from "./rate-limiter.ts";
import { DEFAULT_RESULT_TTL_MS, SqliteResultBackend } from "./results/result-backend.ts";
import { SqliteRevokeStore } from "./revoke-store.ts";
import { SqliteScheduleStore } from "./schedules/schedule-store.ts";
import { SqliteTaskEvents } from "./task-events.ts";
import { parseSqliteUrl } from "./url.ts";
import { SqliteWorkflowStore } from "./workflows/workflow-store.ts";

export { SCHEMA_VERSION } from "./migrations.ts";
export { parseSqliteUrl } from "./url.ts";
export {
  SqliteBroker,
  SqliteConcurrencySlots,
  SqliteControlBus,
  SqliteLockStore,
  SqliteRateLimiter,
  SqliteResultBackend,
  SqliteRevokeStore,
  SqliteScheduleStore,
  SqliteWorkflowStore,
};

/** How long a statement waits for another process's write lock by default. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** Options for `openSqlite`: the common ConnectOptions plus SQLite's own. */
export interface SqliteConnectOptions extends ConnectOptions {
  /** Time source for stored timestamps and expiry (tests pass a fake clock). */
  clock?: Clock;
  /** Wait this long for another process's write lock before failing (URL `?busyTimeout=`). Default 5 s. */
  busyTimeoutMs?: number;
  /** Keep schedule history this long. Default 30 days. */
  historyRetentionMs?: number;
  /** Prune expired rows at most this often. Default one minute. */
  pruneIntervalMs?: number;
}

/**
 * Opens a SQLite database from a URL: creates the file and its folder if missing,
 * migrates the schema, prunes expired rows and returns a connection whose stores all
 * share the one database handle. Options given here win over URL parameters.
 * Throws StemError (`store_corrupt`, `store_unavailable`, `schema_too_new`,
 * `unsupported_url`) with a one-line message naming the file.
 */
export async function openSqlite(
  url: string,
  options: SqliteConnectOptions = {},
): Promise<StoreConnection> {
  const parsed = parseSqliteUrl(url);
  const db = openDatabase(parsed.target, {
    busyTimeoutMs: options.busyTimeoutMs ?? parsed.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    clock: options.clock ?? systemClock,
    existingOnly: options.existingOnly,
  });
  try {
    migrate(db);
    const pruner = new Pruner(db, {
      historyRetentionMs: options.historyRetentionMs ?? SCHEDULE_HISTORY_RETENTION_MS,
      intervalMs: options.pruneIntervalMs ?? PRUNE_INTERVAL_MS,
    });
    pruner.prune();
    db.afterWrite = () => pruner.maybePrune();
  } catch (error) {
    db.close();
    throw error;
  }
  return new SqliteConnection(
    url,
    db,
    options.resultTtlMs ?? parsed.resultTtlMs ?? DEFAULT_RESULT_TTL_MS,
  );
}

/** Every store on one SQLite database handle; each store is made once, on first use. */
class SqliteConnection implements StoreConnection {
  private made: {
    broker?: SqliteBroker;
    results?: SqliteResultBackend;
    schedules?: SqliteScheduleStore;
    locks?: SqliteLockStore;
    revokes?: SqliteRevokeStore;
    limiter?: SqliteRateLimiter;
    slots?: SqliteConcurrencySlots;
    control?: SqliteControlBus;
    events?: SqliteTaskEvents;
    workflows?: SqliteWorkflowStore;
  } = {};

  constructor(
    readonly url: string,
    private readonly db: SqliteDatabase,
    private readonly resultTtlMs: number,
  ) {}

  broker(): Broker {
    this.made.broker ??= new SqliteBroker(this.db);
    return this.made.broker;
  }

  resultBackend(): ResultBackend {
    this.made.results ??= new SqliteResultBackend(this.db, this.resultTtlMs);
    return this.made.results;
  }

  scheduleStore(): ScheduleStore {
    this.made.schedules ??= new SqliteScheduleStore(this.db);
    return this.made.schedules;
  }

  lockStore(): LockStore {
    this.made.locks ??= new SqliteLockStore(this.db);
    return this.made.locks;
  }

  revokeStore(): RevokeStore {
    this.made.revokes ??= new SqliteRevokeStore(this.db);
    return this.made.revokes;
  }

  rateLimiter(): RateLimiter {
    this.made.limiter ??= new SqliteRateLimiter(this.db);
    return this.made.limiter;
  }

  concurrencySlots(): ConcurrencySlots {
    this.made.slots ??= new SqliteConcurrencySlots(this.db);
    return this.made.slots;
  }

  controlBus(): ControlBus {
    this.made.control ??= new SqliteControlBus(this.db);
    return this.made.control;
  }

  taskEvents(): TaskEventBus {
    this.made.events ??= new SqliteTaskEvents(this.db);
    return this.made.events;
  }

  workflowStore(): WorkflowStore {
    this.made.workflows ??= new SqliteWorkflowStore(this.db);
    return this.made.workflows;
  }

  async ping(): Promise<void> {
    const probe = this.db.statement<{ ok: number }>("SELECT 1 AS ok");
    this.db.single(() => probe.get());
  }

  async verify(): Promise<{ schemaVersion?: number }> {
    return verifyDatabase(this.db);
  }

  /** Ends waiting fetches and subscriptions, then closes the database. Idempotent. */
  async close(): Promise<void> {
    if (this.db.isClosed) return;
    await Promise.all([
      this.made.broker?.close(),
      this.made.control?.close(),
      this.made.events?.close(),
    ]);
    this.db.close();
  }
}
