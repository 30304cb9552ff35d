/** What every command shares: store flags, opening a client, output and exit codes. */
import { StemClient } from "../src/app/client.ts";
import type { ConfigOverrides } from "../src/app/config.ts";
import { loadTaskModule } from "../src/app/task-module.ts";
import type { AnyTaskHandler } from "../src/core/task.ts";
import { out } from "./output/terminal.ts";
import { connectOptionsFor, type StoreAccess } from "./store-access.ts";
import { UsageError } from "./usage-error.ts";

export { printTable } from "./output/table.ts";
export { note, out } from "./output/terminal.ts";
export { watch } from "./output/watch.ts";
export { UsageError };

/** Store URL flags; each overrides its STEM_* variable. */
export const storeArgs = {
  broker: {
    type: "string",
    description:
      "Broker URL (overrides STEM_BROKER_URL; default sqlite://./.stem/stem.db, relative to the current folder, which only commands that write create)",
  },
  backend: {
    type: "string",
    description: "Result backend URL (overrides STEM_RESULT_BACKEND_URL)",
  },
  "schedule-store": {
    type: "string",
    description: "Schedule store URL (overrides STEM_SCHEDULE_STORE_URL)",
  },
  "lock-store": { type: "string", description: "Lock store URL (overrides STEM_LOCK_STORE_URL)" },
  "workflow-store": {
    type: "string",
    description: "Workflow store URL (overrides STEM_WORKFLOW_STORE_URL)",
  },
  verbose: { type: "boolean", description: "Show stack traces on errors" },
} as const;

export const jsonArg = {
  json: { type: "boolean", description: "Print JSON for scripts" },
  wide: {
    type: "boolean",
    description: "Tables: every column in full, whatever the terminal width",
  },
} as const;

export type StoreFlags = {
  broker?: string;
  backend?: string;
  "schedule-store"?: string;
  "lock-store"?: string;
  "workflow-store"?: string;
};

export function overridesFrom(args: StoreFlags): ConfigOverrides {
  return {
    brokerUrl: args.broker,
    backendUrl: args.backend,
    scheduleStoreUrl: args["schedule-store"],
    lockStoreUrl: args["lock-store"],
    workflowStoreUrl: args["workflow-store"],
  };
}

/**
 * Opens a client on the configured stores, optionally with the tasks of a module. Only
 * `write` access creates a store that does not exist yet; `read` refuses it.
 */
export async function openClient(
  args: StoreFlags,
  tasks: AnyTaskHandler[] = [],
  access: StoreAccess = "read",
): Promise<StemClient> {
  return StemClient.create({
    ...overridesFrom(args),
    tasks,
    connectOptions: connectOptionsFor(access),
  });
}

/** Runs `fn` with a client and always closes it. */
export async function withClient<T>(
  args: StoreFlags,
  fn: (client: StemClient) => Promise<T>,
  access: StoreAccess = "read",
): Promise<T> {
  const client = await openClient(args, [], access);
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

export async function tasksFrom(file: string | undefined): Promise<AnyTaskHandler[]> {
  return file ? (await loadTaskModule(file)).tasks : [];
}

/** Parses a JSON flag; a bad value is a usage error naming the flag. */
export function parseJsonFlag(
  value: string | undefined,
  flag: string,
): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new UsageError(`--${flag} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`--${flag} must be a JSON object, like '{"to": "a@b.c"}'`);
  }
  return parsed as Record<string, unknown>;
}

/** Sets the exit code for a failed check without throwing (the command still prints). */
export function fail(): void {
  process.exitCode = 1;
}

export function printJson(value: unknown): void {
  out(`${JSON.stringify(value, null, 2)}\n`);
}

export function iso(ms: number | undefined | null): string {
  return ms ? new Date(ms).toISOString() : "";
}

/**
 * Every value of a flag that may be repeated (`--queue a -q b,c` → a, b, c), by its name
 * or its one-letter alias; citty keeps only the last one.
 */
export function repeatedFlag(rawArgs: string[], name: string, short?: string): string[] {
  return flagValues(rawArgs, name, short)
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter(Boolean);
}

/** Every value given to a repeatable flag, as given (not split on commas). */
export function flagValues(rawArgs: string[], name: string, short?: string): string[] {
  const values: string[] = [];
  const spellings = short ? [`--${name}`, `-${short}`] : [`--${name}`];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i];
    for (const flag of spellings) {
      if (arg === flag && i + 1 < rawArgs.length) values.push(rawArgs[++i]);
      else if (arg.startsWith(`${flag}=`)) values.push(arg.slice(flag.length + 1));
    }
  }
  return values;
}
