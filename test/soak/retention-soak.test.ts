/**
 * The retention soak on SQLite, Redis and Postgres (see retention-soak.ts): after every
 * retention has passed, the store holds nothing that retention governs. `npm test` runs
 * it with a few hundred tasks per backend; `npm run soak` with 200,000
 * (STEM_SOAK_TASKS).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { LogLevels } from "consola";
import { logger } from "../../src/core/logger.ts";
import { openTestStore, type TestStore } from "../e2e/fixtures/test-stores.ts";
import { runSoak, type SoakKind } from "./retention-soak.ts";

/**
 * What may remain once every retention has passed: the schema, queue structures (names,
 * per-queue sizes and their not yet folded Postgres deltas, empty Redis streams) and the
 * dashboard's per-minute counters, which hold at most a day of minutes (pruned as new
 * minutes are counted; src/core/minute-counts.ts). None of it grows with the number of
 * tasks: together it stays under STRUCTURE_BOUND.
 */
const STRUCTURE: Record<SoakKind, string[]> = {
  sqlite: [
    "stem_migrations",
    "stem_queues",
    "stem_queue_sizes",
    "stem_queue_size_fold",
    "stem_change_counters",
    "stem_minute_counts",
  ],
  postgres: ["migrations", "queues", "queue_size_deltas", "minute_counts"],
  redis: [
    "queue keys",
    "queues keys",
    "queues elements",
    "minute-counts keys",
    "minute-counts elements",
  ],
};
const STRUCTURE_BOUND = 5_000;
/** Where each backend counts dead letters and revocations. */
const COUNTED: Record<SoakKind, { dead: string; revokes: string }> = {
  sqlite: { dead: "stem_dead_letters", revokes: "stem_revokes" },
  postgres: { dead: "dead_letters", revokes: "revokes" },
  redis: { dead: "dead elements", revokes: "revokes elements" },
};

// A line per task (every dead letter is a warning) would dwarf the run: errors only.
const savedLevel = logger.level;
beforeAll(() => {
  logger.level = LogLevels.error;
});
afterAll(() => {
  logger.level = savedLevel;
});
const TASKS = Number(process.env.STEM_SOAK_TASKS ?? 300);
const stores: TestStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.cleanup();
});

describe("retention soak", () => {
  for (const kind of ["sqlite", "redis", "postgres"] as SoakKind[]) {
    test(`${kind}: after every retention the store keeps only its queues and schema`, async () => {
      const store = await openTestStore(kind, "soak");
      stores.push(store);
      const report = await runSoak(kind, store, TASKS);
      // npm run soak reports the figures.
      if (process.env.STEM_SOAK_TASKS) console.log(JSON.stringify(report));
      expect(report.before[COUNTED[kind].dead]).toBe(report.deadLetters);
      expect(report.before[COUNTED[kind].revokes]).toBe(report.revoked);
      const left = Object.entries(report.after).filter(
        ([what, n]) => n > 0 && !STRUCTURE[kind].includes(what),
      );
      expect(left).toEqual([]);
      const structure = STRUCTURE[kind].reduce((n, what) => n + (report.after[what] ?? 0), 0);
      expect(structure).toBeLessThan(STRUCTURE_BOUND);
      // Queue structures do not grow with the number of tasks.
      if (kind === "redis") expect(report.after["queue keys"]).toBeLessThanOrEqual(12);
      else expect(report.after[kind === "sqlite" ? "stem_queues" : "queues"]).toBe(1);
    }, 3_600_000);
  }
});
