/** Durable workflows: definitions, the runtime, the app bootstrap and the sweeper. */
export {
  Flow,
  WorkflowScript,
  WorkflowDefinition,
  WorkflowRegistry,
  isWorkflowDefinition,
  type AnyWorkflowDefinition,
} from "./definition.ts";
export type { FlowBuilder, FlowSpec, FlowStep, WorkflowScriptSpec } from "./definition.ts";
export type {
  WorkflowStepContext,
  WorkflowStepHandler,
  WorkflowStepOptions,
  WorkflowScriptContext,
  WorkflowCancellationPolicyInput,
  StartWorkflowOptions,
  WorkflowContinuationReason,
} from "./types.ts";
export { WorkflowEventTimeoutError } from "./errors.ts";
export {
  WorkflowRuntime,
  type WorkflowRuntimeOptions,
  type ExecuteOutcome,
  type WorkflowRunDetail,
} from "./runtime.ts";
export { WORKFLOW_RUN_TASK, WorkflowMetaKeys } from "./run-task.ts";
export { WorkflowSweeper, SWEEPER_LOCK_KEY, type SweeperOptions } from "./sweeper.ts";
export {
  StemWorkflowApp,
  type StemWorkflowAppOptions,
  type WorkflowRuntimeSettings,
} from "./app.ts";
export {
  workflowParams,
  runtimeMetadataOf,
  RUNTIME_METADATA_KEY,
  type WorkflowRuntimeMetadata,
} from "./run-metadata.ts";
export { versionedName, baseStepName } from "./checkpoints.ts";
export { serveWorkflows, type ServedWorkflows } from "./serve.ts";
