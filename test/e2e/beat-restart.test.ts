/**
 * A Beat process stopped and started again resumes from the state in the store: no due
 * time fires twice; a quick restart (within the missed-run grace) loses nothing; after a
 * longer outage the entry fires once for the latest missed due time and the skipped runs
 * are logged — the documented missed-run policy, nothing more lost.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scheduledTaskId } from "../../src/scheduler/dispatch-id.ts";
import { openStores, startBeat, stopBeat } from "./fixtures/beat-process.ts";

const dir = mkdtempSync(join(tmpdir(), "stem-beat-restart-"));
const url = `sqlite://${join(dir, "stem.db")}`;
const file = join(dir, "schedules.yaml");
writeFileSync(file, `schedules:\n  - id: tick\n    task: e2e.tick\n    schedule: "every:1s"\n`);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs one Beat process for `ms` after it is ready, then stops it; returns its log. */
async function runBeat(ms: number, args: string[]): Promise<string> {
  const beat = startBeat(url, ["--schedules", file, "--lock-ttl", "1s", ...args]);
  try {
    await beat.ready();
    await Bun.sleep(ms);
    expect(await stopBeat(beat)).toBe(0);
    return beat.log();
  } finally {
    beat.proc.kill("SIGKILL");
  }
}

describe("Beat restart", () => {
  test("resumes from stored state: no duplicates, no loss on a quick restart, one collapsed run after an outage", async () => {
    await runBeat(4000, ["--missed-run-grace", "10s"]);
    // Quick restart: the runs due while it was restarting are caught up.
    const second = await runBeat(4000, ["--missed-run-grace", "10s"]);
    expect(second).not.toContain("skipped");
    const { client, store } = await openStores(url);
    let lastBeforeOutage: number;
    try {
      lastBeforeOutage = (await store.get("tick"))?.lastRunAt as number;
    } finally {
      await client.close();
    }
    // Outage longer than the grace.
    await Bun.sleep(6000);
    const third = await runBeat(3000, ["--missed-run-grace", "2s"]);

    const reopened = await openStores(url);
    try {
      const entry = await reopened.store.get("tick");
      const runs = (await reopened.store.history("tick", 1000))
        .map((r) => r.scheduledFor)
        .sort((a, b) => a - b);
      const context = `runs: ${runs.map((t) => t - runs[0]).join(",")}\n${third}`;
      expect(new Set(runs).size, context).toBe(runs.length);
      expect(entry?.totalRunCount, context).toBe(runs.length);
      // One schedule, one phase: every run is a whole number of seconds after the first.
      for (const t of runs) expect((t - runs[0]) % 1000, context).toBe(0);
      const gaps = runs
        .slice(1)
        .map((t, i) => t - runs[i])
        .filter((d) => d !== 1000);
      // Exactly one gap: the outage beyond the grace.
      expect(gaps.length, context).toBe(1);
      const skipped = gaps[0] / 1000 - 1;
      expect(skipped, context).toBeGreaterThanOrEqual(5);
      expect(third, context).toContain(`skipped ${skipped} earlier run(s)`);
      // The gap starts after the last run before the outage.
      const gapStart = runs.findIndex((t, i) => i > 0 && t - runs[i - 1] !== 1000) - 1;
      expect(runs[gapStart], context).toBeGreaterThanOrEqual(lastBeforeOutage - 1000);
      expect(runs[gapStart], context).toBeLessThanOrEqual(lastBeforeOutage);
      // One task per run, found by its id; nothing else was enqueued.
      const [stats] = await reopened.client.broker.stats(["default"]);
      expect(stats.pending, context).toBe(runs.length);
      const statuses = await reopened.client.backend.getMany(
        runs.map((t) => scheduledTaskId("tick", t)),
      );
      expect(
        statuses.every((s) => s !== null),
        context,
      ).toBe(true);
    } finally {
      await reopened.client.close();
    }
  }, 90_000);
});
