/**
 * Where Stem's stores live. Command-line flags override STEM_* environment variables,
 * which override the embedded default: one SQLite file, ./.stem/stem.db.
 */
import { DEFAULT_URL } from "../adapters/url.ts";

export interface StemConfig {
  brokerUrl: string;
  backendUrl: string;
  scheduleStoreUrl?: string;
  lockStoreUrl: string;
  workflowStoreUrl: string;
  defaultQueue: string;
}

export type ConfigOverrides = Partial<StemConfig>;

/** Resolves the configuration: overrides, then environment, then defaults. */
export function loadConfig(
  overrides: ConfigOverrides = {},
  env: Record<string, string | undefined> = process.env,
): StemConfig {
  const pick = (override: string | undefined, name: string) => override || env[name] || undefined;
  const brokerUrl = pick(overrides.brokerUrl, "STEM_BROKER_URL") ?? DEFAULT_URL;
  // Unset stores live with the broker, so one URL is enough to move everything.
  const backendUrl = pick(overrides.backendUrl, "STEM_RESULT_BACKEND_URL") ?? brokerUrl;
  return {
    brokerUrl,
    backendUrl,
    scheduleStoreUrl: pick(overrides.scheduleStoreUrl, "STEM_SCHEDULE_STORE_URL"),
    lockStoreUrl: pick(overrides.lockStoreUrl, "STEM_LOCK_STORE_URL") ?? brokerUrl,
    workflowStoreUrl: pick(overrides.workflowStoreUrl, "STEM_WORKFLOW_STORE_URL") ?? backendUrl,
    defaultQueue: pick(overrides.defaultQueue, "STEM_DEFAULT_QUEUE") ?? "default",
  };
}
