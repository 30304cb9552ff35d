/**
 * graphile-worker benchmark helper (run under Node): the runner options for a variant.
 *
 * - `default`: the library's defaults (pool of 10, a database round trip per job fetch
 *   and per completion); only the concurrency is set.
 * - `batched`: its documented batching (worker.graphile.org/docs/performance): a local
 *   queue of 500 jobs fetched per round trip, completions and failures batched
 *   (`completeJobBatchDelay`/`failJobBatchDelay` 0), as in its own performance set-up.
 */
import { Logger } from "graphile-worker";

/** Drops graphile-worker's per-job info lines (Stem's are off in the benchmark too). */
export const quietLogger = new Logger(() => (level, message) => {
  if (level === "error" || level === "warning")
    process.stderr.write(`graphile-worker ${level}: ${message}\n`);
});

/** `run()` options for VARIANT at CONCURRENCY with the given task list. */
export function runnerOptions(url, schema, variant, concurrency, taskList) {
  if (variant !== "default" && variant !== "batched") {
    throw new Error(`unknown graphile-worker variant "${variant}" (use default or batched)`);
  }
  return {
    connectionString: url,
    schema,
    concurrency,
    noHandleSignals: true,
    logger: quietLogger,
    taskList,
    preset:
      variant === "batched"
        ? { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } }
        : undefined,
  };
}
