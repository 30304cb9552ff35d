/**
 * Beat dispatch drift: 1,000 entries due in the same second, one Beat, on a store URL.
 * Drift is what Beat records per run: the time its task was published minus the due time.
 * A first group of 1,000 entries warms the process up (JIT, statement caches); a second
 * group, due three seconds later, is measured.
 *
 * `bun bench/beat-drift.ts [--adapter sqlite,redis,postgres] [--entries 1000]` prints JSON;
 * also run by `npm run bench -- --suite beat --adapter sqlite,redis`.
 */
import { parseArgs } from "node:util";
import { StemClient } from "../src/app/client.ts";
import { applySchedules } from "../src/scheduler/apply.ts";
import { Beat } from "../src/scheduler/beat.ts";
import { parseEntryDefinition } from "../src/scheduler/entry-definition.ts";
import { storeTarget } from "./targets.ts";

/** The measured group is due this long after the warm-up group. */
const WARMUP_GAP_MS = 3000;

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
    // A first group of entries warms Beat up (as a long-running Beat is); the second group,
    // due WARMUP_GAP_MS later, is measured. Both are far enough ahead to be stored first.
    const warmAt = Math.ceil((Date.now() + 8000) / 1000) * 1000;
    const dueAt = warmAt + WARMUP_GAP_MS;
    const group = (prefix: string, at: number) =>
      Array.from({ length: entries }, (_, i) =>
        parseEntryDefinition({
          id: `${prefix}-${String(i).padStart(4, "0")}`,
          task: "bench.noop",
          schedule: { kind: "interval", every: "1h", startAt: new Date(at).toISOString() },
        }),
      );
    await applySchedules(store, [...group("warm", warmAt), ...group("drift", dueAt)]);
    if (Date.now() > warmAt - 500)
      throw new Error("storing the entries took too long; the due time has passed");
    const beat = new Beat({
      scheduleStore: store,
      lockStore: client.lockStore,
      stem: client.stem,
    });
    await beat.start();
    // Beat's own counters say when it is done, so the store is not read while it works.
    const deadline = dueAt + 60_000;
    while (Date.now() < deadline && beat.stats.dispatched + beat.stats.failed < 2 * entries)
      await Bun.sleep(50);
    await beat.stop();
    const ran = (await store.list()).filter(
      (e) => e.id.startsWith("drift-") && e.totalRunCount > 0,
    );
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

/** The limit on drift p99 for 1,000 entries due at once, on every adapter. */
const DRIFT_P99_LIMIT_MS = 50;

/** One target line per adapter: drift p99 against its limit. */
export function beatTargets(results: Record<string, BeatDriftResult>) {
  return Object.entries(results).map(([adapter, r]) => ({
    target: `${adapter}: drift p99 for ${r.entries} entries due at once < ${DRIFT_P99_LIMIT_MS} ms`,
    measured: r.driftMs.p99,
    limit: DRIFT_P99_LIMIT_MS,
    ratio: Number((DRIFT_P99_LIMIT_MS / Math.max(r.driftMs.p99, 1)).toFixed(2)),
    met: r.driftMs.p99 < DRIFT_P99_LIMIT_MS,
  }));
}

/** Runs the drift benchmark on each adapter. */
export async function runBeatSuite(
  adapters: string[],
  entries = 1000,
): Promise<Record<string, BeatDriftResult>> {
  const results: Record<string, BeatDriftResult> = {};
  for (const adapter of adapters) {
    const t = storeTarget(adapter, "stem-beat-bench");
    try {
      results[adapter] = await runBeatDrift(await t.next(), entries);
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
    `${JSON.stringify({ suite: "beat-drift", entries, machine: { cpus: navigator.hardwareConcurrency }, results, targets: beatTargets(results) }, null, 2)}\n`,
  );
  process.exit(0);
}
