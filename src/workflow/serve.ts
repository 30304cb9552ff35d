/**
 * Serving workflows on a worker made elsewhere (`stem worker --tasks FILE` when the file
 * exports workflows): registers `stem.workflow.run` and runs the due-run sweeper for as
 * long as the worker runs.
 */
import type { StemClient } from "../app/client.ts";
import { StemError } from "../core/errors.ts";
import { logger } from "../core/logger.ts";
import type { Worker } from "../worker/worker.ts";
import type { WorkflowRuntimeSettings } from "./app.ts";
import type { AnyWorkflowDefinition } from "./definition.ts";
import { WorkflowRuntime } from "./runtime.ts";
import { WorkflowSweeper } from "./sweeper.ts";

/** Workflows served on a worker; `stop()` ends the sweeper (before closing the client). */
export interface ServedWorkflows {
  runtime: WorkflowRuntime;
  stop(): Promise<void>;
}

/**
 * Call after `client.createWorker()` and before `worker.start()`. Workflow runs execute
 * inline: a worker with thread isolation is refused. The sweeper also stops by itself
 * when the worker stops.
 */
export async function serveWorkflows(
  client: StemClient,
  worker: Worker,
  workflows: AnyWorkflowDefinition[],
  settings: WorkflowRuntimeSettings & { isolation?: string } = {},
): Promise<ServedWorkflows> {
  if (settings.isolation === "thread") {
    throw new StemError(
      "invalid_argument",
      "workflow runs execute inline: run workers for workflows with --isolation inline (tasks-only workers may use threads)",
    );
  }
  const store = (await client.connection(client.config.workflowStoreUrl)).workflowStore();
  const runtime = new WorkflowRuntime({
    store,
    stem: client.stem,
    workflows,
    queue: settings.queue ?? client.config.defaultQueue,
    runLease: settings.runLease,
    maxRetries: settings.maxRetries,
    retryBackoff: settings.retryBackoff,
    recoverAfter: settings.recoverAfter,
    eventRetention: settings.eventRetention,
    runRetention: settings.runRetention,
  });
  client.registry.register(runtime.taskHandler());
  if (!worker.queues.includes(runtime.queue)) {
    logger.warn(
      `workflow runs go to queue "${runtime.queue}", which this worker does not consume (${worker.queues.join(", ")})`,
    );
  }
  const sweeper = new WorkflowSweeper(runtime, {
    lockStore: client.lockStore,
    pollInterval: settings.pollInterval,
  });
  sweeper.start();
  void worker.done.then(() => sweeper.stop());
  // `stem wf start` checks names against what live workers serve.
  worker.advertise("workflows", runtime.registry.names());
  logger.info(`workflows: ${runtime.registry.names().join(", ")}`);
  return { runtime, stop: () => sweeper.stop() };
}
