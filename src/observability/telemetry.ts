/**
 * Turning OpenTelemetry on and off. Telemetry is off unless started in code
 * (`startTelemetry`) or requested by the environment (`OTEL_EXPORTER_OTLP_ENDPOINT`, or
 * `STEM_OTEL=1`), in which case every StemClient starts it on creation and the last one
 * closed flushes and stops it. While off, no OpenTelemetry module is loaded and the
 * producer and worker do no telemetry work at all.
 */
import type { IMetricReader } from "@opentelemetry/sdk-metrics";
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { StemError } from "../core/errors.ts";
import { logger } from "../core/logger.ts";

export interface TelemetryOptions {
  /** Resource `service.name`. Default: OTEL_SERVICE_NAME, else `stem`. */
  serviceName?: string;
  /** Span processors (e.g. a SimpleSpanProcessor around an in-memory exporter). Default: from OTEL_TRACES_EXPORTER (otlp). */
  spanProcessors?: SpanProcessor[];
  /** Metric readers. Default: from OTEL_METRICS_EXPORTER (otlp, every OTEL_METRIC_EXPORT_INTERVAL ms). */
  metricReaders?: IMetricReader[];
  /**
   * `false` when the application registers OpenTelemetry providers itself: Stem then
   * records its spans and metrics with those and starts no SDK. Default true.
   */
  sdk?: boolean;
}

/** Running telemetry. */
export interface Telemetry {
  /** Exports everything recorded so far. */
  forceFlush(): Promise<void>;
  /** Flushes, stops recording and (when Stem started the SDK) stops the SDK. */
  shutdown(): Promise<void>;
}

interface Running {
  telemetry: Telemetry;
  /** Started by the environment (stops with its last client) or by code (stops when told). */
  owner: "env" | "code";
  clients: number;
  /** The promise `running` holds for this start. */
  handle: Promise<Running>;
}

let running: Promise<Running> | null = null;
/** The started telemetry, once `running` has resolved. */
let active: Running | null = null;

/** True when the environment asks for telemetry. `STEM_OTEL=0` or `OTEL_SDK_DISABLED=true` turn it off. */
export function telemetryRequested(env: Record<string, string | undefined> = process.env): boolean {
  const flag = env.STEM_OTEL?.trim().toLowerCase();
  if (flag === "0" || flag === "false" || env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true")
    return false;
  if (flag === "1" || flag === "true") return true;
  if (flag)
    throw new StemError("invalid_argument", `STEM_OTEL must be 1 or 0, got "${env.STEM_OTEL}"`);
  return Boolean(
    env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim(),
  );
}

/** True while telemetry is running in this process. */
export function telemetryRunning(): boolean {
  return running !== null;
}

function begin(options: TelemetryOptions, owner: Running["owner"]): Promise<Running> {
  const starting: Promise<Running> = import("./otel.ts").then(({ startOpenTelemetry }) => ({
    telemetry: startOpenTelemetry(options),
    owner,
    clients: 0,
    handle: starting,
  }));
  running = starting;
  starting.then(
    (state) => {
      if (running === starting) active = state;
    },
    () => {
      if (running === starting) running = null;
    },
  );
  return starting;
}

async function end(state: Running): Promise<void> {
  if (running === state.handle) {
    running = null;
    active = null;
  }
  await state.telemetry.shutdown();
}

/**
 * Starts OpenTelemetry for this process: spans for enqueues and task runs, Stem's
 * metrics, exporters from the options or the OTEL_* variables. Call it before creating
 * clients and workers; call `shutdown()` before exiting so the last spans are exported.
 */
export async function startTelemetry(options: TelemetryOptions = {}): Promise<Telemetry> {
  if (running) throw new StemError("conflict", "telemetry is already running in this process");
  const state = await begin(options, "code");
  return {
    forceFlush: () => state.telemetry.forceFlush(),
    shutdown: () => end(state),
  };
}

/**
 * For clients, before they are constructed: starts telemetry when the environment asks
 * for it and it is not running yet. Costs nothing when telemetry is off.
 */
export async function ensureTelemetry(
  env: Record<string, string | undefined> = process.env,
): Promise<void> {
  if (running) {
    await running;
    return;
  }
  if (!telemetryRequested(env)) return;
  await begin({}, "env");
  logger.debug("OpenTelemetry started from the environment");
}

/**
 * Counts a client as a user of the running telemetry. Returns what the client calls on
 * close (the last client of environment-started telemetry flushes and stops it), or
 * undefined while telemetry is off.
 */
export function leaseTelemetry(): (() => Promise<void>) | undefined {
  const state = active;
  if (!state) return undefined;
  state.clients++;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    state.clients--;
    if (state.owner === "env" && state.clients === 0) await end(state);
  };
}
