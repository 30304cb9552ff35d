/**
 * A schedule entry as users define it in a schedule file: its keys, how each is checked,
 * and the ScheduleEntry it becomes.
 */
import { formatDuration, parseDuration } from "../core/duration.ts";
import type { ScheduleEntry } from "../core/schedule.ts";
import { ENTRY_ALIASES, ORIGINAL_RUN_STATE, resolveAliases } from "./field-aliases.ts";
import { type FieldPath, IssueList, show, throwIssues } from "./field-issues.ts";
import { collectSpec } from "./spec-validation.ts";
import {
  checkBoolean,
  checkDuration,
  checkInstant,
  checkNonEmptyString,
  checkObject,
  checkTimeZone,
} from "./value-checks.ts";

/** The keys a schedule-file item may have. `id`, `task` and `schedule` are required. */
export const ENTRY_KEYS = [
  "id",
  "task",
  "schedule",
  "queue",
  "enabled",
  "args",
  "kwargs",
  "meta",
  "jitter",
  "timezone",
  "expireAt",
  "runOnce",
] as const;

const REQUIRED = ["id", "task", "schedule"] as const;

/**
 * Checks one item of a schedule file, recording every problem in `issues` with paths
 * relative to the item (`["timezone"]`, `["schedule", "every"]`). Returns the entry
 * (version 0, no runs yet) when the item is valid, else undefined.
 */
export function collectEntry(item: unknown, issues: IssueList): ScheduleEntry | undefined {
  const before = issues.issues.length;
  const raw = issues.at([], () => checkObject(item));
  if (!raw) return undefined;
  // The original Stem's field names (name, taskName, spec, jitterMs) become Stem's.
  const { map, written } = resolveAliases(raw, ENTRY_ALIASES, issues);
  // Messages name a field as the user wrote it.
  const at = (key: string): FieldPath => [written[key] ?? key];
  for (const key of Object.keys(map)) {
    if (!(ENTRY_KEYS as readonly string[]).includes(key)) {
      issues.add(
        at(key),
        ORIGINAL_RUN_STATE.includes(key)
          ? "is run state (the original Stem took it in schedule files); Stem keeps run state in the schedule store, so remove it"
          : `is not a schedule field (fields: ${ENTRY_KEYS.join(", ")})`,
      );
    }
  }
  for (const key of REQUIRED) {
    if (map[key] === undefined || map[key] === null) issues.add(at(key), "is required");
  }
  const has = (key: string) => map[key] !== undefined && map[key] !== null;
  const id = has("id") ? issues.at(at("id"), () => checkNonEmptyString(map.id)) : undefined;
  const task = has("task") ? issues.at(at("task"), () => checkNonEmptyString(map.task)) : undefined;
  const spec = has("schedule") ? collectSpec(map.schedule, issues, at("schedule")) : undefined;
  const entry: ScheduleEntry = {
    id: id ?? "",
    taskName: task ?? "",
    args: {},
    kwargs: {},
    meta: {},
    spec: spec ?? { kind: "interval", every: 0 },
    enabled: true,
    totalRunCount: 0,
    version: 0,
  };
  const optional = (key: string, check: (value: unknown) => void) => {
    if (map[key] !== undefined) issues.at(at(key), () => check(map[key]));
  };
  optional("queue", (v) => (entry.queue = checkNonEmptyString(v)));
  optional("enabled", (v) => (entry.enabled = checkBoolean(v)));
  optional("args", (v) => (entry.args = checkObject(v)));
  optional("kwargs", (v) => (entry.kwargs = checkObject(v)));
  optional("meta", (v) => (entry.meta = checkObject(v)));
  optional("jitter", (v) => {
    checkDuration(v);
    entry.jitter = v as string | number;
  });
  optional("timezone", (v) => (entry.timezone = checkTimeZone(v)));
  optional("expireAt", (v) => (entry.expireAt = checkInstant(v)));
  optional("runOnce", (v) => (entry.runOnce = checkBoolean(v)));
  if (spec?.kind === "interval" && entry.jitter !== undefined) {
    const every = parseDuration(spec.every);
    const jitter = parseDuration(entry.jitter);
    if (jitter > every) {
      issues.add(
        at("jitter"),
        `${show(entry.jitter)} is longer than the interval (${formatDuration(every)}), so runs could overlap`,
      );
    }
  }
  return issues.issues.length === before ? entry : undefined;
}

/**
 * Checks one schedule definition (the same map a schedule file holds: `id`, `task`,
 * `schedule`, ...) and returns its ScheduleEntry. Throws StemError("invalid_argument")
 * naming the schedule and every bad field.
 */
export function parseEntryDefinition(item: unknown): ScheduleEntry {
  const issues = new IssueList();
  const entry = collectEntry(item, issues);
  throwIssues(entryLabel(item), issues.issues);
  return entry as ScheduleEntry;
}

/** The id an item gives: `id`, else the original Stem's `name`; undefined when neither is a string. */
export function itemId(item: unknown): string | undefined {
  const map = item as { id?: unknown; name?: unknown } | null;
  const id = map?.id ?? map?.name;
  return typeof id === "string" && id.trim() !== "" ? id : undefined;
}

/** The id to name an item by in messages: its id, or `#n` when it has none. */
export function entryLabel(item: unknown, index?: number): string {
  return itemId(item) ?? (index === undefined ? "(no id)" : `#${index + 1}`);
}
