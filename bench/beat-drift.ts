/**
 * Beat dispatch drift: 1,000 entries due in the same second, one Beat, on a store URL.
 * Drift is what Beat records per run: the time its task was published minus the due time.
 *
 * `bun bench/beat-drift.ts [--adapter sqlite,redis,postgres] [--entries 1000]` prints JSON;
 * also run by `npm run bench -- --suite beat --adapter sqlite,redis`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import Redis from "ioredis";
import postgres from "postgres";
import { StemClient } from "../src/app/client.ts";
import { applySchedules } from "../src/scheduler/apply.ts";
import { Beat } from "../src/scheduler/beat.ts";
import { parseEntryDefinition } from "../src/scheduler/entry-definition.ts";

const REDIS_URL = process.env.STEM_BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
const POSTGRES_URL =
  process.env.STEM_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export interface BeatDriftResult {
  entries: number;
  /** Drift percentiles over every entry's run, in ms. */
  driftMs: { p50: number; p90: number; p99: number; max: number };
  /** From the due time until the last task was published. */
  lastPublishedAfterMs: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Schedules `entries` entries for the same second on `url`, runs Beat, and measures drift. */
export async function runBeatDrift(url: string, entries = 1000): Promise<BeatDriftResult> {
  const client = await StemClient.fromUrl(url);
  try {
    const store = (await client.connection(url)).scheduleStore();
    // Far enough ahead for the entries to be stored and Beat to be asleep.
    const dueAt = Math.ceil((Date.now() + 5000) / 1000) * 1000;
    const startAt = new Date(dueAt).toISOString();
    await applySchedules(
      store,
      Array.from({ length: entries }, (_, i) =>
        parseEntryDefinition({
          id: `drift-${String(i).padStart(4, "0")}`,
          task: "bench.noop",
          schedule: { kind: "interval", every: "1h", startAt },
        }),
      ),
    );
    if (Date.now() > dueAt - 500)
      throw new Error("storing the entries took too long; the due time has passed");
    const beat = new Beat({
      scheduleStore: store,
      lockStore: client.lockStore,
      stem: client.stem,
      maxBatch: entries,
    });
    await beat.start();
    // Beat's own counters say when it is done, so the store is not read while it works.
    const deadline = dueAt + 60_000;
    while (Date.now() < deadline && beat.stats.dispatched + beat.stats.failed < entries)
      await Bun.sleep(50);
    await beat.stop();
    const ran = (await store.list()).filter((e) => e.totalRunCount > 0);
    if (ran.length !== entries)
      throw new Error(`only ${ran.length} of ${entries} entries ran within a minute`);
    if (beat.stats.failed > 0) throw new Error(`${beat.stats.failed} dispatches failed`);
    const lastRecorded = Math.max(
      ...(await Promise.all(ran.map((e) => store.history(e.id, 1)))).map(([r]) => r.executedAt),
    );
    const sorted = ran.map((e) => e.drift as number).sort((a, b) => a - b);
    return {
      entries,
      driftMs: {
        p50: percentile(sorted, 50),
        p90: percentile(sorted, 90),
        p99: percentile(sorted, 99),
        max: sorted[sorted.length - 1],
      },
      lastPublishedAfterMs: lastRecorded - dueAt,
    };
  } finally {
    await client.close();
  }
}

/** A fresh store per adapter, and its cleanup. */
async function target(adapter: string): Promise<{ url: string; cleanup(): Promise<void> }> {
  switch (adapter) {
    case "sqlite": {
      const dir = mkdtempSync(join(tmpdir(), "stem-beat-bench-"));
      return {
        url: `sqlite://${join(dir, "beat.db")}`,
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    }
    case "redis": {
      const prefix = `stem-beat-bench-${process.pid}`;
      return {
        url: `${REDIS_URL}?prefix=${prefix}`,
        cleanup: async () => {
          const redis = new Redis(REDIS_URL);
          let cursor = "0";
          do {
            const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
            cursor = next;
            if (keys.length) await redis.unlink(...keys);
          } while (cursor !== "0");
          redis.disconnect();
        },
      };
    }
    case "postgres": {
      const schema = `stem_beat_bench_${process.pid}`;
      return {
        url: `${POSTGRES_URL}?schema=${schema}`,
        cleanup: async () => {
          const sql = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
          await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          await sql.end();
        },
      };
    }
    default:
      throw new Error(`unknown adapter "${adapter}" (use sqlite, redis, postgres)`);
  }
}

/** Runs the drift benchmark on each adapter. */
export async function runBeatSuite(
  adapters: string[],
  entries = 1000,
): Promise<Record<string, BeatDriftResult>> {
  const results: Record<string, BeatDriftResult> = {};
  for (const adapter of adapters) {
    const t = await target(adapter);
    try {
      results[adapter] = await runBeatDrift(t.url, entries);
    } finally {
      await t.cleanup();
    }
  }
  return results;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      adapter: { type: "string", default: "sqlite,redis" },
      entries: { type: "string", default: "1000" },
    },
  });
  const entries = Number(values.entries);
  const results = await runBeatSuite(values.adapter!.split(","), entries);
  process.stdout.write(
    `${JSON.stringify({ suite: "beat-drift", entries, machine: { cpus: navigator.hardwareConcurrency }, results }, null, 2)}\n`,
  );
  process.exit(0);
}
