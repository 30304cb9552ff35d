/** A run that sleeps 2 s completes when its worker was restarted during the sleep. */
import { expect, test } from "bun:test";
import {
  reachStatus,
  sqliteWorkspace,
  startWorkflowWorker,
  stepCounts,
  workflowClient,
} from "./workflow-processes.ts";

test("a sleeping run survives a worker restart and completes after its wake time", async () => {
  const ws = sqliteWorkspace();
  const first = startWorkflowWorker(ws.url, ws.log);
  let second: ReturnType<typeof startWorkflowWorker> | undefined;
  const { runtime, close } = await workflowClient(ws.url);
  try {
    await first.ready;
    const runId = await runtime.startWorkflow("e2e.nap");
    const suspended = await reachStatus(runtime, runId, "suspended");
    expect(suspended.currentStep).toBe("nap");
    const wakeAt = suspended.resumeAt!;
    expect(wakeAt - suspended.createdAt).toBeGreaterThanOrEqual(2000);

    // Graceful stop while the run sleeps; the wake time passes with no worker at all.
    first.proc.kill("SIGTERM");
    expect(await first.proc.exited).toBe(0);
    await Bun.sleep(Math.max(0, wakeAt - Date.now()) + 300);
    expect((await runtime.getRun(runId))!.status).toBe("suspended");

    second = startWorkflowWorker(ws.url, ws.log);
    await second.ready;
    const run = await runtime.waitForCompletion(runId, { timeout: 20_000 });
    expect(run.status).toBe("completed");
    expect((run.result as { sleptMs: number }).sleptMs).toBeGreaterThanOrEqual(2000);
    expect(stepCounts(ws.log, runId)).toEqual({ before: 1, nap: 2, after: 1 });
  } finally {
    first.proc.kill("SIGKILL");
    second?.proc.kill("SIGKILL");
    await close();
    ws.cleanup();
  }
}, 60_000);
