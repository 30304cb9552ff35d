/**
 * Beat high availability: three Beat processes share one store — a SQLite file, Redis
 * and Postgres, all three at once — and an every-second entry runs for over 30 s. Each
 * due time is dispatched exactly once (the enqueued tasks are counted by their
 * deterministic ids), none is missing, and SIGKILLing the Beat that holds the entry's lock
 * mid-dispatch loses nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applySchedules } from "../../src/scheduler/apply.ts";
import { scheduleLockKey } from "../../src/scheduler/beat.ts";
import { scheduledTaskId } from "../../src/scheduler/dispatch-id.ts";
import { parseEntryDefinition } from "../../src/scheduler/entry-definition.ts";
import { type BeatProcess, openStores, startBeat, stopBeat } from "./fixtures/beat-process.ts";
import {
  adminClient,
  dropSchema,
  randomSchema,
  TEST_POSTGRES_URL,
} from "./fixtures/postgres-test-db.ts";
import { deletePrefix, randomPrefix, REDIS_URL, requireRedis } from "./fixtures/redis-server.ts";

const RUN_MS = 32_000;
const KILL_AT_MS = 12_000;

interface Target {
  name: string;
  url: string;
  cleanup(): Promise<void>;
}

const dir = mkdtempSync(join(tmpdir(), "stem-beat-ha-"));
const prefix = randomPrefix("beat-ha");
const schema = randomSchema("beat_ha");

const targets: Target[] = [
  {
    name: "sqlite",
    url: `sqlite://${join(dir, "ha.db")}`,
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  },
  { name: "redis", url: `${REDIS_URL}?prefix=${prefix}`, cleanup: () => deletePrefix(prefix) },
  {
    name: "postgres",
    url: `${TEST_POSTGRES_URL}?schema=${schema}`,
    cleanup: async () => {
      const admin = await adminClient();
      try {
        await dropSchema(admin, schema);
      } finally {
        await admin.end();
      }
    },
  },
];

beforeAll(async () => {
  await requireRedis();
  const admin = await adminClient();
  await admin.end();
});

afterAll(async () => {
  for (const target of targets) await target.cleanup();
});

/** Runs three Beats on one store and checks every due time was dispatched once. */
async function scenario(target: Target): Promise<void> {
  const ids = [0, 1, 2].map((i) => `${target.name}-${i}`);
  const beats: BeatProcess[] = ids.map((id) =>
    startBeat(target.url, ["--lock-ttl", "2s", "--beat-id", id]),
  );
  const { client, store } = await openStores(target.url);
  try {
    await Promise.all(beats.map((b) => b.ready()));
    // The entry is added once every Beat is up: they pick it up through the change token.
    const [applied] = await applySchedules(store, [
      parseEntryDefinition({ id: "tick", task: "e2e.tick", schedule: "every:1s" }),
    ]);
    const firstDue = applied.entry.nextRunAt as number;
    // Just before a due time, the Beat that will dispatch it holds its lock (Beat locks
    // 500 ms ahead). Kill that one: it dies holding the lock mid-dispatch, and the others
    // must take over once the lock runs out, losing no due time.
    await Bun.sleep(firstDue + KILL_AT_MS - 250 - Date.now());
    const owner = await client.lockStore.ownerOf(scheduleLockKey("tick"));
    const victim = beats[Math.max(0, ids.indexOf(owner ?? ""))];
    victim.proc.kill("SIGKILL");
    await victim.proc.exited;
    console.log(`${target.name}: killed ${owner ?? `${ids[0]} (no lock held)`} holding the lock`);
    await Bun.sleep(RUN_MS - KILL_AT_MS);
    for (const beat of beats) if (beat !== victim) expect(await stopBeat(beat)).toBe(0);

    const entry = await store.get("tick");
    const runs = (await store.history("tick", 1000))
      .map((r) => r.scheduledFor)
      .sort((a, b) => a - b);
    const perBeat = beats.map(
      (b, i) => `${target.name}-${i}: ${(b.log().match(/dispatched sched-tick-/g) ?? []).length}`,
    );
    const context = `${target.name}: ${runs.length} runs (${perBeat.join(", ")})\n${beats.map((b) => b.log()).join("\n")}`;
    console.log(`${target.name}: ${runs.length} runs; dispatched per Beat: ${perBeat.join(", ")}`);
    expect(runs.length, context).toBeGreaterThanOrEqual(29);
    // Every due time from the first one on, each once, none missing.
    expect(runs[0], context).toBe(firstDue);
    runs.forEach((t, i) => expect(t, context).toBe(firstDue + i * 1000));
    expect(entry?.totalRunCount, context).toBe(runs.length);
    expect(entry?.nextRunAt, context).toBe(runs[runs.length - 1] + 1000);
    // The tasks themselves: exactly one per due time, found by its deterministic id.
    const [stats] = await client.broker.stats(["default"]);
    expect(stats.pending + stats.delayed + stats.inflight, context).toBe(runs.length);
    const statuses = await client.backend.getMany(runs.map((t) => scheduledTaskId("tick", t)));
    expect(
      statuses.every((s) => s?.state === "queued" && s.name === "e2e.tick"),
      context,
    ).toBe(true);
  } finally {
    for (const beat of beats) beat.proc.kill("SIGKILL");
    await Promise.all(beats.map((b) => b.proc.exited));
    await client.close();
  }
}

describe("Beat HA", () => {
  test("three Beat processes per store (SQLite, Redis, Postgres) fire each due time exactly once, even when one is SIGKILLed", async () => {
    const results = await Promise.allSettled(targets.map((t) => scenario(t)));
    const failures = results
      .map((r, i) =>
        r.status === "rejected"
          ? `${targets[i].name}: ${(r.reason as Error)?.stack ?? r.reason}`
          : null,
      )
      .filter(Boolean);
    expect(failures).toEqual([]);
  }, 180_000);
});
