/**
 * Starts OpenTelemetry for Stem: the Node SDK (exporters, propagators and resource from
 * the standard OTEL_* variables unless given in code), Stem's spans and metrics, and a
 * bridge from OpenTelemetry's diagnostics to Stem's logger. Loaded with a dynamic import
 * by telemetry.ts, only when telemetry is turned on.
 */
import { DiagLogLevel, context, diag, metrics, propagation, trace } from "@opentelemetry/api";
import { NodeSDK } from "@opentelemetry/sdk-node";
import pkg from "../../package.json" with { type: "json" };
import { logger } from "../core/logger.ts";
import { installInstrumentation } from "./instrumentation.ts";
import { recordStemMetrics } from "./metrics.ts";
import type { Telemetry, TelemetryOptions } from "./telemetry.ts";
import { TracingInstrumentation } from "./tracing.ts";

interface Flushable {
  forceFlush?: () => Promise<void>;
  getDelegate?: () => unknown;
}

/** Flushes a global provider when it has a forceFlush (the SDK's do; the no-op ones not). */
async function flush(provider: unknown): Promise<void> {
  const p = provider as Flushable;
  const target = (p.getDelegate?.() ?? p) as Flushable;
  await target.forceFlush?.();
}

/** Routes OpenTelemetry's own warnings (failed exports...) to Stem's log, once a minute each. */
function bridgeDiagnostics(env: Record<string, string | undefined>): void {
  if (env.OTEL_LOG_LEVEL) return; // the SDK installs its console logger at that level
  const last = new Map<string, number>();
  const report =
    (level: "warn" | "debug") =>
    (message: string, ...args: unknown[]) => {
      const text = [message, ...args.map((a) => (a instanceof Error ? a.message : String(a)))].join(
        " ",
      );
      const now = Date.now();
      if ((last.get(text) ?? 0) > now - 60_000) return;
      last.set(text, now);
      logger[level](`opentelemetry: ${text}`);
    };
  diag.setLogger(
    {
      error: report("warn"),
      warn: report("warn"),
      info: report("debug"),
      debug: () => {},
      verbose: () => {},
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
}

/** Starts everything; the returned handle flushes and stops it. */
export function startOpenTelemetry(
  options: TelemetryOptions,
  env: Record<string, string | undefined> = process.env,
): Telemetry {
  let sdk: NodeSDK | undefined;
  if (options.sdk !== false) {
    bridgeDiagnostics(env);
    sdk = new NodeSDK({
      serviceName: options.serviceName ?? (env.OTEL_SERVICE_NAME ? undefined : "stem"),
      spanProcessors: options.spanProcessors,
      metricReaders: options.metricReaders,
      // Stem writes its logs through consola; no OpenTelemetry log pipeline.
      logRecordProcessors: [],
    });
    sdk.start();
  }
  const tracing = new TracingInstrumentation(pkg.version);
  const stopMetrics = recordStemMetrics();
  installInstrumentation({
    enqueue: (envelope) => tracing.enqueue(envelope),
    execute: (envelope, workerId, run) => tracing.execute(envelope, workerId, run),
    bind: (fn) => tracing.bind(fn),
  });
  let stopped: Promise<void> | undefined;
  return {
    async forceFlush() {
      await flush(trace.getTracerProvider());
      await flush(metrics.getMeterProvider());
    },
    shutdown() {
      stopped ??= (async () => {
        installInstrumentation(undefined);
        tracing.close();
        stopMetrics();
        if (sdk) {
          await sdk.shutdown();
          // Unregister the SDK's globals so telemetry can start again in this process.
          trace.disable();
          metrics.disable();
          propagation.disable();
          context.disable();
          diag.disable();
        }
      })();
      return stopped;
    },
  };
}
