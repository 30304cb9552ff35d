/**
 * What the runtime stores in a run's params beside the caller's own: under
 * `__stem.workflow.runtime`, the queues its continuations go to. Persisted as-is by every
 * store; `workflowParams` gives the caller's params back without it.
 */
import type { WorkflowRun } from "../adapters/contracts.ts";

export const RUNTIME_METADATA_KEY = "__stem.workflow.runtime";
export const PARENT_RUN_KEY = "__stem.workflow.parentRunId";
const RESERVED_PREFIX = "__stem.workflow.";

/** Where a run's `stem.workflow.run` tasks are enqueued. */
export interface WorkflowRuntimeMetadata {
  /** Queue the run was started on. */
  orchestrationQueue: string;
  /** Queue its resumptions (after a sleep, an event, a rewind) go to. */
  continuationQueue: string;
}

/** The caller's params: everything except the runtime's `__stem.workflow.*` keys. */
export function workflowParams(run: Pick<WorkflowRun, "params">): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(run.params ?? {})) {
    if (!key.startsWith(RESERVED_PREFIX)) out[key] = value;
  }
  return out;
}

/** The runtime metadata stored with a run, or null when it has none (or it is malformed). */
export function runtimeMetadataOf(
  run: Pick<WorkflowRun, "params">,
): WorkflowRuntimeMetadata | null {
  const raw = run.params?.[RUNTIME_METADATA_KEY];
  if (!raw || typeof raw !== "object") return null;
  const { orchestrationQueue, continuationQueue } = raw as Record<string, unknown>;
  if (typeof orchestrationQueue !== "string") return null;
  return {
    orchestrationQueue,
    continuationQueue:
      typeof continuationQueue === "string" ? continuationQueue : orchestrationQueue,
  };
}

/** Params with the runtime metadata added. */
export function paramsWithMetadata(
  params: Record<string, unknown>,
  metadata: WorkflowRuntimeMetadata,
): Record<string, unknown> {
  return { ...params, [RUNTIME_METADATA_KEY]: { ...metadata } };
}
