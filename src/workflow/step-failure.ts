/** What a failing step does to its run: a retry (the error is rethrown) or a failed run. */
import type { WorkflowRun, WorkflowStore } from "../adapters/contracts.ts";
import { toError } from "../core/errors.ts";
import { logger } from "../core/logger.ts";
import { signals } from "../core/signals.ts";
import { WorkflowEventTimeoutError } from "./errors.ts";

/**
 * Records a step failure on the run (`lastError`; fenced with the execution's claim when
 * given). While `attempt` (from 1) is at most `maxRetries` the error is rethrown so the
 * task is retried; past it, or for a timed-out event wait, the run fails and "failed" is
 * returned.
 */
export async function recordStepFailure(
  store: WorkflowStore,
  run: WorkflowRun,
  thrown: unknown,
  options: { attempt: number; maxRetries: number; fence?: number },
): Promise<"failed"> {
  const error = toError(thrown);
  const { attempt, maxRetries, fence } = options;
  // A timed-out event wait fails the same way every time: no point retrying it.
  const terminal = thrown instanceof WorkflowEventTimeoutError || attempt > maxRetries;
  await store.markFailed(
    run.id,
    { message: error.message, type: error.name, stack: error.stack },
    { terminal, fence },
  );
  if (!terminal) throw error;
  const step = (await store.get(run.id))?.currentStep ?? undefined;
  logger.warn(`workflow run ${run.id} (${run.workflow}) failed in step ${step}: ${error.message}`);
  signals.workflowRunFailed.emit({
    runId: run.id,
    workflow: run.workflow,
    status: "failed",
    step,
    metadata: { error: error.message, attempts: attempt },
  });
  return "failed";
}
