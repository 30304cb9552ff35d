/** The `ctx` a handler receives: its delivery's fields and the calls back into the worker. */
import { RetryRequest, type TaskContext } from "../core/context.ts";
import { parseDuration } from "../core/duration.ts";
import { attemptNumber, type Envelope, Headers, MetaKeys } from "../core/envelope.ts";
import { logger } from "../core/logger.ts";
import type { Stem } from "../core/stem.ts";
import { checkStorable } from "../core/storable.ts";
import { currentInstrumentation } from "../observability/instrumentation.ts";

export interface ContextParts {
  envelope: Envelope;
  workerId: string;
  signal: AbortSignal;
  stem: Stem;
  /** The task's lease: what heartbeat() and extendLease() without an argument extend by. */
  leaseMs: number;
  /** Pushes the delivery's lease out to now + ms; false when it was lost. */
  extendLease(byMs: number): Promise<boolean>;
  /** Records a progress report (data already checked storable). */
  recordProgress(percent: number, data: unknown): void;
}

/** Builds a handler's context. */
export function taskContext(parts: ContextParts): TaskContext {
  const { envelope, leaseMs } = parts;
  return {
    id: envelope.id,
    name: envelope.name,
    queue: envelope.queue,
    attempt: attemptNumber(envelope),
    args: envelope.args,
    headers: envelope.headers,
    meta: envelope.meta,
    workerId: parts.workerId,
    signal: parts.signal,
    previousResult: envelope.meta["stem.chain.previousResult"],
    // Fire-and-forget calls (a thread's heartbeat, an unawaited extendLease) must never
    // end as unhandled rejections: a store outage is logged, and the lease keeper retries.
    heartbeat: async () => {
      try {
        await parts.extendLease(leaseMs);
      } catch (error) {
        logger.warn(`task ${envelope.id}: heartbeat failed: ${(error as Error).message}`);
      }
    },
    extendLease: (by) =>
      settledQuietly(
        (async () =>
          parts.extendLease(by === undefined ? leaseMs : parseDuration(by, "extendLease")))(),
        `task ${envelope.id}: extending its lease failed`,
      ),
    // Data no backend can store is refused here, to the handler, not in a batched write.
    progress: (percent, data) =>
      settledQuietly(
        (async () => {
          checkStorable(data, "progress data");
          parts.recordProgress(percent, data);
        })(),
        `task ${envelope.id}: progress not recorded`,
      ),
    retry: (options = {}) => {
      throw new RetryRequest(
        options.countdown === undefined ? undefined : parseDuration(options.countdown, "countdown"),
        options.error,
      );
    },
    // Bound to the task's trace, so children link to it even when asked from a thread.
    enqueue: bindToTrace((name, args = {}, options = {}) =>
      parts.stem.enqueue(name, args, {
        ...options,
        headers: { ...inheritedHeaders(envelope), ...options.headers },
        meta: {
          [MetaKeys.parentTaskId]: envelope.id,
          [MetaKeys.rootTaskId]: envelope.meta[MetaKeys.rootTaskId] ?? envelope.id,
          ...options.meta,
        },
      }),
    ),
  };
}

/**
 * A context call's promise that never becomes an unhandled rejection: a handler that
 * awaits it still gets the error; one that calls it and moves on (fire and forget) only
 * leaves a log line, instead of a process-killing unhandled rejection.
 */
function settledQuietly<T>(promise: Promise<T>, what: string): Promise<T> {
  promise.catch((error) => logger.warn(`${what}: ${(error as Error).message}`));
  return promise;
}

function bindToTrace<F extends (...args: never[]) => unknown>(fn: F): F {
  return currentInstrumentation()?.bind(fn) ?? fn;
}

/** Headers a child task inherits: the caller's own, not Stem's per-message ones. */
function inheritedHeaders(envelope: Envelope): Record<string, string> {
  const out: Record<string, string> = {};
  const own = new Set<string>([
    Headers.signature,
    Headers.signatureKey,
    Headers.groupId,
    Headers.chordId,
    Headers.traceparent,
    Headers.tracestate,
    Headers.scheduledFrom,
    Headers.scheduleId,
  ]);
  for (const [k, v] of Object.entries(envelope.headers)) if (!own.has(k)) out[k] = v;
  return out;
}
