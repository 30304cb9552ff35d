/**
 * Task timelines: a short, bounded history of what happened to a task, kept by the result
 * backend beside its status. Writers never read it back: each status write carries only
 * the entries it adds (`TaskStatus.timeline`) and the backend appends them, so a timeline
 * costs no extra round trip. Reads return the whole stored history.
 */
import { hostname } from "node:os";
import { WorkflowMetaKeys } from "../workflow/run-task.ts";
import { attemptNumber, type Envelope, Headers, MetaKeys } from "./envelope.ts";
import type { TaskStatus } from "./states.ts";

/** What happened. */
export type TimelineEvent =
  | "queued"
  | "delivered"
  | "started"
  | "progress"
  | "rate-limited"
  | "retried"
  | "lease-lost"
  | "returned"
  | "revoked"
  | "expired"
  | "dead-lettered"
  | "replayed"
  | "succeeded"
  | "failed";

/** One event in a task's life. Times are epoch milliseconds; absent fields do not apply. */
export interface TimelineEntry {
  event: TimelineEvent;
  at: number;
  /** Who queued it: `beat entry X`, `task ID`, `chord ID`, `workflow run ID`, `producer HOST (pid N)`. */
  by?: string;
  /** The worker that delivered, ran or settled it. */
  worker?: string;
  /** The attempt number (from 1). */
  attempt?: number;
  /** How many times the broker has handed the message out, this delivery included. */
  deliveries?: number;
  /** The lease the worker holds the task with (ms); renewed while it runs. */
  leaseMs?: number;
  percent?: number;
  /** When it is due again (a retry, a rate-limit deferral) or first due (a delayed task). */
  dueAt?: number;
  reason?: string;
  error?: string;
  priority?: number;
  /** The uniqueness lock key a unique task holds while queued. */
  uniqueKey?: string;
  /** When it expires unrun (`expires`). */
  expiresAt?: number;
  /** How many times it has been replayed from the dead letters. */
  replays?: number;
}

/** Entries kept per task: the first (how it was queued) and the latest ones. */
export const TIMELINE_CAP = 50;

/**
 * The stored timeline with `added` appended: consecutive progress entries collapse into
 * the latest, and past `cap` entries the first is kept with the latest `cap - 1`. The
 * Redis and Postgres adapters do the same on the server (lua/shared.ts, Postgres migration "task timelines").
 */
export function appendTimeline(
  stored: readonly TimelineEntry[] | undefined,
  added: readonly TimelineEntry[] | undefined,
  cap = TIMELINE_CAP,
): TimelineEntry[] {
  const out = [...(stored ?? [])];
  for (const entry of added ?? []) {
    if (entry.event === "progress" && out.at(-1)?.event === "progress") out[out.length - 1] = entry;
    else out.push(entry);
  }
  return out.length <= cap ? out : [out[0], ...out.slice(out.length - cap + 1)];
}

/** A status without its timeline entries (what the status record itself stores). */
export function withoutTimeline(status: TaskStatus): TaskStatus {
  if (status.timeline === undefined) return status;
  const { timeline: _, ...rest } = status;
  return rest;
}

/**
 * Statuses with one per id, the later winning as in a whole-record upsert, but with the
 * timeline entries of the earlier ones kept in front of its own.
 */
export function latestWithTimelines(statuses: readonly TaskStatus[]): TaskStatus[] {
  const byId = new Map<string, TaskStatus>();
  for (const status of statuses) {
    const earlier = byId.get(status.id);
    byId.set(
      status.id,
      earlier?.timeline?.length
        ? { ...status, timeline: appendTimeline(earlier.timeline, status.timeline, Infinity) }
        : status,
    );
  }
  return [...byId.values()];
}

/** Who queued a task, from its envelope: Beat, a parent task, a canvas, a workflow, a producer. */
export function queuedBy(envelope: Envelope): string {
  const schedule = envelope.headers[Headers.scheduleId];
  if (schedule) return `beat entry ${schedule}`;
  const workflowRun = envelope.meta[WorkflowMetaKeys.runId];
  if (typeof workflowRun === "string") return `workflow run ${workflowRun}`;
  const chord = envelope.headers[Headers.chordId];
  if (chord) return `chord ${chord}`;
  const group = envelope.headers[Headers.groupId];
  if (group) return `group ${group}`;
  const parent = envelope.meta[MetaKeys.parentTaskId];
  if (typeof parent === "string") return `task ${parent}`;
  producerName ??= `producer ${hostname()} (pid ${process.pid})`;
  return producerName;
}

/** This process as a producer, named once: `os.hostname()` is a system call. */
let producerName: string | undefined;

/** The `queued` entry the producer writes with a task's first status. */
export function queuedEntry(envelope: Envelope, now: number): TimelineEntry {
  const entry: TimelineEntry = { event: "queued", at: now, by: queuedBy(envelope) };
  if (envelope.priority) entry.priority = envelope.priority;
  if (envelope.notBefore) entry.dueAt = envelope.notBefore;
  const unique = envelope.meta[MetaKeys.uniqueKey];
  if (typeof unique === "string") entry.uniqueKey = unique;
  const expires = envelope.meta[MetaKeys.expiresAt];
  if (typeof expires === "number") entry.expiresAt = expires;
  return entry;
}

/**
 * The entries a worker writes as it starts a delivery: replayed (the first delivery after
 * a replay from the dead letters), lease-lost (the delivery before ended by its lease
 * running out), delivered at `deliveredAt`, started now.
 */
export function startEntries(
  envelope: Envelope,
  delivery: { deliveries: number; afterLeaseLoss: boolean },
  worker: string,
  times: { deliveredAt: number; now: number; leaseMs: number },
): TimelineEntry[] {
  const attempt = attemptNumber(envelope);
  const entries: TimelineEntry[] = [];
  const replays = envelope.meta[MetaKeys.replayCount];
  if (typeof replays === "number" && replays > 0 && envelope.attempt === 0)
    entries.push({ event: "replayed", at: times.deliveredAt, replays });
  if (delivery.afterLeaseLoss) entries.push({ event: "lease-lost", at: times.deliveredAt });
  entries.push(
    {
      event: "delivered",
      at: times.deliveredAt,
      worker,
      attempt,
      deliveries: delivery.deliveries,
    },
    { event: "started", at: times.now, worker, attempt, leaseMs: times.leaseMs },
  );
  return entries;
}
