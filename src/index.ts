/**
 * Stem: background jobs for TypeScript on Bun. Everything a user imports from "stem".
 */
export type * from "./adapters/contracts.ts";
export { connect, DEFAULT_URL, redactUrl } from "./adapters/url.ts";
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

export { StemClient, StemApp, type StemClientOptions } from "./app/client.ts";

export * from "./canvas/index.ts";
export { loadConfig, type StemConfig } from "./app/config.ts";
export { loadTaskModule, collectTasks } from "./app/task-module.ts";

export { type Clock, systemClock } from "./core/clock.ts";
export { type TaskContext, RetryRequest, TaskAbort } from "./core/context.ts";
export {
  defineTask,
  TaskDefinition,
  TaskEnqueueBuilder,
  type TaskCall,
  type TaskSpec,
  type Enqueuer,
} from "./core/definition.ts";
export { parseDuration, formatDuration, type DurationInput } from "./core/duration.ts";
export type { EnqueueOptions, LinkedCall } from "./core/enqueue-options.ts";
export { type Envelope, Headers, MetaKeys, buildEnvelope } from "./core/envelope.ts";
export {
  StemError,
  TimeoutError,
  VersionConflictError,
  WorkflowFenceError,
  type StemErrorCode,
} from "./core/errors.ts";
export { type Middleware, MiddlewareError } from "./core/middleware.ts";
export {
  UnrecoverableError,
  type ErrorClass,
  type ErrorFilter,
} from "./core/failure-control.ts";
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
export { type TaskState, type TaskStatus, type TaskError, isTerminal } from "./core/states.ts";
export { Stem, type StemOptions, type TaskResult, type WaitOptions } from "./core/stem.ts";
export * from "./events/index.ts";
export {
  type TimelineEntry,
  type TimelineEvent,
  TIMELINE_CAP,
  appendTimeline,
} from "./core/timeline.ts";
export * from "./scheduler/index.ts";
export type { TaskHandler, TaskOptions, TaskMetadata, AnyTaskHandler } from "./core/task.ts";

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

export { PayloadSigner, type SigningConfig, type SigningAlgorithm } from "./security/signing.ts";
export { signerFromEnv, signingConfigFromEnv } from "./security/signing-config.ts";
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
