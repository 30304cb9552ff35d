/** Formatting for people: times, ages, durations, JSON. */

export function time(ms: number | null | undefined): string {
  if (!ms) return "";
  return new Date(ms)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
}

/** "12s ago", "in 3m". */
export function ago(ms: number | null | undefined, now = Date.now()): string {
  if (!ms) return "";
  const diff = now - ms;
  const text = duration(Math.abs(diff));
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`;
  const m = s / 60;
  if (m < 60) return `${Math.floor(m)}m ${Math.round(s % 60)}s`;
  const h = m / 60;
  if (h < 48) return `${Math.floor(h)}h ${Math.round(m % 60)}m`;
  return `${Math.floor(h / 24)}d ${Math.round(h % 24)}h`;
}

export function pretty(value: unknown): string {
  if (value === undefined) return "";
  return JSON.stringify(value, null, 2);
}

export function short(value: unknown, max = 80): string {
  const text = value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A task or run id short enough for a table: its start and end (UUID v7 ids share their start). */
export function shortId(id: string): string {
  return id.length > 14 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id;
}
