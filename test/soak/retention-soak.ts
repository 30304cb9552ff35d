/**
 * The retention soak: pushes tasks through enqueue, run, retry, dead-letter, replay and
 * expiry on one backend, revokes some, leaves a crashed worker's heartbeat and a control
 * message behind, then moves a fake clock past every retention, lets the housekeeping and
 * the store's own pruning run, and reports what the store holds before and after.
 *
 * Redis and Postgres stamp expiries with the server's clock, which no fake clock moves:
 * there results and the stale heartbeat get a 2 s time to live, and the soak waits it out
 * (Postgres control messages, kept a minute, are aged by that minute instead).
 * SQLite takes the fake clock for every timestamp, so its default result time to live
 * (one day) applies.
 */
import { Database } from "bun:sqlite";
import postgres from "postgres";
import Redis from "ioredis";
import type { StoreConnection } from "../../src/adapters/contracts.ts";
import { openPostgres } from "../../src/adapters/postgres/index.ts";
import { sweepExpired } from "../../src/adapters/postgres/sql/sweep-expired.ts";
import { openRedis } from "../../src/adapters/redis/index.ts";
import type { RedisResultBackend } from "../../src/adapters/redis/result-backend.ts";
import { openSqlite } from "../../src/adapters/sqlite/index.ts";
import { defineTask, FakeClock, FixedRetryStrategy, Stem, Worker } from "../../src/index.ts";
import { eventually } from "../../src/testing/harness.ts";
import { Housekeeping } from "../../src/worker/housekeeping.ts";
import { revokeEntries } from "../../src/worker/revoke-entries.ts";
import { TEST_POSTGRES_URL } from "../e2e/fixtures/postgres-test-db.ts";
import { REDIS_URL } from "../e2e/fixtures/redis-server.ts";
import type { TestStore } from "../e2e/fixtures/test-stores.ts";

export type SoakKind = "sqlite" | "redis" | "postgres";

/** Rows per table (SQLite, Postgres) or elements per key kind (Redis). */
export type Footprint = Record<string, number>;

export interface SoakReport {
  kind: SoakKind;
  tasks: number;
  deadLetters: number;
  revoked: number;
  seconds: number;
  before: Footprint;
  after: Footprint;
}

const DAY = 86_400_000;
/** Past every retention: dead letters (30 d), revocations (7 d), results (1 d), heartbeats, control messages. */
const PAST_EVERY_RETENTION = 31 * DAY;
/** Result and stale-heartbeat time to live where the server's clock decides (Redis, Postgres). */
const SERVER_TTL_MS = 2_000;
const QUEUE = "soak";

const ok = defineTask({ name: "soak.ok", run: (_ctx, args: { n: number }) => args.n });
const flaky = defineTask({
  name: "soak.flaky",
  options: { maxRetries: 1 },
  run: (ctx) => {
    if (ctx.attempt === 1) throw new Error("first attempt fails");
    return "retried";
  },
});
const doomed = defineTask({
  name: "soak.doomed",
  options: { maxRetries: 1 },
  run: () => {
    throw new Error("always fails");
  },
});

/** What a store holds that retention governs, and how to count it. */
interface SoakTarget {
  connection: StoreConnection;
  footprint(): Promise<Footprint>;
  /** Runs the store's own pruning of expired rows once; true when it may have more to do. */
  pruneOnce(): Promise<boolean>;
  close(): Promise<void>;
}

export async function runSoak(
  kind: SoakKind,
  store: TestStore,
  tasks: number,
): Promise<SoakReport> {
  const started = Date.now();
  const clock = new FakeClock(Date.now());
  const target = await openTarget(kind, store.url, clock);
  const { connection } = target;
  const broker = connection.broker();
  const backend = connection.resultBackend();
  const revokeStore = connection.revokeStore();
  const worker = new Worker({
    broker,
    backend,
    revokeStore,
    lockStore: connection.lockStore(),
    tasks: [ok, flaky, doomed],
    queues: [QUEUE],
    concurrency: 100,
    prefetch: 400,
    retryStrategy: new FixedRetryStrategy(0),
    // Driven below with the fake clock instead.
    housekeeping: false,
  });
  try {
    const stem = new Stem({ broker, backend, tasks: [ok, flaky, doomed], defaultQueue: QUEUE });
    // 60% succeed, 20% succeed on a retry, 20% fail twice and are dead-lettered.
    const names = Array.from({ length: tasks }, (_, i) =>
      i % 5 === 3 ? flaky.name : i % 5 === 4 ? doomed.name : ok.name,
    );
    const deadLetters = names.filter((n) => n === doomed.name).length;
    const ids: string[] = [];
    for (let i = 0; i < tasks; i += 1000) {
      const calls = names.slice(i, i + 1000).map((name, j) => ({ name, args: { n: i + j } }));
      ids.push(...(await stem.enqueueMany(calls)));
    }
    await worker.start();
    const drained = async () => {
      const [s] = await broker.stats([QUEUE]);
      return s.dead === deadLetters && s.pending + s.inflight + s.delayed === 0;
    };
    const patience = 60_000 + tasks * 5;
    await eventually(drained, patience, `${tasks} tasks run and ${deadLetters} dead-lettered`);
    // Replay every dead letter: they run (and fail) again and come back.
    for (;;) {
      const replayed = await broker.replayDeadLetters({ queue: QUEUE, limit: 1000 });
      if (replayed.entries.length === 0) break;
    }
    await eventually(drained, patience, "the replayed dead letters to die again");
    await worker.shutdown();

    const revoked = revokeEntries(
      ids.filter((_, i) => i % 100 === 0),
      { terminate: false, reason: "soak", requestedBy: "soak" },
      clock.now(),
    );
    await revokeStore.upsertAll(revoked);
    await backend.setHeartbeat(
      {
        workerId: "crashed-worker",
        host: "gone",
        pid: 1,
        queues: [QUEUE],
        concurrency: 1,
        inflight: 0,
        processed: 0,
        failed: 0,
        startedAt: clock.now(),
        timestamp: clock.now(),
      },
      kind === "sqlite" ? DAY : SERVER_TTL_MS,
    );
    await connection.controlBus().publish("soak", { note: "x".repeat(10_000) });
    const before = await target.footprint();

    await clock.advance(PAST_EVERY_RETENTION);
    if (kind !== "sqlite") await Bun.sleep(SERVER_TTL_MS + 100);
    const housekeeping = new Housekeeping({ broker, backend, revokeStore, clock, owner: "soak" });
    for (;;) {
      const swept = await housekeeping.sweep();
      const more = await target.pruneOnce();
      if (swept.deadLetters === 0 && swept.revocations === 0 && !more) break;
    }
    const after = await target.footprint();
    return {
      kind,
      tasks,
      deadLetters,
      revoked: revoked.length,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      before,
      after,
    };
  } finally {
    await worker.shutdown();
    await target.close();
  }
}

async function openTarget(kind: SoakKind, url: string, clock: FakeClock): Promise<SoakTarget> {
  switch (kind) {
    case "sqlite":
      return sqliteTarget(url, clock);
    case "redis":
      return redisTarget(url);
    case "postgres":
      return postgresTarget(url);
  }
}

async function sqliteTarget(url: string, clock: FakeClock): Promise<SoakTarget> {
  const connection = await openSqlite(url, { clock });
  const file = url.slice("sqlite://".length);
  const countRows = (): Footprint => {
    const db = new Database(file, { readonly: true });
    try {
      const tables = db
        .query<{ name: string }, []>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'stem_%' ORDER BY name",
        )
        .all();
      return Object.fromEntries(
        tables.map(({ name }) => [
          name,
          db.query<{ n: number }, []>(`SELECT count(*) AS n FROM "${name}"`).get()!.n,
        ]),
      );
    } finally {
      db.close();
    }
  };
  return {
    connection,
    footprint: async () => countRows(),
    // Every write runs the connection's pruner, which continues while it deletes full batches.
    pruneOnce: async () => {
      const before = countRows();
      await connection.lockStore().acquire("soak:prune", "soak", 1);
      await connection.lockStore().release("soak:prune", "soak");
      const after = countRows();
      return Object.keys(after).some((t) => after[t] < before[t]);
    },
    close: () => connection.close(),
  };
}

async function redisTarget(url: string): Promise<SoakTarget> {
  const connection = await openRedis(url, { resultTtlMs: SERVER_TTL_MS });
  const prefix = new URL(url).searchParams.get("prefix")!;
  const client = new Redis(REDIS_URL, { retryStrategy: () => null });
  const countKeys = async (): Promise<Footprint> => {
    const out: Footprint = {};
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length === 0) continue;
      const types = (await client.pipeline(keys.map((k) => ["type", k])).exec())!.map(
        ([, t]) => t as string,
      );
      const sizes = await client
        .pipeline(
          keys.map((k, i) => {
            const size = {
              hash: "hlen",
              zset: "zcard",
              set: "scard",
              stream: "xlen",
              list: "llen",
            };
            const command = size[types[i] as keyof typeof size];
            return command ? [command, k] : ["exists", k];
          }),
        )
        .exec();
      keys.forEach((key, i) => {
        const kind = redisKeyKind(key.slice(prefix.length + 1));
        out[`${kind} keys`] = (out[`${kind} keys`] ?? 0) + 1;
        out[`${kind} elements`] = (out[`${kind} elements`] ?? 0) + Number(sizes![i][1]);
      });
    } while (cursor !== "0");
    return out;
  };
  const backend = connection.resultBackend() as RedisResultBackend;
  return {
    connection,
    footprint: countKeys,
    // Result keys expire by themselves; writes drop a batch of expired index entries each.
    pruneOnce: async () => (await backend.prune()) > 0,
    close: async () => {
      client.disconnect();
      await connection.close();
    },
  };
}

/** Groups a Redis key (without the prefix) by what it holds. */
function redisKeyKind(key: string): string {
  if (key.startsWith("q:")) return key.endsWith(":dead") ? "queue dead-letter index" : "queue";
  const [head] = key.split(":");
  return head;
}

async function postgresTarget(url: string): Promise<SoakTarget> {
  const connection = await openPostgres(url, { resultTtlMs: SERVER_TTL_MS });
  const schema = new URL(url).searchParams.get("schema")!;
  const admin = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
  const countRows = async (): Promise<Footprint> => {
    const tables = await admin<{ name: string }[]>`
      SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = ${schema} AND table_type = 'BASE TABLE' ORDER BY table_name`;
    const out: Footprint = {};
    for (const { name } of tables) {
      const [{ n }] = await admin<
        { n: number }[]
      >`SELECT count(*)::int AS n FROM ${admin(schema)}.${admin(name)}`;
      out[name] = n;
    }
    return out;
  };
  return {
    connection,
    footprint: countRows,
    // The connection sweeps once a minute; run the same sweep now. Control messages are
    // kept a minute by the server's clock: age them by that minute first.
    pruneOnce: async () => {
      await admin`
        UPDATE ${admin(schema)}.control_messages SET created_at = created_at - interval '1 minute'`;
      return (await sweepExpired(admin, schema)) > 0;
    },
    close: async () => {
      await admin.end({ timeout: 5 });
      await connection.close();
    },
  };
}
