/** A worker killed with SIGKILL mid-step loses nothing: another worker finishes the run from its checkpoint. */
import { expect, test } from "bun:test";
import { eventually } from "../../src/testing/harness.ts";
import {
  sqliteWorkspace,
  startWorkflowWorker,
  stepCounts,
  workflowClient,
} from "./workflow-processes.ts";

test("a run whose worker is SIGKILLed mid-step completes on another worker; earlier steps ran once", async () => {
  const ws = sqliteWorkspace();
  const first = startWorkflowWorker(ws.url, ws.log);
  let second: ReturnType<typeof startWorkflowWorker> | undefined;
  const { runtime, close } = await workflowClient(ws.url);
  try {
    await first.ready;
    const runId = await runtime.startWorkflow("e2e.crash", { params: { ms: 3000 } });
    await eventually(() => stepCounts(ws.log, runId).slow === 1, 20_000, "the slow step to start");
    first.proc.kill("SIGKILL");
    await first.proc.exited;
    const orphaned = (await runtime.getRun(runId))!;
    expect(orphaned.status).toBe("running");
    expect(orphaned.ownerId).not.toBeNull();

    second = startWorkflowWorker(ws.url, ws.log);
    await second.ready;
    const run = await runtime.waitForCompletion(runId, { timeout: 30_000 });
    expect(run.status).toBe("completed");
    expect(run.result).toBe(3);
    // "one" was checkpointed before the kill and never ran again; the killed step ran twice.
    expect(stepCounts(ws.log, runId)).toEqual({ one: 1, slow: 2, three: 1 });
    expect((await runtime.describe(runId)).steps.map((s) => s.name)).toEqual([
      "one",
      "slow",
      "three",
    ]);
  } finally {
    first.proc.kill("SIGKILL");
    second?.proc.kill("SIGKILL");
    await close();
    ws.cleanup();
  }
}, 60_000);
