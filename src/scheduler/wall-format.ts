/**
 * How wall times and UTC offsets are written in schedule explanations.
 */
import { offsetAt, toWallTime } from "./time-zones.ts";

/** `02:30`, or `02:30:15` when the seconds are not zero, of a wall time (see time-zones.ts). */
export function clockTime(wall: number): string {
  const text = new Date(wall).toISOString().slice(11, 19);
  return text.endsWith(":00") ? text.slice(0, 5) : text;
}

/** `2026-03-08`, the date of a wall time. */
export function wallDate(wall: number): string {
  return new Date(wall).toISOString().slice(0, 10);
}

/** `-04:00`, `+01:00`, `+00:00` for an offset in ms. */
export function offsetText(offsetMs: number): string {
  const sign = offsetMs < 0 ? "-" : "+";
  const minutes = Math.round(Math.abs(offsetMs) / 60_000);
  const hh = String(Math.floor(minutes / 60)).padStart(2, "0");
  const mm = String(minutes % 60).padStart(2, "0");
  return `${sign}${hh}:${mm}`;
}

/** `2026-03-08T03:00:00-04:00`: instant `t` on the wall clock of `zone` (UTC when omitted). */
export function localIso(zone: string | undefined, t: number): string {
  const wall = new Date(toWallTime(zone, t)).toISOString().slice(0, 19);
  return `${wall}${offsetText(zone === undefined ? 0 : offsetAt(zone, t))}`;
}
