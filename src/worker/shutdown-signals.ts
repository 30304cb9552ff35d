/**
 * SIGINT/SIGTERM for a worker that owns its process: the first signal starts a warm
 * shutdown (running tasks finish), a second one forces it (they are returned).
 */
import { logger } from "../core/logger.ts";
import type { ShutdownMode } from "./worker-options.ts";

export interface SignalledWorker {
  readonly id: string;
  /** True once a shutdown has begun. */
  stopping(): boolean;
  /** Records the signal that forced the shutdown. */
  forcedBy(signal: string): void;
  shutdown(mode: ShutdownMode): Promise<void>;
}

/** Installs the handlers; returns the function that removes them. */
export function installShutdownSignals(worker: SignalledWorker): () => void {
  const onSignal = (name: string) => {
    const failed = (error: unknown) =>
      logger.error(`worker ${worker.id}: shutdown failed: ${(error as Error).message}`);
    if (worker.stopping()) {
      logger.warn(`${name} again: forcing shutdown`);
      worker.forcedBy(name);
      worker.shutdown("hard").catch(failed);
    } else {
      logger.info(`${name} received: finishing running tasks (send again to force)`);
      worker.shutdown("warm").catch(failed);
    }
  };
  const onInt = () => onSignal("SIGINT");
  const onTerm = () => onSignal("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  return () => {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  };
}
