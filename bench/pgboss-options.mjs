/**
 * pg-boss benchmark helper (run under Node): one pg-boss instance per process, and the
 * worker options for a variant. pg-boss 10 (the newest major that runs on Node 20) has
 * no worker concurrency setting: each `work()` call adds one polling worker that runs
 * one batch at a time, so concurrency N is N `work()` calls.
 *
 * - `default`: the library's defaults: each worker fetches 1 job per poll and waits for
 *   the 2-second polling interval between fetches (pg-boss does not LISTEN for new jobs).
 * - `batched`: its documented batch fetch: each worker fetches up to 500 jobs per poll
 *   (`batchSize`; 500 like graphile-worker's local queue here) and polls at the shortest
 *   interval it allows (0.5 s); the handler runs a batch's jobs one after another, so
 *   concurrency stays N.
 */
import PgBoss from "pg-boss";

/** The queue every pg-boss benchmark phase uses (in its own schema). */
export const QUEUE = "bench";

/** Starts pg-boss on SCHEMA (creating it, not timed) with the queue created. */
export async function startBoss(url, schema) {
  const boss = new PgBoss({ connectionString: url, schema });
  boss.on("error", (error) => process.stderr.write(`pg-boss error: ${error.message}\n`));
  await boss.start();
  await boss.createQueue(QUEUE);
  return boss;
}

/** `work()` options for VARIANT. */
export function workOptions(variant) {
  if (variant === "default") return {};
  if (variant === "batched") return { batchSize: 500, pollingIntervalSeconds: 0.5 };
  throw new Error(`unknown pg-boss variant "${variant}" (use default or batched)`);
}

/** Adds CONCURRENCY workers running `handle(job)` for each job of each batch in turn. */
export async function addWorkers(boss, variant, concurrency, handle) {
  for (let i = 0; i < concurrency; i++) {
    await boss.work(QUEUE, workOptions(variant), async (jobs) => {
      for (const job of jobs) await handle(job);
    });
  }
}
