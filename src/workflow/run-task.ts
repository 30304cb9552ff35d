/**
 * `stem.workflow.run`: the internal task workers run to execute a workflow run. Runs
 * therefore scale with workers and inherit the broker's at-least-once delivery: a worker
 * that dies mid-run lets its task be redelivered, and the next execution replays the run
 * from its last checkpoint once the dead worker's run lease has expired.
 */
import type { TaskContext } from "../core/context.ts";
import { StemError } from "../core/errors.ts";
import type { TaskHandler } from "../core/task.ts";
import type { ExecuteOutcome, WorkflowRuntime } from "./runtime.ts";

/** The internal task that executes workflow runs. */
export const WORKFLOW_RUN_TASK = "stem.workflow.run";

/** Envelope meta keys of `stem.workflow.run` tasks. */
export const WorkflowMetaKeys = {
  runId: "stem.workflow.runId",
  orchestrationQueue: "stem.workflow.orchestrationQueue",
  continuationQueue: "stem.workflow.continuationQueue",
  continuationReason: "stem.workflow.continuationReason",
  maxRetries: "stem.workflow.maxRetries",
} as const;

export interface WorkflowRunTaskArgs {
  runId: string;
  reason?: string;
}

export interface WorkflowRunTaskResult {
  runId: string;
  outcome: ExecuteOutcome;
}

/** The `stem.workflow.run` handler bound to a runtime. */
export function workflowRunTask(
  runtime: WorkflowRuntime,
): TaskHandler<WorkflowRunTaskArgs, WorkflowRunTaskResult> {
  return {
    name: WORKFLOW_RUN_TASK,
    options: { maxRetries: runtime.maxRetries, retryBackoff: runtime.retryBackoff },
    metadata: { description: "Executes durable workflow runs (internal)" },
    async run(ctx: TaskContext<WorkflowRunTaskArgs>, args: WorkflowRunTaskArgs) {
      const runId = args?.runId;
      if (typeof runId !== "string" || runId.length === 0) {
        throw new StemError("invalid_argument", `${WORKFLOW_RUN_TASK} needs a runId argument`);
      }
      const fromMeta = ctx.meta[WorkflowMetaKeys.maxRetries];
      const outcome = await runtime.executeRun(runId, {
        signal: ctx.signal,
        attempt: ctx.attempt,
        maxRetries: typeof fromMeta === "number" ? fromMeta : runtime.maxRetries,
      });
      if (outcome === "busy") await runtime.deferBusyRun(runId);
      return { runId, outcome };
    },
  };
}
