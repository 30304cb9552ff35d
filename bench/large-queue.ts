/**
 * Large queues: for each adapter, fills one queue with `tasks` tasks (1% of them delayed),
 * then times what `stem observe queues` asks the store (every queue's stats, then the
 * named ones; median of 5) and a purge of the queue. On Postgres the stats are timed again
 * after a VACUUM of the jobs table (what autovacuum does in production; the test server
 * runs with it off): until then, counting delayed jobs visits their heap pages. On Redis a second
 * connection PINGs in a loop during the purge: its slowest reply is how long Redis was
 * blocked at most (plus scheduling noise on a busy machine).
 */
import type { PostgresStoreConnection } from "../src/adapters/postgres/index.ts";
import { connect } from "../src/adapters/url.ts";
import { fillQueue } from "../src/testing/fill-queue.ts";
import { storeTarget } from "./targets.ts";

export interface LargeQueueFigures {
  tasks: number;
  fillPerSecond: number;
  /** Store time of `stem observe queues` (both stats calls), median of 5, ms. */
  observeQueuesMs: number;
  /** Postgres only: the same after VACUUM (the visibility map set, as autovacuum would). */
  observeQueuesAfterVacuumMs?: number;
  purgeMs: number;
  purged: number;
  /** Redis only: the slowest PING reply during the purge, ms. */
  slowestPingDuringPurgeMs?: number;
}

const QUEUE = "large";

async function median(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Repeated PINGs on their own connection until `stop()`; returns the slowest, ms. */
async function pingLoop(url: string): Promise<{ stop(): Promise<number> }> {
  const { default: Redis } = await import("ioredis");
  const redis = new Redis(url.split("?")[0]);
  let running = true;
  let slowest = 0;
  const loop = (async () => {
    while (running) {
      const start = performance.now();
      await redis.ping();
      slowest = Math.max(slowest, performance.now() - start);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      redis.disconnect();
      return slowest;
    },
  };
}

async function measure(adapter: string, url: string, tasks: number): Promise<LargeQueueFigures> {
  const connection = await connect(url);
  try {
    const broker = connection.broker();
    let start = performance.now();
    await fillQueue(broker, QUEUE, tasks, { delayEvery: 100 });
    const fillPerSecond = Math.round(tasks / ((performance.now() - start) / 1000));
    const observeQueues = () =>
      median(5, async () => {
        const known = (await broker.stats()).map((s) => s.queue);
        await broker.stats(known);
      });
    const observeQueuesMs = await observeQueues();
    let observeQueuesAfterVacuumMs: number | undefined;
    if (adapter === "postgres") {
      const pg = connection as PostgresStoreConnection;
      await pg.sql.unsafe(`VACUUM "${pg.schema}".jobs`);
      observeQueuesAfterVacuumMs = Math.round((await observeQueues()) * 10) / 10;
    }
    const pings = adapter === "redis" ? await pingLoop(url) : null;
    start = performance.now();
    const purged = await broker.purge(QUEUE);
    const purgeMs = performance.now() - start;
    const slowest = await pings?.stop();
    return {
      tasks,
      fillPerSecond,
      observeQueuesMs: Math.round(observeQueuesMs * 10) / 10,
      ...(observeQueuesAfterVacuumMs !== undefined ? { observeQueuesAfterVacuumMs } : {}),
      purgeMs: Math.round(purgeMs),
      purged,
      ...(slowest !== undefined ? { slowestPingDuringPurgeMs: Math.round(slowest * 10) / 10 } : {}),
    };
  } finally {
    await connection.close();
  }
}

/** The limit on Postgres's `stem observe queues` store time, before any VACUUM. */
const POSTGRES_OBSERVE_LIMIT_MS = 100;

/** The target line (Postgres only): observe-queues store time, unvacuumed, against its limit. */
export function largeQueueTargets(results: Record<string, LargeQueueFigures>) {
  const pg = results.postgres;
  if (!pg) return [];
  return [
    {
      target: `postgres: stem observe queues store time with ${pg.tasks} queued tasks, before VACUUM, < ${POSTGRES_OBSERVE_LIMIT_MS} ms`,
      measured: pg.observeQueuesMs,
      limit: POSTGRES_OBSERVE_LIMIT_MS,
      ratio: Number((POSTGRES_OBSERVE_LIMIT_MS / Math.max(pg.observeQueuesMs, 0.1)).toFixed(2)),
      met: pg.observeQueuesMs < POSTGRES_OBSERVE_LIMIT_MS,
    },
  ];
}

/** Runs the large-queue figures on each adapter in turn, each in a fresh store. */
export async function runLargeQueue(
  adapters: string[],
  tasks: number,
): Promise<Record<string, LargeQueueFigures>> {
  const results: Record<string, LargeQueueFigures> = {};
  for (const adapter of adapters) {
    const target = storeTarget(adapter, "stem-large-queue");
    try {
      results[adapter] = await measure(adapter, await target.next(), tasks);
      process.stderr.write(`${adapter}: ${JSON.stringify(results[adapter])}\n`);
    } finally {
      await target.cleanup();
    }
  }
  return results;
}
