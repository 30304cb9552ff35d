/**
 * Workers' retention: the housekeeping a started worker runs by itself, its settings, and
 * the incremental revocation reload.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { RevokeEntry } from "../../src/adapters/contracts.ts";
import { MemoryRevokeStore } from "../../src/adapters/memory/revoke-store.ts";
import { loadConfig } from "../../src/app/config.ts";
import { defineTask, FakeClock, StemClient, StemError } from "../../src/index.ts";
import { eventually } from "../../src/testing/harness.ts";
import {
  RELOAD_OVERLAP_VERSIONS,
  REVOKE_NAMESPACE,
  Revocations,
} from "../../src/worker/revocations.ts";
import { captureLogs } from "../fixtures/capture-logs.ts";

captureLogs();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const opened: StemClient[] = [];
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close();
});

const doomed = defineTask({
  name: "doomed",
  options: { maxRetries: 0 },
  run: () => {
    throw new Error("always");
  },
});

async function deadLetterOne(client: StemClient): Promise<void> {
  await client.enqueue("doomed");
  await eventually(async () => (await client.broker.stats())[0]?.dead === 1, 5000, "a dead letter");
}

describe("worker housekeeping", () => {
  test("a running worker deletes dead letters once they outlive the retention", async () => {
    const clock = new FakeClock(Date.now());
    const client = await StemClient.inMemory({ tasks: [doomed], clock });
    opened.push(client);
    const worker = client.createWorker({ deadLetterRetention: "2h" });
    await worker.start();
    await deadLetterOne(client);
    await clock.advance(HOUR);
    expect((await client.broker.stats())[0].dead).toBe(1);
    // The sweep every minute finds it past 2 hours.
    await clock.advance(HOUR + 60_000);
    await eventually(async () => (await client.broker.stats())[0].dead === 0, 3000, "the purge");
    await worker.shutdown();
  });

  test("STEM_DEAD_LETTER_RETENTION sets the retention; a bad value is refused with its name", async () => {
    expect(loadConfig({}, { STEM_DEAD_LETTER_RETENTION: "7d" }).deadLetterRetention).toBe("7d");
    expect(
      loadConfig({ deadLetterRetention: "1d" }, { STEM_DEAD_LETTER_RETENTION: "7d" }),
    ).toMatchObject({
      deadLetterRetention: "1d",
    });
    expect(() => loadConfig({}, { STEM_DEAD_LETTER_RETENTION: "a week" })).toThrow(
      /STEM_DEAD_LETTER_RETENTION: "a week" is not a duration/,
    );
    const client = await StemClient.inMemory({ tasks: [doomed] });
    opened.push(client);
    expect(() => client.createWorker({ deadLetterRetention: "soon" })).toThrow(StemError);
    expect(
      client.createWorker({ deadLetterRetention: "12h" }).housekeeping?.deadLetterRetentionMs,
    ).toBe(12 * 3_600_000);
    expect(client.createWorker({ housekeeping: false }).housekeeping).toBeUndefined();
  });
});

describe("revocation reloads", () => {
  /** A memory store that records the versions each list asked for. */
  class RecordingStore extends MemoryRevokeStore {
    readonly asked: (number | undefined)[] = [];
    override list(namespace: string, afterVersion?: number): Promise<RevokeEntry[]> {
      this.asked.push(afterVersion);
      return super.list(namespace, afterVersion);
    }
  }
  const entry = (taskId: string, issuedAt: number, expiresAt?: number): RevokeEntry => ({
    namespace: REVOKE_NAMESPACE,
    taskId,
    version: issuedAt * 1000,
    issuedAt,
    terminate: false,
    expiresAt,
  });

  test("after the first full read, only entries above the newest version seen (less the overlap) are read", async () => {
    const clock = new FakeClock(Date.now());
    const store = new RecordingStore();
    const revocations = new Revocations(store, clock);
    const t = clock.now();
    await store.upsertAll([entry("a", t), entry("b", t + 10)]);
    await revocations.refresh();
    expect(store.asked).toEqual([undefined]);
    expect(revocations.get("b")).toBeDefined();
    // Written later by a writer whose clock lags 30 s: still inside the overlap.
    await store.upsertAll([entry("late", t - 30_000)]);
    await revocations.refresh();
    expect(store.asked[1]).toBe((t + 10) * 1000 - RELOAD_OVERLAP_VERSIONS);
    expect(revocations.get("late")).toBeDefined();
    expect(revocations.size).toBe(3);
  });

  test("expired revocations are forgotten at the next reload", async () => {
    const clock = new FakeClock(Date.now());
    const store = new RecordingStore();
    const revocations = new Revocations(store, clock);
    const t = clock.now();
    await store.upsertAll([entry("short", t, t + 1000), entry("long", t + 1, t + DAY)]);
    await revocations.refresh();
    expect(revocations.size).toBe(2);
    await clock.advance(1000);
    expect(revocations.get("short")).toBeUndefined();
    await revocations.refresh();
    expect(revocations.size).toBe(1);
    expect(revocations.get("long")).toBeDefined();
  });
});
