/**
 * Field names of the original Stem (Dart) schedule files, accepted as aliases so its files
 * apply unchanged. An alias is renamed to Stem's canonical field before checking; giving an
 * alias and its canonical field (or two aliases of one field) with different values is an
 * error naming both.
 */
import { type FieldPath, type IssueList, show } from "./field-issues.ts";

/** Aliases of schedule-item fields: the original's name → Stem's. */
export const ENTRY_ALIASES: Readonly<Record<string, string>> = {
  name: "id",
  taskName: "task",
  spec: "schedule",
  jitterMs: "jitter",
};

/**
 * Run state the original's `schedule apply` read from schedule files. Not aliases: Stem
 * keeps run state in the schedule store, and a file that sets it is refused with a hint.
 */
export const ORIGINAL_RUN_STATE: readonly string[] = [
  "lastRunAt",
  "nextRunAt",
  "lastJitterMs",
  "lastError",
];

/** Aliases of spec fields, per kind. (A cron spec's `secondField` is folded in by applySecondField.) */
export const SPEC_ALIASES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  interval: { everyMs: "every", every_ms: "every", start_at: "startAt", end_at: "endAt" },
  cron: { second_field: "secondField" },
  solar: { offsetMs: "offset" },
  clocked: { run_at: "runAt", run_once: "runOnce" },
  calendar: {},
};

/** A map with aliases renamed, and for each canonical field the key it was written as. */
export interface ResolvedFields {
  map: Record<string, unknown>;
  /** Canonical field → the key used in the source (for paths in messages). */
  written: Record<string, string>;
}

/**
 * Renames `aliases` keys of `map` to their canonical names. When the canonical field and
 * an alias (or two aliases) are both given with different values, records an issue under
 * `base` + the alias naming both, and keeps the first as written.
 */
export function resolveAliases(
  map: Record<string, unknown>,
  aliases: Readonly<Record<string, string>>,
  issues: IssueList,
  base: FieldPath = [],
): ResolvedFields {
  const out: Record<string, unknown> = {};
  const written: Record<string, string> = {};
  for (const [key, value] of Object.entries(map)) {
    const canonical = aliases[key] ?? key;
    if (canonical in out && value !== undefined) {
      const first = written[canonical];
      if (!sameValue(out[canonical], value)) {
        issues.add(
          [...base, key],
          `${show(value)} conflicts with ${JSON.stringify(first)}: ${show(out[canonical])} (` +
            `"${key}" and "${first}" both set "${canonical}"; give one)`,
        );
      }
      continue;
    }
    out[canonical] = value;
    written[canonical] = key;
  }
  return { map: out, written };
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The original's cron `secondField` (or `second_field`): the seconds field of the
 * expression. Returns the expression with it as the leading seconds field — prepended to
 * a five-field expression (`expanded`, aliases such as `@daily` already expanded); a
 * six-field expression must already start with it, else an issue (at `path`) names both.
 */
export function applySecondField(
  map: Record<string, unknown>,
  expanded: string,
  issues: IssueList,
  path: FieldPath,
): string | undefined {
  const raw = map.secondField;
  const second = (typeof raw === "number" ? String(raw) : raw) as unknown;
  if (typeof second !== "string" || second.trim() === "" || /\s/.test(second.trim())) {
    issues.add(path, `${show(raw)} is not a cron seconds field (such as 0, 30 or */10)`);
    return undefined;
  }
  const fields = expanded.split(" ");
  if (fields.length === 5) return `${second.trim()} ${expanded}`;
  if (fields[0] === second.trim()) return expanded;
  issues.add(
    path,
    `${show(raw)} conflicts with the seconds field "${fields[0]}" of "expression" ${show(map.expression)}; give one`,
  );
  return undefined;
}
