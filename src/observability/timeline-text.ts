/**
 * Task timelines in words, for `stem result --timeline` and the dashboard's task detail:
 * one row per entry with its time, event and a sentence of detail.
 */
import { formatDuration } from "../core/duration.ts";
import type { TimelineEntry } from "../core/timeline.ts";

/** One timeline entry as a person reads it. */
export interface TimelineRow {
  at: number;
  event: string;
  detail: string;
}

const iso = (ms: number | undefined) => (ms === undefined ? "?" : new Date(ms).toISOString());
const on = (entry: TimelineEntry) => (entry.worker ? ` on ${entry.worker}` : "");
const attempt = (entry: TimelineEntry) =>
  entry.attempt === undefined ? "" : ` (attempt ${entry.attempt})`;

function queued(entry: TimelineEntry): string {
  const parts = [`queued by ${entry.by ?? "an unknown producer"}`];
  if (entry.priority) parts.push(`priority ${entry.priority}`);
  if (entry.dueAt) parts.push(`due ${iso(entry.dueAt)}`);
  if (entry.uniqueKey) parts.push(`unique key ${entry.uniqueKey}`);
  if (entry.expiresAt) parts.push(`expires ${iso(entry.expiresAt)}`);
  return parts.join(", ");
}

/** The worker that ran the delivery before `index`, from the entries before it. */
function previousWorker(timeline: readonly TimelineEntry[], index: number): string | undefined {
  for (let i = index - 1; i >= 0; i--)
    if (timeline[i].event === "started") return timeline[i].worker;
  return undefined;
}

/** A sentence for `timeline[index]` (earlier entries give context, e.g. who lost a lease). */
export function describeEntry(timeline: readonly TimelineEntry[], index: number): string {
  const e = timeline[index];
  switch (e.event) {
    case "queued":
      return queued(e);
    case "delivered":
      return `delivered to ${e.worker ?? "a worker"}${attempt(e)}${e.deliveries ? `, delivery ${e.deliveries}` : ""}`;
    case "started":
      return `started${on(e)}${attempt(e)}${e.leaseMs ? `, lease ${formatDuration(e.leaseMs)}` : ""}`;
    case "progress":
      return `progress ${e.percent ?? "?"}%`;
    case "rate-limited":
      return `no rate-limit token (${e.reason ?? "its rate limit"})${on(e)}: back in the queue until ${iso(e.dueAt)}`;
    case "retried":
      return `attempt ${e.attempt ?? "?"} failed${on(e)}: ${e.error ?? "?"}; retry due ${iso(e.dueAt)}`;
    case "lease-lost": {
      const worker = previousWorker(timeline, index);
      return `the previous delivery's lease ran out${worker ? ` (worker ${worker} went silent)` : ""}: redelivered`;
    }
    case "returned":
      return `handed back to the queue${on(e)}: ${e.reason ?? "not run"}`;
    case "revoked":
      return `revoked${on(e)}: ${e.reason ?? "revoked"}`;
    case "expired":
      return `expired before it ran${e.worker ? ` (skipped by ${e.worker})` : ""}`;
    case "dead-lettered":
      return `moved to the dead letters: ${e.reason ?? "?"}${e.error ? ` (${e.error})` : ""}`;
    case "replayed":
      return `replayed from the dead letters${e.replays ? ` (replay ${e.replays})` : ""}`;
    case "succeeded":
      return `succeeded${on(e)}${attempt(e)}`;
    case "failed":
      return `failed${on(e)}${attempt(e)}: ${e.error ?? "?"}`;
  }
}

/** Every entry of a timeline as a row, oldest first. */
export function timelineRows(timeline: readonly TimelineEntry[] | undefined): TimelineRow[] {
  return (timeline ?? []).map((entry, i) => ({
    at: entry.at,
    event: entry.event,
    detail: describeEntry(timeline ?? [], i),
  }));
}
