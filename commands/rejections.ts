/**
 * The last line of defence of a long-running `stem` process (worker, Beat): a promise
 * rejection nobody handled is logged with its stack and the process keeps serving, instead
 * of dying with tasks held (Bun, like Node, exits on an unhandled rejection by default).
 * Stem's own code handles its errors; this catches what slips through, e.g. a task
 * handler's fire-and-forget promise.
 */
import { logger } from "../src/core/logger.ts";

let installed = false;

/** Installs the handler once per process; `role` names the process in the log line. */
export function keepServingOnUnhandledRejection(role: string): void {
  if (installed) return;
  installed = true;
  process.on("unhandledRejection", (reason) => {
    const error = reason instanceof Error ? reason : new Error(String(reason));
    logger.error(
      `${role} ${process.pid}: unhandled promise rejection (kept serving): ${error.message}${error.stack ? `\n${error.stack}` : ""}`,
    );
  });
}
