/**
 * Checkers for the kinds of values schedule specs and entries hold: durations (signed or
 * not), points in time, IANA time zones, integer lists. Each returns the parsed value or
 * throws a FieldProblem whose message names the bad value.
 */
import { type DurationInput, parseDuration } from "../core/duration.ts";
import { checked, FieldProblem, show } from "./field-issues.ts";

const DURATION_HINT = "(use e.g. 500ms, 30s, 10m, 1h30m)";

/** A non-negative duration in ms from `500ms`, `1h30m` or a number of ms. */
export function checkDuration(value: unknown): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) {
      throw new FieldProblem(`${show(value)} is not a duration (a number is milliseconds, >= 0)`);
    }
    return value;
  }
  if (typeof value !== "string") {
    throw new FieldProblem(`${show(value)} is not a duration ${DURATION_HINT}`);
  }
  try {
    return parseDuration(value);
  } catch {
    throw new FieldProblem(`${show(value)} is not a duration ${DURATION_HINT}`);
  }
}

/** A duration that may be negative: a leading minus on a string (`-30m`) or a negative number. */
export function checkSignedDuration(value: unknown): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new FieldProblem(`${show(value)} is not a duration`);
    return value;
  }
  if (typeof value === "string") {
    const text = value.trim();
    if (text.startsWith("-")) return -checkUnsignedText(value, text.slice(1));
    if (text.startsWith("+")) return checkUnsignedText(value, text.slice(1));
  }
  return checkDuration(value);
}

function checkUnsignedText(original: string, text: string): number {
  try {
    return parseDuration(text.trim());
  } catch {
    throw new FieldProblem(`${show(original)} is not a duration (use e.g. 30m, -30m, 1h15m)`);
  }
}

/**
 * Parses a signed duration as written in a spec (`-30m`, `+1h`, `90000`) into ms.
 * Throws StemError("invalid_argument") when it is not one.
 */
export function parseSignedDuration(value: DurationInput): number {
  return checked("offset", () => checkSignedDuration(value));
}

const ISO_WITH_ZONE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|([+-])(\d{2}):?(\d{2}))$/;

/** Epoch ms of an ISO 8601 date-time with a zone designator, or NaN when it is not one. */
function parseIsoWithZone(text: string): number {
  const m = ISO_WITH_ZONE.exec(text.toUpperCase());
  if (!m) return Number.NaN;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number);
  const second = m[6] ? Number(m[6]) : 0;
  const fraction = m[7] ? Math.floor(Number(m[7]) * 1000) : 0;
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return Number.NaN;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, fraction);
  if (new Date(wall).getUTCDate() !== day) return Number.NaN; // 2025-02-30
  let offsetMinutes = 0;
  if (m[8] !== "Z") {
    const [oh, om] = [Number(m[10]), Number(m[11])];
    if (oh > 23 || om > 59) return Number.NaN;
    offsetMinutes = (m[9] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  return wall - offsetMinutes * 60_000;
}

/**
 * A point in time: an ISO 8601 date-time with a zone designator (`2025-01-01T09:00:00Z`,
 * `2025-01-01T10:00:00+01:00`) or epoch milliseconds. Returns epoch ms.
 */
export function checkInstant(value: unknown): number {
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0) {
      throw new FieldProblem(
        `${show(value)} is not a time (epoch milliseconds must be a whole number >= 0)`,
      );
    }
    return value;
  }
  if (typeof value === "string") {
    const ms = parseIsoWithZone(value.trim());
    if (Number.isFinite(ms)) return ms;
    throw new FieldProblem(
      `${show(value)} is not an ISO 8601 time with a zone (e.g. 2025-01-01T09:00:00Z) or epoch milliseconds`,
    );
  }
  throw new FieldProblem(`${show(value)} is not a time (use ISO 8601, e.g. 2025-01-01T09:00:00Z)`);
}

/**
 * Converts a time as written in a spec (ISO with zone or epoch ms) to epoch ms. Throws
 * StemError("invalid_argument") when it is not one.
 */
export function instantMs(value: string | number): number {
  return checked("time", () => checkInstant(value));
}

const zoneCache = new Map<string, boolean>();

/**
 * True when `zone` names an IANA time zone the runtime knows (`Europe/London`, `UTC`).
 * Raw offsets such as `+01:00` are refused: they have no DST rules.
 */
export function isIanaTimeZone(zone: string): boolean {
  const known = zoneCache.get(zone);
  if (known !== undefined) return known;
  let valid = false;
  if (zone.trim() === zone && zone !== "" && !/^[+-]/.test(zone)) {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: zone });
      valid = true;
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
    }
  }
  zoneCache.set(zone, valid);
  return valid;
}

/** An IANA time zone name. */
export function checkTimeZone(value: unknown): string {
  if (typeof value !== "string" || !isIanaTimeZone(value)) {
    throw new FieldProblem(`${show(value)} is not an IANA time zone (e.g. Europe/London, UTC)`);
  }
  return value;
}

/** A non-empty list of distinct-or-not integers, each within [min, max]. */
export function checkIntegerList(value: unknown, min: number, max: number): number[] {
  if (!Array.isArray(value)) {
    throw new FieldProblem(`${show(value)} is not a list of integers ${min}–${max}`);
  }
  if (value.length === 0) {
    throw new FieldProblem(`is empty (omit the field to mean every value)`);
  }
  for (const item of value) {
    if (typeof item !== "number" || !Number.isInteger(item)) {
      throw new FieldProblem(`${show(item)} is not an integer (allowed: ${min}–${max})`);
    }
    if (item < min || item > max) {
      throw new FieldProblem(`${item} is out of range ${min}–${max}`);
    }
  }
  return value as number[];
}

/** A finite number within [min, max]. */
export function checkNumberInRange(value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new FieldProblem(`${show(value)} is not a number`);
  }
  if (value < min || value > max) throw new FieldProblem(`${value} is out of range ${min}..${max}`);
  return value;
}

/** A non-empty string. */
export function checkNonEmptyString(value: unknown): string {
  if (typeof value !== "string") throw new FieldProblem(`${show(value)} is not a string`);
  if (value.trim() === "") throw new FieldProblem("is empty");
  return value;
}

/** A boolean. */
export function checkBoolean(value: unknown): boolean {
  if (typeof value !== "boolean") throw new FieldProblem(`${show(value)} is not true or false`);
  return value;
}

/** A plain object (a map), not a list or scalar. */
export function checkObject(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new FieldProblem(`${show(value)} is not a map of keys to values`);
  }
  return value as Record<string, unknown>;
}
