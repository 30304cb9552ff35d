/**
 * Which commands may create a store, and which stores a command may use. Commands that
 * only read open stores `existingOnly`, so a typo'd path or the wrong folder is reported
 * instead of leaving an empty `.stem/stem.db` behind; commands whose effect must outlive
 * the process refuse stores that live in its memory.
 */
import type { ConnectOptions } from "../src/adapters/contracts.ts";
import { isEphemeralUrl, redactUrl } from "../src/adapters/url.ts";
import { type ConfigOverrides, loadConfig } from "../src/app/config.ts";
import { StoreMissingError } from "../src/core/errors.ts";
import { UsageError } from "./usage-error.ts";

/** `read`: use only stores that exist. `write`: create the embedded store when missing. */
export type StoreAccess = "read" | "write";

export function connectOptionsFor(access: StoreAccess): ConnectOptions {
  return access === "read" ? { existingOnly: true } : {};
}

/** The lines that follow a StoreMissingError: where the default lives, how to point elsewhere. */
export function missingStoreHint(error: unknown): string | undefined {
  if (!(error instanceof StoreMissingError)) return undefined;
  return [
    "This command only uses a store that exists; it never creates one. The default store is",
    "./.stem/stem.db in the current folder, created by worker, beat, enqueue, schedule apply or",
    "wf start. Run stem where your store is, or point to it with --broker URL (or STEM_BROKER_URL;",
    "--backend, --schedule-store and --workflow-store for the others).",
  ].join("\n");
}

type DurableStore = "broker" | "backend" | "schedule store" | "workflow store";

/**
 * Refuses a store that cannot outlive the process (memory://, sqlite::memory:) for a
 * command whose `effect` is meant for other processes, naming the store and why.
 */
export function requireDurable(
  overrides: ConfigOverrides,
  stores: DurableStore[],
  effect: string,
): void {
  const config = loadConfig(overrides);
  const urls: Record<DurableStore, string> = {
    broker: config.brokerUrl,
    backend: config.backendUrl,
    "schedule store": config.scheduleStoreUrl ?? config.brokerUrl,
    "workflow store": config.workflowStoreUrl,
  };
  for (const store of stores) {
    const url = urls[store];
    if (isEphemeralUrl(url))
      throw new UsageError(
        `the ${store} ${redactUrl(url)} lives only in this process, so ${effect} would vanish when stem exits; use sqlite://PATH, redis:// or postgres://`,
      );
  }
}
