/**
 * Wall-clock arithmetic in IANA time zones, from the runtime's time-zone database
 * (Intl). A "wall time" is a local date and time encoded as if it were UTC epoch ms, so
 * 2025-03-09 02:30 in New York is `Date.UTC(2025, 2, 9, 2, 30)`.
 */

const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(zone, f);
  }
  return f;
}

/** True for zones that are UTC all year, where no conversion is needed. */
export function isUtc(zone: string | undefined): boolean {
  return zone === undefined || zone === "UTC" || zone === "Etc/UTC" || zone === "GMT";
}

/** The zone's UTC offset at instant `t`, in ms (local wall time = t + offset). */
export function offsetAt(zone: string, t: number): number {
  if (isUtc(zone)) return 0;
  const whole = Math.floor(t / 1000) * 1000;
  const parts = formatter(zone).formatToParts(new Date(whole));
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const p of parts) {
    switch (p.type) {
      case "year":
        year = Number(p.value);
        break;
      case "month":
        month = Number(p.value);
        break;
      case "day":
        day = Number(p.value);
        break;
      case "hour":
        hour = Number(p.value);
        break;
      case "minute":
        minute = Number(p.value);
        break;
      case "second":
        second = Number(p.value);
        break;
    }
  }
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  return wall - whole;
}

/** The wall time in `zone` at instant `t`. */
export function toWallTime(zone: string | undefined, t: number): number {
  return zone === undefined ? t : t + offsetAt(zone, t);
}

/** How a wall time maps to real instants in a zone. */
export type WallTimeInstants =
  /** An ordinary time: exactly one instant. */
  | { kind: "single"; at: number }
  /** Repeated when clocks go back: the first and the second occurrence. */
  | { kind: "repeated"; first: number; second: number }
  /** Skipped when clocks go forward; `resumesAt` is the instant the clocks jumped. */
  | { kind: "skipped"; resumesAt: number };

/**
 * The instants at which the wall clock in `zone` shows `wall`. Assumes at most one
 * offset change within a day either side of it, which holds for every DST rule.
 */
export function instantsOfWallTime(zone: string | undefined, wall: number): WallTimeInstants {
  if (zone === undefined || isUtc(zone)) return { kind: "single", at: wall };
  const before = offsetAt(zone, wall - DAY_MS);
  const after = offsetAt(zone, wall + DAY_MS);
  const valid: number[] = [];
  for (const offset of before === after ? [before] : [before, after]) {
    const t = wall - offset;
    if (offsetAt(zone, t) === offset) valid.push(t);
  }
  if (valid.length === 1) return { kind: "single", at: valid[0] };
  if (valid.length === 2) {
    const [first, second] = valid[0] < valid[1] ? valid : [valid[1], valid[0]];
    return { kind: "repeated", first, second };
  }
  // No instant shows this wall time: clocks jumped over it. Find the jump by bisection
  // between the instant it would be under the new offset (still old offset in force) and
  // under the old offset (new offset already in force), to the second.
  let lo = Math.floor((wall - after) / 1000);
  let hi = Math.ceil((wall - before) / 1000);
  if (lo > hi) [lo, hi] = [hi, lo];
  const oldOffset = offsetAt(zone, lo * 1000);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(zone, mid * 1000) === oldOffset) lo = mid;
    else hi = mid;
  }
  return { kind: "skipped", resumesAt: hi * 1000 };
}

/** The calendar date (`YYYY-MM-DD`) in `zone` at instant `t`. */
export function localDate(zone: string | undefined, t: number): string {
  return new Date(toWallTime(zone, t)).toISOString().slice(0, 10);
}

/**
 * The first instant in (from, until] at which `zone`'s offset differs from its offset at
 * `from`, to the second, or null when it stays the same. Probes a day apart, so it
 * assumes offsets do not change and change back within one day.
 */
export function nextOffsetChange(zone: string, from: number, until: number): number | null {
  if (isUtc(zone) || until <= from) return null;
  const offset = offsetAt(zone, from);
  let before = from;
  while (before < until) {
    const probe = Math.min(before + DAY_MS, until);
    if (offsetAt(zone, probe) !== offset) {
      let lo = Math.floor(before / 1000);
      let hi = Math.ceil(probe / 1000);
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (offsetAt(zone, mid * 1000) === offset) lo = mid;
        else hi = mid;
      }
      return Math.max(hi * 1000, from + 1);
    }
    before = probe;
  }
  return null;
}
