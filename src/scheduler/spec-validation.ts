/**
 * Checking schedule specs as users write them: the map form (`{kind: "interval",
 * every: "30s"}`), legacy strings (`every:5m`, or a cron expression), and JSON text.
 */
import { StemError } from "../core/errors.ts";
import type {
  CalendarSpec,
  ClockedSpec,
  CronSpec,
  IntervalSpec,
  ScheduleSpec,
  SolarSpec,
} from "../core/schedule.ts";
import { compileCron } from "./cron-expression.ts";
import { applySecondField, resolveAliases, SPEC_ALIASES } from "./field-aliases.ts";
import { type FieldPath, FieldProblem, IssueList, show, throwIssues } from "./field-issues.ts";
import {
  checkBoolean,
  checkDuration,
  checkInstant,
  checkIntegerList,
  checkNumberInRange,
  checkObject,
  checkSignedDuration,
} from "./value-checks.ts";

/** The spec kinds, in the order they are documented. */
export const SPEC_KINDS = ["interval", "cron", "solar", "clocked", "calendar"] as const;

const FIELDS: Record<ScheduleSpec["kind"], readonly string[]> = {
  interval: ["kind", "every", "startAt", "endAt"],
  cron: ["kind", "expression", "description"],
  solar: ["kind", "event", "latitude", "longitude", "offset"],
  clocked: ["kind", "runAt", "runOnce"],
  calendar: ["kind", "months", "weekdays", "monthdays", "hours", "minutes"],
};

/** The calendar fields and their allowed ranges (weekdays: 0 = Sunday). */
export const CALENDAR_RANGES = {
  months: [1, 12],
  weekdays: [0, 6],
  monthdays: [1, 31],
  hours: [0, 23],
  minutes: [0, 59],
} as const;

const LEGACY_EVERY = /^every:\s*(.*)$/i;

/**
 * Checks a spec given as a map or a legacy string, recording every problem in `issues`
 * under `base` + the field's path. Returns the spec when it is valid, else undefined.
 * Values are kept as written (durations and times stay strings or numbers) so that
 * specs round-trip unchanged through stores.
 */
export function collectSpec(
  input: unknown,
  issues: IssueList,
  base: FieldPath = [],
): ScheduleSpec | undefined {
  const before = issues.issues.length;
  const spec =
    typeof input === "string" ? legacySpec(input, issues, base) : mapSpec(input, issues, base);
  return issues.issues.length === before ? spec : undefined;
}

function legacySpec(text: string, issues: IssueList, base: FieldPath): ScheduleSpec | undefined {
  const trimmed = text.trim();
  const every = LEGACY_EVERY.exec(trimmed);
  if (every) {
    let written = every[1].trim();
    // Stem-Dart read a bare number in `every:N` as seconds; keep that, written with its unit.
    if (/^\d+(\.\d+)?$/.test(written)) written = `${written}s`;
    const spec: IntervalSpec = { kind: "interval", every: written };
    issues.at([...base, "every"], () => checkEvery(written));
    return spec;
  }
  issues.at([...base, "expression"], () => compileCron(trimmed));
  return { kind: "cron", expression: trimmed };
}

function checkEvery(value: unknown): void {
  const ms = checkDuration(value);
  if (typeof value === "number" && !Number.isInteger(value)) {
    throw new FieldProblem(`${show(value)} is not a whole number of milliseconds`);
  }
  if (ms < 1) throw new FieldProblem(`${show(value)} must be longer than 0 (at least 1ms)`);
}

function mapSpec(input: unknown, issues: IssueList, base: FieldPath): ScheduleSpec | undefined {
  const raw = issues.at(base, () => {
    try {
      return checkObject(input);
    } catch {
      throw new FieldProblem(
        `${show(input)} is not a schedule spec (use a map with a kind, "every:5m", or a cron expression)`,
      );
    }
  });
  if (!raw) return undefined;
  const kindPath: FieldPath = [...base, "kind"];
  const kind = raw.kind;
  if (kind === undefined) {
    issues.add(kindPath, `is required (one of ${SPEC_KINDS.join(", ")})`);
    return undefined;
  }
  if (typeof kind !== "string" || !(SPEC_KINDS as readonly string[]).includes(kind)) {
    issues.add(kindPath, `${show(kind)} is not one of ${SPEC_KINDS.join(", ")}`);
    return undefined;
  }
  const specKind = kind as ScheduleSpec["kind"];
  // The original Stem's field names (everyMs, run_at, ...) become Stem's.
  const resolved = resolveAliases(raw, SPEC_ALIASES[specKind], issues, base);
  const map = resolved.map;
  // Messages name a field as the user wrote it.
  const at = (field: string): FieldPath => [...base, resolved.written[field] ?? field];
  for (const key of Object.keys(map)) {
    // secondField (the original's) is folded into the cron expression below.
    if (!FIELDS[specKind].includes(key) && !(specKind === "cron" && key === "secondField")) {
      issues.add(
        at(key),
        `is not a field of kind "${specKind}" (fields: ${FIELDS[specKind].join(", ")})`,
      );
    }
  }
  const required = (field: string): boolean => {
    if (map[field] !== undefined && map[field] !== null) return true;
    issues.add(at(field), "is required");
    return false;
  };
  const optional = (field: string) => map[field] !== undefined;

  switch (specKind) {
    case "interval": {
      const spec: IntervalSpec = { kind: "interval", every: map.every as IntervalSpec["every"] };
      if (required("every")) issues.at(at("every"), () => checkEvery(map.every));
      let start: number | undefined;
      let end: number | undefined;
      if (optional("startAt")) {
        start = issues.at(at("startAt"), () => checkInstant(map.startAt));
        spec.startAt = map.startAt as string | number;
      }
      if (optional("endAt")) {
        end = issues.at(at("endAt"), () => checkInstant(map.endAt));
        spec.endAt = map.endAt as string | number;
      }
      if (start !== undefined && end !== undefined && start >= end) {
        issues.add(at("endAt"), `${show(map.endAt)} is not after startAt ${show(map.startAt)}`);
      }
      return spec;
    }
    case "cron": {
      const spec: CronSpec = { kind: "cron", expression: map.expression as string };
      const compiled = required("expression")
        ? issues.at(at("expression"), () => compileCron(map.expression as string))
        : undefined;
      if (map.secondField !== undefined && compiled) {
        const withSeconds = applySecondField(map, compiled.expanded, issues, at("secondField"));
        if (
          withSeconds !== undefined &&
          issues.at(at("secondField"), () => compileCron(withSeconds))
        )
          spec.expression = withSeconds;
      }
      if (optional("description")) {
        issues.at(at("description"), () => {
          if (typeof map.description !== "string") {
            throw new FieldProblem(`${show(map.description)} is not a string`);
          }
        });
        spec.description = map.description as string;
      }
      return spec;
    }
    case "solar": {
      const spec: SolarSpec = {
        kind: "solar",
        event: map.event as SolarSpec["event"],
        latitude: map.latitude as number,
        longitude: map.longitude as number,
      };
      if (required("event")) {
        issues.at(at("event"), () => {
          if (map.event !== "sunrise" && map.event !== "sunset" && map.event !== "noon") {
            throw new FieldProblem(`${show(map.event)} is not one of sunrise, sunset, noon`);
          }
        });
      }
      if (required("latitude"))
        issues.at(at("latitude"), () => checkNumberInRange(map.latitude, -90, 90));
      if (required("longitude")) {
        issues.at(at("longitude"), () => checkNumberInRange(map.longitude, -180, 180));
      }
      if (optional("offset")) {
        issues.at(at("offset"), () => checkSignedDuration(map.offset));
        spec.offset = map.offset as SolarSpec["offset"];
      }
      return spec;
    }
    case "clocked": {
      const spec: ClockedSpec = { kind: "clocked", runAt: map.runAt as string | number };
      if (required("runAt")) issues.at(at("runAt"), () => checkInstant(map.runAt));
      if (optional("runOnce")) {
        issues.at(at("runOnce"), () => checkBoolean(map.runOnce));
        spec.runOnce = map.runOnce as boolean;
      }
      return spec;
    }
    case "calendar": {
      const spec: CalendarSpec = { kind: "calendar" };
      for (const [field, [min, max]] of Object.entries(CALENDAR_RANGES)) {
        if (!optional(field)) continue;
        issues.at(at(field), () => checkIntegerList(map[field], min, max));
        spec[field as keyof typeof CALENDAR_RANGES] = map[field] as number[];
      }
      return spec;
    }
  }
}

/**
 * Checks a schedule spec given as a map (`{kind: "interval", every: "30s"}`) or a legacy
 * string, and returns it with only its known fields, values as written. Throws
 * StemError("invalid_argument") naming the entry and each bad field, e.g.
 * `schedule "cleanup": field "every": "5x" is not a duration`.
 */
export function validateSpec(spec: unknown, entryId: string): ScheduleSpec {
  const issues = new IssueList();
  const valid = collectSpec(spec, issues);
  throwIssues(entryId, issues.issues);
  return valid as ScheduleSpec;
}

/**
 * Parses a spec as users type it: a map, JSON text of a map (`{"kind":"cron",...}`), a
 * legacy `every:5m` / `every:30s` / `every:500ms` string (an interval; a bare number
 * means seconds), or any other string, read as a cron expression. Throws like validateSpec.
 */
export function parseSpec(input: string | object, entryId: string): ScheduleSpec {
  if (typeof input === "string" && input.trim().startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch (error) {
      throw new StemError(
        "invalid_argument",
        `schedule "${entryId}": the spec is not valid JSON (${(error as Error).message})`,
      );
    }
    return validateSpec(parsed, entryId);
  }
  return validateSpec(input, entryId);
}
