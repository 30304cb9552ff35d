/**
 * Where `stem schedule` commands find entries: the schedule store, or with `--schedules`
 * the entries schedule files define (the file store), with run state from the store.
 */
import type { ScheduleStore } from "../src/adapters/contracts.ts";
import { loadConfig } from "../src/app/config.ts";
import { Connections } from "../src/app/connections.ts";
import { FileScheduleStore } from "../src/scheduler/file-store.ts";
import { overridesFrom, repeatedFlag, type StoreFlags } from "./shared.ts";
import { connectOptionsFor, type StoreAccess } from "./store-access.ts";

/** `--schedules`: read entries from schedule files instead of listing the whole store. */
export const schedulesArg = {
  schedules: {
    type: "string",
    description:
      "Schedule file or directory (repeatable or comma-separated): the entries these files define, with run state from the schedule store",
  },
} as const;

/** Where schedule run state lives: the schedule store URL, else the default connection (the broker's URL). */
export function scheduleStoreUrl(args: StoreFlags): string {
  const config = loadConfig(overridesFrom(args));
  return config.scheduleStoreUrl ?? config.brokerUrl;
}

/** The paths given with --schedules (repeatable, comma-separated). */
export function schedulePaths(rawArgs: string[]): string[] {
  return repeatedFlag(rawArgs, "schedules");
}

/**
 * Opens the schedule store for a command and closes it afterwards. With `paths`, the
 * entries come from those files (a read-only file store view: nothing is written).
 * Only `write` access creates a store that does not exist yet.
 */
export async function withScheduleStore<T>(
  args: StoreFlags,
  paths: string[],
  fn: (store: ScheduleStore) => Promise<T>,
  access: StoreAccess = "read",
): Promise<T> {
  const connections = new Connections(connectOptionsFor(access));
  try {
    const state = (await connections.get(scheduleStoreUrl(args))).scheduleStore();
    if (paths.length === 0) return await fn(state);
    const files = new FileScheduleStore({ paths, state, sync: false });
    await files.load();
    return await fn(files);
  } finally {
    await connections.closeAll();
  }
}
