/**
 * The Redis adapter: `redis://` and `rediss://` URLs, and Redis Cluster
 * (`redis+cluster://`). One command connection serves every store; the broker's long
 * polls and the control bus's subscriptions get connections of their own. ioredis
 * reconnects with backoff (and follows a cluster's MOVED/ASK redirections and failovers);
 * outages are logged once.
 */
import Redis, { Cluster } from "ioredis";
import { type Clock, systemClock } from "../../core/clock.ts";
import { StemError } from "../../core/errors.ts";
import type { ConnectOptions, StoreConnection, TaskEventBus } from "../contracts.ts";
import { BROKER_SCRIPTS, RedisBroker } from "./broker.ts";
import { isCluster, type RedisClient } from "./client.ts";
import { RedisConcurrencySlots, SLOT_SCRIPTS } from "./concurrency-slots.ts";
import { ConnectionHealth } from "./connection-health.ts";
import { type RedisSettings, redisSettings } from "./connection-options.ts";
import { RedisControlBus } from "./control-bus.ts";
import { keySlot } from "./key-slot.ts";
import { RedisKeys } from "./keys.ts";
import { LOCK_SCRIPTS, RedisLockStore } from "./lock-store.ts";
import { RATE_SCRIPTS, RedisRateLimiter } from "./rate-limiter.ts";
import { RESULT_SCRIPTS, RedisResultBackend } from "./result-backend.ts";
import { REVOKE_SCRIPTS, RedisRevokeStore } from "./revoke-store.ts";
import { RedisScheduleStore, SCHEDULE_SCRIPTS } from "./schedule-store.ts";
import { registerScripts } from "./scripts.ts";
import { StreamWaiter } from "./stream-waiter.ts";
import { RedisTaskEvents } from "./task-events.ts";
import { RedisWorkflowStore, WORKFLOW_SCRIPTS } from "./workflow-store.ts";

export { RedisBroker, UNDECODABLE_REASON } from "./broker.ts";
export { RedisConcurrencySlots } from "./concurrency-slots.ts";
export { DEFAULT_PREFIX, redisSettings } from "./connection-options.ts";
export { RedisControlBus } from "./control-bus.ts";
export { RedisKeys } from "./keys.ts";
export { RedisLockStore } from "./lock-store.ts";
export { RedisRateLimiter } from "./rate-limiter.ts";
export { RedisResultBackend } from "./result-backend.ts";
export { RedisRevokeStore } from "./revoke-store.ts";
export { RedisScheduleStore } from "./schedule-store.ts";
export { RedisWorkflowStore } from "./workflow-store.ts";

const ALL_SCRIPTS = [
  ...BROKER_SCRIPTS,
  ...RESULT_SCRIPTS,
  ...SCHEDULE_SCRIPTS,
  ...LOCK_SCRIPTS,
  ...REVOKE_SCRIPTS,
  ...RATE_SCRIPTS,
  ...SLOT_SCRIPTS,
  ...WORKFLOW_SCRIPTS,
];

/** A StoreConnection on one Redis server and key prefix. */
export class RedisConnection implements StoreConnection {
  readonly url: string;
  readonly keys: RedisKeys;
  /** The command connection every store shares. */
  readonly client: RedisClient;
  private readonly health: ConnectionHealth;
  private readonly extra = new Set<RedisClient>();
  private stores: {
    broker?: RedisBroker;
    resultBackend?: RedisResultBackend;
    scheduleStore?: RedisScheduleStore;
    lockStore?: RedisLockStore;
    revokeStore?: RedisRevokeStore;
    rateLimiter?: RedisRateLimiter;
    concurrencySlots?: RedisConcurrencySlots;
    controlBus?: RedisControlBus;
    taskEvents?: RedisTaskEvents;
    workflowStore?: RedisWorkflowStore;
  } = {};
  private closed = false;

  constructor(
    private readonly settings: RedisSettings,
    /** Time source of the workflow store (tests pass a fake clock). */
    private readonly clock: Clock = systemClock,
  ) {
    this.url = settings.url;
    this.keys = new RedisKeys(settings.prefix, settings.cluster !== undefined);
    this.health = new ConnectionHealth(settings.url);
    this.client = this.newClient("command", { lazyConnect: true });
    registerScripts(this.client, ALL_SCRIPTS);
  }

  /** A new client (not yet watched or tracked) with the settings plus `overrides`. */
  private newClient(role: string, overrides: Partial<RedisSettings["ioredis"]>): RedisClient {
    const options = {
      ...this.settings.ioredis,
      ...overrides,
      connectionName: this.connectionName(role),
    };
    const cluster = this.settings.cluster;
    if (!cluster) return new Redis(options);
    const { lazyConnect, ...redisOptions } = options;
    return new Cluster(cluster.nodes, {
      ...cluster.options,
      lazyConnect,
      redisOptions,
    });
  }

  /** Key prefix of this connection. */
  get prefix(): string {
    return this.settings.prefix;
  }

  private connectionName(role: string): string {
    return `stem:${this.settings.prefix}:${role}`.replace(/\s/g, "_");
  }

  /** Opens another connection (blocking reads, subscriber), closed with this one. */
  private open(role: string, overrides: Partial<RedisSettings["ioredis"]> = {}): RedisClient {
    if (this.closed) throw new StemError("closed", `the Redis connection ${this.url} is closed`);
    return this.track(this.newClient(role, { ...overrides, lazyConnect: false }), role);
  }

  /**
   * A connection for blocking reads. On a cluster, one to `node` alone ("host:port", see
   * `nodeHolding`): a Cluster client would connect to every node for each wait.
   */
  private openBlocking(node: string): RedisClient {
    // A blocked connection must not replay its read after a reconnect: the wait just ends.
    const overrides = { autoResendUnfulfilledCommands: false };
    if (node === "") return this.open("blocking", overrides);
    if (this.closed) throw new StemError("closed", `the Redis connection ${this.url} is closed`);
    const cut = node.lastIndexOf(":");
    const options = {
      ...this.settings.ioredis,
      ...overrides,
      host: node.slice(0, cut),
      port: Number(node.slice(cut + 1)),
      connectionName: this.connectionName("blocking"),
    };
    return this.track(new Redis(options), "blocking");
  }

  /**
   * Where blocking reads of `key` go: on a cluster the master that holds its slot, as far
   * as the command client knows ("" before it knows, and on a single server).
   */
  private nodeHolding(key: string): string {
    return isCluster(this.client) ? (this.client.slots[keySlot(key)]?.[0] ?? "") : "";
  }

  /** Watches and tracks an opened connection, so it is closed with this one. */
  private track(conn: RedisClient, role: string): RedisClient {
    this.health.watch(conn, role);
    this.extra.add(conn);
    conn.once("end", () => this.extra.delete(conn));
    return conn;
  }

  /** Connects the command connection; throws a clear error when the server is unreachable. */
  async connect(): Promise<void> {
    // Until the first connection succeeds, failures are reported by throwing, not logged.
    let failure: Error | undefined;
    const onError = (error: Error) => {
      failure ??= error;
    };
    this.client.on("error", onError);
    try {
      await this.client.connect();
    } catch (error) {
      this.client.disconnect();
      const cause = failure ?? (error as Error);
      // A cluster client only says that no node answered; a plain connection to a
      // startup node says why (a refused certificate, a server that is no cluster).
      const nodeFailure = this.settings.cluster ? await this.probeStartupNode() : undefined;
      const reason = nodeFailure ? `${cause.message} (${nodeFailure.message})` : cause.message;
      throw new StemError(
        "store_unavailable",
        `cannot connect to Redis at ${this.url}: ${reason}`,
        {
          cause: nodeFailure ?? cause,
        },
      );
    } finally {
      this.client.off("error", onError);
    }
    this.health.watch(this.client, "command");
  }

  /** Why the first startup node of a cluster cannot serve (undefined when it can). */
  private async probeStartupNode(): Promise<Error | undefined> {
    const [node] = this.settings.cluster?.nodes ?? [];
    if (!node) return undefined;
    const probe = new Redis({
      ...this.settings.ioredis,
      ...node,
      lazyConnect: true,
      retryStrategy: () => null,
      connectionName: this.connectionName("probe"),
    });
    let failure: Error | undefined;
    probe.on("error", (error: Error) => {
      failure ??= error;
    });
    try {
      await probe.connect();
      await probe.call("CLUSTER", "INFO");
      return undefined;
    } catch (error) {
      return failure ?? (error as Error);
    } finally {
      probe.disconnect();
    }
  }

  broker(): RedisBroker {
    this.stores.broker ??= new RedisBroker(
      this.client,
      this.keys,
      new StreamWaiter(
        (node) => this.openBlocking(node),
        (streams) => this.nodeHolding(streams[0]),
      ),
    );
    return this.stores.broker;
  }

  resultBackend(): RedisResultBackend {
    this.stores.resultBackend ??= new RedisResultBackend(
      this.client,
      this.keys,
      this.settings.resultTtlMs,
    );
    return this.stores.resultBackend;
  }

  scheduleStore(): RedisScheduleStore {
    this.stores.scheduleStore ??= new RedisScheduleStore(this.client, this.keys);
    return this.stores.scheduleStore;
  }

  lockStore(): RedisLockStore {
    this.stores.lockStore ??= new RedisLockStore(this.client, this.keys);
    return this.stores.lockStore;
  }

  revokeStore(): RedisRevokeStore {
    this.stores.revokeStore ??= new RedisRevokeStore(this.client, this.keys);
    return this.stores.revokeStore;
  }

  rateLimiter(): RedisRateLimiter {
    this.stores.rateLimiter ??= new RedisRateLimiter(this.client, this.keys);
    return this.stores.rateLimiter;
  }

  concurrencySlots(): RedisConcurrencySlots {
    this.stores.concurrencySlots ??= new RedisConcurrencySlots(this.client, this.keys);
    return this.stores.concurrencySlots;
  }

  controlBus(): RedisControlBus {
    this.stores.controlBus ??= new RedisControlBus(this.client, this.keys, () =>
      this.open("subscriber"),
    );
    return this.stores.controlBus;
  }

  /** Task events on the control bus's pub/sub (plain PUBLISH, so it works on a cluster too). */
  taskEvents(): TaskEventBus {
    this.stores.taskEvents ??= new RedisTaskEvents(
      this.client,
      this.controlBus(),
      this.keys.taskEventListeners,
    );
    return this.stores.taskEvents;
  }

  workflowStore(): RedisWorkflowStore {
    this.stores.workflowStore ??= new RedisWorkflowStore(this.client, this.keys, this.clock);
    return this.stores.workflowStore;
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  /** Redis keeps no schema and has no integrity check of its own: a round trip is all. */
  async verify(): Promise<{ schemaVersion?: number }> {
    await this.client.ping();
    return {};
  }

  /** Closes every store and quits every connection this connection opened. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.health.stop();
    await Promise.all(Object.values(this.stores).map((store) => store.close()));
    for (const conn of this.extra) conn.disconnect();
    this.extra.clear();
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

/** Options for `openRedis`: the common ConnectOptions plus a clock. */
export interface RedisConnectOptions extends ConnectOptions {
  /** Time source for the workflow store's timestamps, leases and due times (tests pass a fake clock). */
  clock?: Clock;
}

/**
 * Opens a connection to the Redis server named by `url`
 * (`redis://[user:password@]host[:port][/db][?prefix=NAME]`, or `rediss://` for TLS, with
 * certificates from `options.tls` or STEM_TLS_*). Keys live under `options.prefix`, the
 * URL's `prefix` parameter, or `stem`.
 */
export async function openRedis(
  url: string,
  options: RedisConnectOptions = {},
): Promise<StoreConnection> {
  return openRedisConnection(url, options);
}

/** Like openRedis, typed as the Redis connection (tests and tools reach its client and keys). */
export async function openRedisConnection(
  url: string,
  options: RedisConnectOptions = {},
): Promise<RedisConnection> {
  const connection = new RedisConnection(redisSettings(url, options), options.clock);
  await connection.connect();
  return connection;
}
