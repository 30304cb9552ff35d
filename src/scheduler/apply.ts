/**
 * Putting schedule definitions into a schedule store without losing what the store has
 * learned: `stem schedule apply`, Beat's file store, and `stem schedule enable|disable`.
 *
 * A definition (what a schedule file says: task, queue, args, kwargs, meta, spec, jitter,
 * enabled, timezone, expireAt, runOnce) replaces the stored one; the execution state
 * (lastRunAt, totalRunCount, drift, last error and success, history, createdAt) is kept.
 * The next run is kept too while the schedule is unchanged, and computed afresh for a new
 * entry or a changed spec, timezone, expireAt or runOnce. Writes use the store's
 * optimistic version and retry conflicts (another Beat recording a run, another operator)
 * up to five times, re-reading and merging each time.
 */
import type { ScheduleStore } from "../adapters/contracts.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { StemError, VersionConflictError } from "../core/errors.ts";
import type { ScheduleEntry } from "../core/schedule.ts";
import { type NextRunOptions, nextRunAt } from "./next-run.ts";

/** The fields a schedule definition sets; everything else is store-kept state. */
export const DEFINITION_FIELDS = [
  "taskName",
  "queue",
  "args",
  "kwargs",
  "meta",
  "spec",
  "jitter",
  "enabled",
  "timezone",
  "expireAt",
  "runOnce",
] as const satisfies readonly (keyof ScheduleEntry)[];

/** The definition fields that decide when an entry runs. */
const TIMING_FIELDS = ["spec", "timezone", "expireAt", "runOnce"] as const;

/** How many times a conflicting write is retried. */
export const MAX_WRITE_ATTEMPTS = 5;
const RETRY_PAUSE_MS = 50;

/** What applying one definition does. */
export type ApplyAction = "create" | "update" | "unchanged";

/** One entry's outcome (or, in a dry run, what it would be). */
export interface ApplyItem {
  id: string;
  action: ApplyAction;
  /** Definition fields that differ from the stored entry. */
  changed: string[];
  /** The entry as stored (or as it would be). */
  entry: ScheduleEntry;
}

export interface ApplyOptions {
  /** Only report what would change. */
  dryRun?: boolean;
  clock?: Clock;
  nextRun?: NextRunOptions;
}

/** JSON with sorted keys and without undefined values, for comparing definitions. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .filter((k) => v[k] !== undefined)
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}

function same(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

/** The definition fields in which `definition` differs from `stored`. */
export function changedFields(definition: ScheduleEntry, stored: ScheduleEntry): string[] {
  return DEFINITION_FIELDS.filter((field) => !same(definition[field], stored[field]));
}

/**
 * The entry to store for `definition` given what is stored now (null for a new entry),
 * as described at the top of this file. Two more rules:
 * - an entry the store disabled because it has no more runs (a run-once entry that ran,
 *   an expired one) stays disabled until its timing changes;
 * - an entry enabled again does not fire for the time it was disabled: a next run that
 *   has passed is computed afresh.
 */
export function mergeDefinition(
  definition: ScheduleEntry,
  stored: ScheduleEntry | null,
  now: number,
  options: NextRunOptions = {},
): ScheduleEntry {
  const merged: ScheduleEntry = { ...definition };
  for (const field of DEFINITION_FIELDS) {
    if (definition[field] === undefined) delete merged[field];
  }
  if (!stored) {
    merged.totalRunCount = 0;
    merged.version = 0;
    delete merged.lastRunAt;
    setNextRun(merged, nextRunAt({ ...merged, lastRunAt: undefined }, now, options));
    return merged;
  }
  const state: ScheduleEntry = {
    ...merged,
    nextRunAt: stored.nextRunAt,
    lastRunAt: stored.lastRunAt,
    totalRunCount: stored.totalRunCount,
    lastError: stored.lastError,
    lastSuccessAt: stored.lastSuccessAt,
    lastErrorAt: stored.lastErrorAt,
    drift: stored.drift,
    version: stored.version,
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
  };
  for (const key of Object.keys(state) as (keyof ScheduleEntry)[]) {
    if (state[key] === undefined) delete state[key];
  }
  const timingChanged = TIMING_FIELDS.some((field) => !same(definition[field], stored[field]));
  if (timingChanged) {
    // A new schedule: its runs do not follow from the old one's last run.
    setNextRun(state, nextRunAt({ ...state, lastRunAt: undefined }, now, options));
    return state;
  }
  const finished = !stored.enabled && stored.nextRunAt === undefined;
  if (finished) {
    state.enabled = false;
    return state;
  }
  if (state.enabled && !stored.enabled && (stored.nextRunAt ?? now) <= now) {
    setNextRun(state, nextRunAt(state, now, options));
  } else if (state.enabled && stored.nextRunAt === undefined && stored.lastRunAt === undefined) {
    setNextRun(state, nextRunAt(state, now, options));
  }
  return state;
}

function setNextRun(entry: ScheduleEntry, next: number | null): void {
  if (next === null) delete entry.nextRunAt;
  else entry.nextRunAt = next;
}

/** What storing `definition` over `stored` would be. */
export function planDefinition(
  definition: ScheduleEntry,
  stored: ScheduleEntry | null,
  now: number,
  options: NextRunOptions = {},
): ApplyItem {
  const entry = mergeDefinition(definition, stored, now, options);
  if (!stored) {
    return { id: definition.id, action: "create", changed: [], entry };
  }
  const changed = changedFields(entry, stored);
  if (changed.length === 0 && same(entry.nextRunAt, stored.nextRunAt)) {
    return { id: definition.id, action: "unchanged", changed, entry: stored };
  }
  return { id: definition.id, action: "update", changed, entry };
}

/**
 * Re-reads an entry and writes `change(entry)` with the read version, retrying version
 * conflicts up to MAX_WRITE_ATTEMPTS times. `change` returns null to write nothing.
 * Returns the stored entry (or the unchanged one), or null when it does not exist.
 */
export async function updateEntry(
  store: ScheduleStore,
  id: string,
  change: (stored: ScheduleEntry | null) => ScheduleEntry | null,
  clock: Clock = systemClock,
): Promise<ScheduleEntry | null> {
  for (let attempt = 1; ; attempt++) {
    const stored = await store.get(id);
    const next = change(stored);
    if (next === null) return stored;
    try {
      return await store.upsert({ ...next, version: stored?.version ?? 0 });
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      if (attempt >= MAX_WRITE_ATTEMPTS) {
        throw new StemError(
          "conflict",
          `schedule "${id}" kept changing while being written (${MAX_WRITE_ATTEMPTS} attempts); try again`,
          { cause: error },
        );
      }
      await clock.sleep(RETRY_PAUSE_MS * attempt);
    }
  }
}

/**
 * Stores definitions (already validated, e.g. by loadScheduleFiles), keeping each
 * entry's execution state; with `dryRun`, only reports what would change. Returns one
 * item per definition, in order.
 */
export async function applySchedules(
  store: ScheduleStore,
  definitions: readonly ScheduleEntry[],
  options: ApplyOptions = {},
): Promise<ApplyItem[]> {
  const clock = options.clock ?? systemClock;
  const items: ApplyItem[] = [];
  for (const definition of definitions) {
    if (options.dryRun) {
      items.push(
        planDefinition(definition, await store.get(definition.id), clock.now(), options.nextRun),
      );
      continue;
    }
    let planned: ApplyItem | undefined;
    const stored = await updateEntry(
      store,
      definition.id,
      (current) => {
        planned = planDefinition(definition, current, clock.now(), options.nextRun);
        return planned.action === "unchanged" ? null : planned.entry;
      },
      clock,
    );
    const item = planned as ApplyItem;
    if (stored) item.entry = stored;
    items.push(item);
  }
  return items;
}

/**
 * Enables or disables an entry with the same retry loop. Enabling does not fire the time
 * the entry spent disabled: a next run that has passed is computed afresh. Null when the
 * entry does not exist.
 */
export async function setScheduleEnabled(
  store: ScheduleStore,
  id: string,
  enabled: boolean,
  options: { clock?: Clock; nextRun?: NextRunOptions } = {},
): Promise<ScheduleEntry | null> {
  const clock = options.clock ?? systemClock;
  let found = false;
  const result = await updateEntry(
    store,
    id,
    (stored) => {
      if (!stored) return null;
      found = true;
      if (stored.enabled === enabled) return null;
      const next: ScheduleEntry = { ...stored, enabled };
      const now = clock.now();
      if (enabled && (stored.nextRunAt === undefined || stored.nextRunAt <= now)) {
        setNextRun(next, nextRunAt(next, now, options.nextRun));
      }
      return next;
    },
    clock,
  );
  return found ? result : null;
}
