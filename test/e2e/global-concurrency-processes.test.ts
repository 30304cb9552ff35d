/**
 * The acceptance test of global concurrency: two worker processes share a store and a
 * task with a global concurrency of 3; 100 tasks never run more than 3 at once, also when
 * one worker is SIGKILLed mid-task (its slots come back after their lease and every task
 * completes). On SQLite, Redis and Postgres.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StemClient } from "../../src/index.ts";
import { eventually } from "../../src/testing/harness.ts";
import { openTestStore, type StoreKind } from "./fixtures/test-stores.ts";
import { startWorkerScript } from "./worker-processes.ts";

const FIXTURE = join(import.meta.dir, "fixtures/concurrency-worker-process.ts");
const TASKS = 100;
const LIMIT = 3;

function startWorker(url: string, log: string, workerId: string) {
  return startWorkerScript(FIXTURE, [url, log, workerId]);
}

interface Run {
  id: string;
  worker: string;
  start: number;
  /** How long the handler sleeps. */
  ms: number;
  end?: number;
}

/** Handler runs from the log, in the order they started. */
function runs(log: string): Run[] {
  if (!existsSync(log)) return [];
  const open = new Map<string, Run>();
  const all: Run[] = [];
  for (const line of readFileSync(log, "utf8").split("\n")) {
    const [what, id, worker, at, ms] = line.split(" ");
    if (what === "start") {
      const run = { id, worker, start: Number(at), ms: Number(ms) };
      open.set(`${id} ${worker}`, run);
      all.push(run);
    } else if (what === "end") {
      const run = open.get(`${id} ${worker}`);
      if (run) run.end = Number(at);
      open.delete(`${id} ${worker}`);
    }
  }
  return all;
}

/** The most runs in progress at any moment; a run without an end lasts until `cutOff`. */
function peakOverlap(all: Run[], cutOff: (run: Run) => number): number {
  const events = all.flatMap((r) => [
    { at: r.start, delta: 1 },
    { at: r.end ?? cutOff(r), delta: -1 },
  ]);
  // At equal times an end comes first: a slot is released after its handler returned.
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let now = 0;
  let peak = 0;
  for (const e of events) {
    now += e.delta;
    peak = Math.max(peak, now);
  }
  return peak;
}

for (const kind of ["sqlite", "redis", "postgres"] as StoreKind[]) {
  describe(`global concurrency across worker processes on ${kind}`, () => {
    test(`${TASKS} tasks never run more than ${LIMIT} at once, also when a worker is SIGKILLed mid-task`, async () => {
      const store = await openTestStore(kind, "gcproc");
      const dir = mkdtempSync(join(tmpdir(), "stem-gc-"));
      const log = join(dir, "runs.log");
      const workers = [
        startWorker(store.url, log, "gc-victim"),
        startWorker(store.url, log, "gc-survivor"),
      ];
      const client = await StemClient.fromUrl(store.url);
      try {
        await Promise.all(workers.map((w) => w.ready));
        // Every fifth task runs long, so that the victim surely starts some and can be killed
        // in the middle of one (which worker gets which task is up to the race for slots).
        const ids = await client.stem.enqueueMany(
          Array.from({ length: TASKS }, (_, n) => ({
            name: "gc.capped",
            args: { ms: n % 5 === 2 ? 1500 : 60 },
          })),
        );
        // Kill the victim just after it started a long task, once some tasks are done.
        await eventually(
          () => {
            const all = runs(log);
            const now = performance.timeOrigin + performance.now();
            return (
              all.filter((r) => r.end !== undefined).length >= 5 &&
              all.some(
                (r) =>
                  r.worker === "gc-victim" &&
                  r.ms > 1000 &&
                  r.end === undefined &&
                  now - r.start < 900,
              )
            );
          },
          60_000,
          "the victim in the middle of a long task",
        );
        workers[0].proc.kill("SIGKILL");
        await workers[0].proc.exited;
        const killedAt = performance.timeOrigin + performance.now();
        // It held a slot when it died; nothing will release it but its lease.
        const held = await client.concurrencySlots.usage("task:gc.capped");
        expect(held?.holders.some((h) => h.startsWith("gc-victim/"))).toBe(true);

        for (const id of ids)
          expect((await client.waitForTask(id, { timeout: 60_000 })).state).toBe("succeeded");
        const all = runs(log);
        expect(all.some((r) => r.worker === "gc-victim" && r.end === undefined)).toBe(true);
        // A run cut off by the kill ended then, not later.
        const peak = peakOverlap(all, () => killedAt);
        if (peak > LIMIT)
          throw new Error(
            `${peak} runs at once (limit ${LIMIT}); killed at ${killedAt}; runs:\n${JSON.stringify(all)}\nworkers' stderr:\n${workers.map((w) => w.stderr()).join("\n")}`,
          );
        expect(peak).toBeGreaterThan(1);
        expect(new Set(all.filter((r) => r.end !== undefined).map((r) => r.id)).size).toBe(TASKS);
        // The killed worker's slots came back (nothing released them but their lease).
        expect(await client.concurrencySlots.usage("task:gc.capped")).toEqual({
          key: "task:gc.capped",
          limit: LIMIT,
          used: 0,
          holders: [],
        });
      } finally {
        for (const w of workers) w.proc.kill("SIGKILL");
        await Promise.all(workers.map((w) => w.proc.exited));
        await client.close();
        rmSync(dir, { recursive: true, force: true });
        await store.cleanup();
      }
    }, 120_000);
  });
}
