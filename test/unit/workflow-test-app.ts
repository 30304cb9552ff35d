/** Shared set-up for the workflow unit tests: an in-memory workflow app on a fake clock. */
import { afterEach } from "bun:test";
import type { WorkflowRun, WorkflowStatus } from "../../src/adapters/contracts.ts";
import {
  FakeWorkflowClock,
  StemWorkflowApp,
  type StemWorkflowAppOptions,
} from "../../src/index.ts";
import { eventually } from "../../src/testing/harness.ts";

export const START = Date.UTC(2024, 0, 1);

const apps: StemWorkflowApp[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.shutdown();
});

/**
 * An in-memory app whose failing steps retry at once (fake time would otherwise hold
 * them) and whose background sweeper waits a year, so tests sweep when they choose.
 */
export async function workflowApp(options: StemWorkflowAppOptions = {}) {
  const clock = new FakeWorkflowClock(START);
  const app = await StemWorkflowApp.inMemory({
    clock,
    ...options,
    worker: { concurrency: 4, ...options.worker },
    workflow: {
      retryBackoff: { kind: "fixed", delay: 0 },
      pollInterval: "365d",
      ...options.workflow,
    },
  });
  apps.push(app);
  return { app, clock };
}

/** Waits (in real time) until the run has `status`. */
export function reachStatus(
  app: StemWorkflowApp,
  runId: string,
  status: WorkflowStatus,
  timeoutMs = 3000,
): Promise<WorkflowRun> {
  return eventually(
    async () => {
      const run = await app.getRun(runId);
      return run?.status === status ? run : undefined;
    },
    timeoutMs,
    `run ${runId} to be ${status}`,
  );
}
