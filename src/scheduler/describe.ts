/**
 * One-line, human descriptions of schedule specs for `stem schedule list` and logs.
 */
import { formatDuration, parseDuration } from "../core/duration.ts";
import type { CalendarSpec, ScheduleSpec } from "../core/schedule.ts";
import { instantMs, parseSignedDuration } from "./value-checks.ts";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** `2025-01-01T09:00:00Z` (milliseconds only when there are some). */
function isoTime(value: string | number): string {
  return new Date(instantMs(value)).toISOString().replace(".000Z", "Z");
}

function signedDuration(ms: number): string {
  return ms < 0 ? `-${formatDuration(-ms)}` : `+${formatDuration(ms)}`;
}

function round2(n: number): string {
  return String(Math.round(n * 100) / 100);
}

function calendarParts(spec: CalendarSpec): string {
  const list = (values: number[], names?: string[], base = 0) =>
    [...new Set(values)]
      .sort((a, b) => a - b)
      .map((v) => (names ? names[v - base] : String(v)))
      .join(",");
  const parts: string[] = [];
  if (spec.months) parts.push(`months ${list(spec.months, MONTHS, 1)}`);
  if (spec.monthdays) parts.push(`days ${list(spec.monthdays)}`);
  if (spec.weekdays) parts.push(`weekdays ${list(spec.weekdays, WEEKDAYS)}`);
  if (spec.hours) parts.push(`hours ${list(spec.hours)}`);
  if (spec.minutes) parts.push(`minutes ${list(spec.minutes)}`);
  return parts.length === 0 ? "every minute" : parts.join("; ");
}

/**
 * A short description of a spec: `every 30s`, `every 5m from 2025-01-01T00:00:00Z`,
 * `cron 0 12 * * MON (Europe/London)`, `sunrise @51.51/-0.13 +30m`,
 * `once 2025-01-01T09:00:00Z`, `calendar weekdays Mon,Fri; hours 9; minutes 0 (UTC)`.
 * Wall-clock kinds (cron, calendar) name the time zone they run in (`timezone`, or UTC).
 * The spec must be valid.
 */
export function describeSpec(spec: ScheduleSpec, timezone?: string): string {
  const zone = ` (${timezone ?? "UTC"})`;
  switch (spec.kind) {
    case "interval": {
      let text = `every ${formatDuration(parseDuration(spec.every))}`;
      if (spec.startAt !== undefined) text += ` from ${isoTime(spec.startAt)}`;
      if (spec.endAt !== undefined) text += ` until ${isoTime(spec.endAt)}`;
      return text;
    }
    case "cron":
      return `cron ${spec.expression.trim()}${zone}${spec.description ? ` — ${spec.description}` : ""}`;
    case "solar": {
      const offset = spec.offset === undefined ? 0 : parseSignedDuration(spec.offset);
      const event = spec.event === "noon" ? "solar noon" : spec.event;
      const place = `@${round2(spec.latitude)}/${round2(spec.longitude)}`;
      return `${event} ${place}${offset === 0 ? "" : ` ${signedDuration(offset)}`}`;
    }
    case "clocked":
      return `once ${isoTime(spec.runAt)}`;
    case "calendar":
      return `calendar ${calendarParts(spec)}${zone}`;
  }
}
