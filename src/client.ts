/**
 * `stem/client`: what a service needs to produce tasks and watch them, on Node (≥ 20) as
 * well as on Bun — enqueueing (by name, typed definitions, the builder), results and
 * waiting, Canvas, and starting, signalling and cancelling workflows, on Redis or
 * Postgres. Workers, Beat, the dashboard and the embedded SQLite store need Bun: they are
 * in `stem` (and the `stem` binary).
 */
export type * from "./adapters/contracts.ts";
export { connect, redactUrl } from "./adapters/url.ts";
export { StemClient, type StemClientOptions } from "./app/client.ts";
export * from "./canvas/index.ts";
export { type Clock, systemClock } from "./core/clock.ts";
export type { TaskContext } from "./core/context.ts";
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
export { type Envelope, Headers, MetaKeys } from "./core/envelope.ts";
export {
  StemError,
  TimeoutError,
  VersionConflictError,
  type StemErrorCode,
} from "./core/errors.ts";
export { UnrecoverableError } from "./core/failure-control.ts";
export { type Middleware, MiddlewareError } from "./core/middleware.ts";
export { type TaskState, type TaskStatus, type TaskError, isTerminal } from "./core/states.ts";
export { Stem, type StemOptions, type TaskResult } from "./core/stem.ts";
export type { TaskHandler, TaskOptions, TaskMetadata, AnyTaskHandler } from "./core/task.ts";
export { PayloadSigner, type SigningConfig, type SigningAlgorithm } from "./security/signing.ts";
export { signerFromEnv, signingConfigFromEnv } from "./security/signing-config.ts";
export {
  Flow,
  WorkflowScript,
  WorkflowDefinition,
  StemWorkflowApp,
  type StemWorkflowAppOptions,
  type StartWorkflowOptions,
  WorkflowEventTimeoutError,
} from "./workflow/index.ts";
