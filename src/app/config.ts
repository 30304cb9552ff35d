/**
 * Where Stem's stores live. Command-line flags override STEM_* environment variables,
 * which override the embedded default: one SQLite file, ./.stem/stem.db.
 */
import { DEFAULT_URL } from "../adapters/url.ts";
import { parseDuration } from "../core/duration.ts";

export interface StemConfig {
  brokerUrl: string;
  backendUrl: string;
  scheduleStoreUrl?: string;
  lockStoreUrl: string;
  workflowStoreUrl: string;
  defaultQueue: string;
  /** How long workers keep dead letters (a duration such as `30d`; `0` keeps them). */
  deadLetterRetention?: string;
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
    deadLetterRetention: checkedDuration(
      pick(overrides.deadLetterRetention, "STEM_DEAD_LETTER_RETENTION"),
      overrides.deadLetterRetention ? "deadLetterRetention" : "STEM_DEAD_LETTER_RETENTION",
    ),
  };
}

/** A duration setting, refused at once with the setting's name when it does not parse. */
function checkedDuration(value: string | undefined, name: string): string | undefined {
  if (value !== undefined) parseDuration(value, name);
  return value;
}
