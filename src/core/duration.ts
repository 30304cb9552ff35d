import { StemError } from "./errors.ts";

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/** A duration as users write it: milliseconds, or a string such as `500ms`, `30s`, `1h30m`. */
export type DurationInput = number | string;

/**
 * Parses a duration into milliseconds. Numbers are milliseconds; strings are one or more
 * `<number><unit>` parts with units ms, s, m, h, d (`1h30m`). A bare numeric string is
 * milliseconds. Throws a StemError naming `what` when the input is not a duration.
 */
export function parseDuration(input: DurationInput, what = "duration"): number {
  if (typeof input === "number") {
    if (!Number.isFinite(input) || input < 0) {
      throw new StemError(
        "invalid_argument",
        `${what}: expected a non-negative duration, got ${input}`,
      );
    }
    return input;
  }
  const text = String(input).trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  let total = 0;
  PART.lastIndex = 0;
  let matched = 0;
  while (PART.lastIndex < text.length) {
    const m = PART.exec(text);
    if (!m) break;
    total += Number(m[1]) * UNIT_MS[m[2]];
    matched = PART.lastIndex;
  }
  if (text.length === 0 || matched !== text.length) {
    throw new StemError(
      "invalid_argument",
      `${what}: "${input}" is not a duration (use e.g. 500ms, 30s, 10m, 1h30m)`,
    );
  }
  return Math.round(total);
}

/** Formats milliseconds the way users write them: `1h30m`, `45s`, `250ms`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000 || ms % 1000 !== 0) return `${ms}ms`;
  let rest = ms;
  let out = "";
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1_000],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
