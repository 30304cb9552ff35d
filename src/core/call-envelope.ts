/** The envelope of an enqueue call, and the `queued` status the producer stores for it. */
import { addLinkFrame } from "../canvas/links.ts";
import type { TaskCall } from "./definition.ts";
import { parseDuration } from "./duration.ts";
import { clampPriority, type Envelope, MetaKeys } from "./envelope.ts";
import { StemError } from "./errors.ts";
import { perCallLimitMeta } from "./per-call-limits.ts";
import type { TaskRegistry } from "./registry.ts";
import type { Router } from "./routing.ts";
import type { TaskStatus } from "./states.ts";
import { queuedEntry } from "./timeline.ts";
import { uuidv7 } from "./uuid.ts";

/**
 * The envelope of `call` at `now`: its options over the registered task's (`registry`,
 * when the producer has one, must know the task), routed to a queue by `router`.
 */
export function envelopeOfCall(
  call: TaskCall,
  now: number,
  registry: TaskRegistry | undefined,
  router: Router,
): Envelope {
  const registered = registry?.get(call.name);
  if (registry && !registered) {
    throw new StemError(
      "unknown_task",
      `unknown task "${call.name}" (registered: ${registry.names().join(", ") || "none"})`,
    );
  }
  const task = registered?.options;
  const o = call.options ?? {};
  const priority = o.priority ?? task?.priority ?? 0;
  if (!Number.isFinite(priority)) {
    throw new StemError("invalid_argument", `priority must be a number from 0 to 9`);
  }
  const eta = o.eta instanceof Date ? o.eta.getTime() : o.eta;
  const delayMs = o.delay === undefined ? undefined : parseDuration(o.delay, "delay");
  const notBefore = eta ?? (delayMs ? now + delayMs : undefined);
  const meta: Record<string, unknown> = { ...o.meta };
  if (o.expires !== undefined) meta[MetaKeys.expiresAt] = expiresAt(o.expires, now);
  if (o.ignoreResult ?? task?.ignoreResult) meta[MetaKeys.ignoreResult] = true;
  else delete meta[MetaKeys.ignoreResult];
  Object.assign(meta, perCallLimitMeta(o));
  const id = o.taskId ?? uuidv7();
  addLinkFrame(meta, id, o, registry);
  return {
    id,
    name: call.name,
    args: call.args ?? {},
    headers: { ...o.headers },
    queue: router.queueFor(call.name, o.queue, task?.queue),
    priority: clampPriority(priority),
    attempt: 0,
    maxRetries: o.maxRetries ?? task?.maxRetries,
    enqueuedAt: now,
    notBefore: notBefore && notBefore > now ? notBefore : undefined,
    visibilityTimeoutMs:
      o.visibilityTimeout !== undefined
        ? parseDuration(o.visibilityTimeout, "visibilityTimeout")
        : task?.visibilityTimeoutMs,
    meta,
  };
}

/** The `queued` status stored for a task as it is enqueued. */
export function queuedStatus(envelope: Envelope, now: number): TaskStatus {
  return {
    id: envelope.id,
    name: envelope.name,
    queue: envelope.queue,
    state: "queued",
    args: envelope.args,
    attempt: 0,
    meta: {
      ...(envelope.maxRetries !== undefined ? { maxRetries: envelope.maxRetries } : {}),
      ...(envelope.notBefore ? { notBefore: envelope.notBefore } : {}),
    },
    createdAt: now,
    updatedAt: now,
    timeline: [queuedEntry(envelope, now)],
  };
}

function expiresAt(value: Date | number | string, now: number): number {
  if (value instanceof Date) return value.getTime();
  // A number below a year of ms is a relative duration; larger numbers are epoch times.
  if (typeof value === "number" && value > 31_536_000_000) return value;
  return now + parseDuration(value, "expires");
}
