/**
 * The next sunrise, sunset or solar noon at a place (suncalc), and the days on which the
 * event does not happen (polar day and polar night).
 */
import SunCalc from "suncalc";
import type { SolarSpec } from "../core/schedule.ts";
import { parseSignedDuration } from "./value-checks.ts";

const DAY_MS = 86_400_000;
/** How far ahead a search goes before giving up: a little over a year. */
export const SOLAR_SEARCH_DAYS = 370;
/** The sun's altitude at sunrise and sunset (upper limb on the horizon, with refraction). */
const HORIZON_RAD = (-0.833 * Math.PI) / 180;

/** A run of consecutive days on which a solar event does not occur. */
export interface SolarSkip {
  event: "sunrise" | "sunset";
  latitude: number;
  longitude: number;
  /** First and last skipped day (`YYYY-MM-DD`, the local solar date at the place). */
  from: string;
  to: string;
  days: number;
  /** Polar day: the sun stays up; polar night: it stays down. */
  reason: "polar day" | "polar night";
  /** `no sunset at lat 69.65, lon 18.96 on 2025-06-15 (polar day)`, ready to log. */
  message: string;
}

/** The result of a solar search: the next run (null when none within a year) and the days skipped. */
export interface SolarRun {
  at: number | null;
  skipped: SolarSkip[];
}

/** The event's time (before the offset) on the local solar day `day` (days since the epoch), or null. */
function eventOnDay(spec: SolarSpec, day: number): { at: number | null; noon: number } {
  // Local solar noon of that calendar day, approximately: suncalc picks the solar cycle
  // nearest the instant it is given.
  const reference = day * DAY_MS + DAY_MS / 2 - (spec.longitude / 360) * DAY_MS;
  const times = SunCalc.getTimes(new Date(reference), spec.latitude, spec.longitude);
  const noon = times.solarNoon.getTime();
  const at = spec.event === "noon" ? noon : times[spec.event].getTime();
  return { at: Number.isFinite(at) ? at : null, noon };
}

/**
 * The first time strictly after `after` at which `spec`'s event (plus its offset)
 * happens, searching up to SOLAR_SEARCH_DAYS ahead. Days on which the event does not
 * happen at that latitude are skipped and reported in `skipped`. Times come from suncalc
 * (sun's upper limb at -0.833°, no elevation): within about two minutes of published
 * tables, typically a minute or so later than NOAA's calculator.
 */
export function nextSolarRun(spec: SolarSpec, after: number): SolarRun {
  const offset = spec.offset === undefined ? 0 : parseSignedDuration(spec.offset);
  const skipped: SolarSkip[] = [];
  const first = Math.floor((after - offset) / DAY_MS) - 2;
  for (let day = first; day <= first + SOLAR_SEARCH_DAYS; day++) {
    const { at, noon } = eventOnDay(spec, day);
    if (at !== null) {
      if (at + offset > after) return { at: at + offset, skipped };
      continue;
    }
    // Only days whose event would have come after `after` are worth reporting.
    if (noon + offset + DAY_MS / 2 <= after || spec.event === "noon") continue;
    const altitude = SunCalc.getPosition(new Date(noon), spec.latitude, spec.longitude).altitude;
    addSkip(skipped, spec, day, altitude > HORIZON_RAD ? "polar day" : "polar night");
  }
  return { at: null, skipped };
}

function addSkip(
  skipped: SolarSkip[],
  spec: SolarSpec,
  day: number,
  reason: SolarSkip["reason"],
): void {
  const date = new Date(day * DAY_MS).toISOString().slice(0, 10);
  const last = skipped.at(-1);
  const event = spec.event as SolarSkip["event"];
  if (last && last.reason === reason && last.days > 0 && dayNumber(last.to) === day - 1) {
    last.to = date;
    last.days += 1;
    last.message = skipMessage(last);
    return;
  }
  const skip: SolarSkip = {
    event,
    latitude: spec.latitude,
    longitude: spec.longitude,
    from: date,
    to: date,
    days: 1,
    reason,
    message: "",
  };
  skip.message = skipMessage(skip);
  skipped.push(skip);
}

function dayNumber(date: string): number {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
}

function skipMessage(s: SolarSkip): string {
  const place = `lat ${s.latitude}, lon ${s.longitude}`;
  const when =
    s.days === 1
      ? `on ${s.from} (${s.reason})`
      : `from ${s.from} to ${s.to} (${s.days} days, ${s.reason})`;
  return `no ${s.event} at ${place} ${when}`;
}
