/**
 * The message a broker carries: everything a worker needs to run one task.
 * Times are epoch milliseconds. `id` stays the same across retries and redeliveries.
 */
import { uuidv7 } from "./uuid.ts";

export interface Envelope {
  id: string;
  name: string;
  args: Record<string, unknown>;
  headers: Record<string, string>;
  queue: string;
  /** 0–9, higher is delivered first within a queue. */
  priority: number;
  /**
   * Earlier deliveries: 0 on the first. Brokers store and bump this count; everything a
   * person or a handler sees is the attempt number, from 1 (`attemptNumber`).
   */
  attempt: number;
  /** Retries allowed; absent when the producer did not know the task (the worker's task options decide). */
  maxRetries?: number;
  enqueuedAt: number;
  /** Not delivered before this time. */
  notBefore?: number;
  /** Lease length for this task; the broker default applies when absent. */
  visibilityTimeoutMs?: number;
  meta: Record<string, unknown>;
}

/**
 * The number of the delivery being run, from 1: what `ctx.attempt`, task statuses, logs
 * and the CLI call the attempt.
 */
export function attemptNumber(envelope: Pick<Envelope, "attempt">): number {
  return envelope.attempt + 1;
}

/** Well-known header names. */
export const Headers = {
  traceparent: "traceparent",
  tracestate: "tracestate",
  signature: "stem-signature",
  signatureKey: "stem-signature-key",
  groupId: "stem-group-id",
  chordId: "stem-chord-id",
  scheduledFrom: "scheduled-from",
  scheduleId: "schedule-id",
  tenant: "tenant",
} as const;

/** Well-known meta keys. */
export const MetaKeys = {
  parentTaskId: "stem.parentTaskId",
  rootTaskId: "stem.rootTaskId",
  expiresAt: "stem.expiresAt",
  replayCount: "stem.replay.count",
  uniqueKey: "stem.unique.key",
  softTimeLimitMs: "stem.softTimeLimitMs",
  hardTimeLimitMs: "stem.timeLimitMs",
  /** `true`: the producer wrote no status and the worker writes none (`ignoreResult`). */
  ignoreResult: "stem.ignoreResult",
  maxDeliveries: "stem.maxDeliveries",
} as const;

export const MIN_PRIORITY = 0;
export const MAX_PRIORITY = 9;

/** Clamps a priority into 0–9. */
export function clampPriority(priority: number | undefined): number {
  if (priority === undefined || !Number.isFinite(priority)) return MIN_PRIORITY;
  return Math.min(MAX_PRIORITY, Math.max(MIN_PRIORITY, Math.round(priority)));
}

/** Serialises an envelope for storage. */
export function encodeEnvelope(envelope: Envelope): string {
  return JSON.stringify(envelope);
}

/**
 * Parses a stored envelope, checking the fields a worker relies on. Throws with a reason
 * when the text is not an envelope; brokers dead-letter such messages with that reason.
 */
export function decodeEnvelope(text: string): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`undecodable message: ${(error as Error).message}`);
  }
  return validateEnvelope(value);
}

/** Checks that a parsed value has the shape of an envelope; throws naming the bad field. */
export function validateEnvelope(value: unknown): Envelope {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("undecodable message: not a JSON object");
  }
  const v = value as Record<string, unknown>;
  const need = (field: string, ok: boolean) => {
    if (!ok) throw new Error(`undecodable message: field "${field}" is missing or invalid`);
  };
  need("id", typeof v.id === "string" && v.id.length > 0);
  need("name", typeof v.name === "string" && v.name.length > 0);
  need("queue", typeof v.queue === "string" && v.queue.length > 0);
  need("args", typeof v.args === "object" && v.args !== null && !Array.isArray(v.args));
  need("headers", v.headers === undefined || (typeof v.headers === "object" && v.headers !== null));
  need("meta", v.meta === undefined || (typeof v.meta === "object" && v.meta !== null));
  return {
    id: v.id as string,
    name: v.name as string,
    args: v.args as Record<string, unknown>,
    headers: (v.headers as Record<string, string>) ?? {},
    queue: v.queue as string,
    priority: clampPriority(v.priority as number),
    attempt: typeof v.attempt === "number" ? v.attempt : 0,
    maxRetries: typeof v.maxRetries === "number" ? v.maxRetries : undefined,
    enqueuedAt: typeof v.enqueuedAt === "number" ? v.enqueuedAt : Date.now(),
    notBefore: typeof v.notBefore === "number" ? v.notBefore : undefined,
    visibilityTimeoutMs:
      typeof v.visibilityTimeoutMs === "number" ? v.visibilityTimeoutMs : undefined,
    meta: (v.meta as Record<string, unknown>) ?? {},
  };
}

/** An envelope with defaults for everything not given (new id, queue `default`, now). */
export function buildEnvelope(
  fields: Partial<Envelope> & Pick<Envelope, "name">,
  now = Date.now(),
): Envelope {
  return {
    id: fields.id ?? uuidv7(),
    name: fields.name,
    args: fields.args ?? {},
    headers: fields.headers ?? {},
    queue: fields.queue ?? "default",
    priority: clampPriority(fields.priority),
    attempt: fields.attempt ?? 0,
    maxRetries: fields.maxRetries,
    enqueuedAt: fields.enqueuedAt ?? now,
    notBefore: fields.notBefore,
    visibilityTimeoutMs: fields.visibilityTimeoutMs,
    meta: fields.meta ?? {},
  };
}
