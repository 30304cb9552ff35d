/**
 * Stem: background jobs for TypeScript on Bun. Everything a user imports from "stem":
 * the producer side (`stem/client`, which also runs on Node) and what needs Bun —
 * workers, Beat, the dashboard, the embedded SQLite store and the testing kit.
 */
export * from "./client.ts";
export { DEFAULT_URL } from "./adapters/url.ts";
export {
  openMemory,
  MemoryBroker,
  MemoryResultBackend,
  MemoryScheduleStore,
  MemoryLockStore,
  MemoryRevokeStore,
  MemoryRateLimiter,
  MemoryConcurrencySlots,
  MemoryControlBus,
} from "./adapters/memory/index.ts";

export { StemApp } from "./app/client.ts";

export { loadConfig, type StemConfig } from "./app/config.ts";

export { loadTaskModule, collectTasks } from "./app/task-module.ts";

export { RetryRequest, TaskAbort } from "./core/context.ts";
export { buildEnvelope } from "./core/envelope.ts";
export { WorkflowFenceError } from "./core/errors.ts";
export { type ErrorClass, type ErrorFilter } from "./core/failure-control.ts";
export {
  parseRateLimit,
  type RateLimit,
  type RateLimitFailMode,
  type RateLimitKey,
} from "./core/rate-limit.ts";

export { UnstorableValueError, checkStorable, unstorableReason } from "./core/storable.ts";

export { TaskRegistry } from "./core/registry.ts";

export {
  type RetryStrategy,
  ExponentialJitterRetryStrategy,
  FixedRetryStrategy,
  type RetryBackoff,
} from "./core/retry.ts";

export { type RoutingRule, Router } from "./core/routing.ts";

export type * from "./core/schedule.ts";
export { signals, Signal, type StemSignals } from "./core/signals.ts";

export {
  type TimelineEntry,
  type TimelineEvent,
  TIMELINE_CAP,
  appendTimeline,
} from "./core/timeline.ts";

export * from "./scheduler/index.ts";

export {
  Worker,
  type WorkerOptions,
  type WorkerStats,
  type ShutdownMode,
} from "./worker/worker.ts";

export type { SettledHook } from "./worker/task-runner.ts";

export type { AutoscaleOptions } from "./worker/autoscale.ts";

export { sendControl } from "./worker/control-client.ts";

export { globalConcurrencyUsage, type LimitUsage } from "./worker/concurrency-gate.ts";

export type { ControlCommand, ControlReply } from "./worker/control-protocol.ts";

export { FakeStem, type RecordedEnqueue } from "./testing/fake-stem.ts";

export { FakeClock } from "./testing/fake-clock.ts";

export { generateSigningKey, type GeneratedSigningKey } from "./security/signing-keys.ts";

export { tlsOptionsFromEnv, loadTls } from "./security/tls.ts";

export {
  startTelemetry,
  telemetryRequested,
  type Telemetry,
  type TelemetryOptions,
} from "./observability/telemetry.ts";

export {
  explainTask,
  type WhyCause,
  type WhyExplanation,
  type WhyReport,
  type WhySources,
} from "./observability/why.ts";

export { describeEntry, timelineRows, type TimelineRow } from "./observability/timeline-text.ts";

export * from "./workflow/index.ts";
export { MemoryWorkflowStore } from "./adapters/memory/workflow-store.ts";

/** A fake clock for deterministic workflow tests (the same FakeClock). */
export { FakeClock as FakeWorkflowClock } from "./testing/fake-clock.ts";

export { createDashboard, type Dashboard, type DashboardOptions } from "./dashboard/index.ts";
