/**
 * The seam between Stem's runtime and telemetry. The producer and the worker ask
 * `currentInstrumentation()` at each enqueue and task run; while telemetry is off it is
 * undefined and they do nothing more. This module imports no OpenTelemetry code: that
 * is loaded only when telemetry starts (see telemetry.ts).
 */
import type { QueueStats } from "../adapters/contracts.ts";
import type { Envelope } from "../core/envelope.ts";

/** What telemetry hooks into. Installed process-wide by `startTelemetry`. */
export interface Instrumentation {
  /**
   * Called for each envelope about to be published, before `beforePublish` hooks (so a
   * signature covers what this adds): may add headers such as `traceparent`. Returns a
   * function called once the publish settles, with its error if it failed.
   */
  enqueue(envelope: Envelope): (error?: unknown) => void;
  /** Runs a task's whole pipeline (handler, result, follow-ups); resolves to its outcome. */
  execute<T extends string>(
    envelope: Envelope,
    workerId: string,
    run: () => Promise<T>,
  ): Promise<T>;
  /** Binds a callback to the current trace context (calls that arrive from handler threads). */
  bind<F extends (...args: never[]) => unknown>(fn: F): F;
}

let current: Instrumentation | undefined;

/** The installed instrumentation, or undefined while telemetry is off. */
export function currentInstrumentation(): Instrumentation | undefined {
  return current;
}

/** Installs (or with undefined, removes) the process-wide instrumentation. */
export function installInstrumentation(instrumentation: Instrumentation | undefined): void {
  current = instrumentation;
}

/** What metrics read from a running worker (queue depth and in-flight gauges). */
export interface WorkerProbe {
  id: string;
  queues: string[];
  inflight(): number;
  queueStats(): Promise<QueueStats[]>;
}

const workers = new Map<string, WorkerProbe>();

/** Called by a worker when it starts; costs one map entry, telemetry or not. */
export function registerWorker(probe: WorkerProbe): void {
  workers.set(probe.id, probe);
}

/** Called by a worker when it has stopped. */
export function unregisterWorker(id: string): void {
  workers.delete(id);
}

/** Workers running in this process. */
export function liveWorkers(): WorkerProbe[] {
  return [...workers.values()];
}
