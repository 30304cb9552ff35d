/** An awaited event emitted from the CLI resumes the run exactly once, even when emitted twice at once. */
import { expect, test } from "bun:test";
import { ensureBinary, BINARY } from "../cli/binary.ts";
import {
  reachStatus,
  sqliteWorkspace,
  startWorkflowWorker,
  stepCounts,
  workflowClient,
} from "./workflow-processes.ts";

async function emitFromCli(url: string, cwd: string, payload: string) {
  const proc = Bun.spawn([BINARY, "wf", "emit", "e2e.approved", "--payload", payload, "--json"], {
    cwd,
    env: { ...process.env, STEM_BROKER_URL: url, STEM_LOG_LEVEL: "warn" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`stem wf emit exited ${code}: ${stderr}`);
  return JSON.parse(stdout) as { topic: string; resumed: string[] };
}

test("dist/stem wf emit resumes the waiting run exactly once", async () => {
  await ensureBinary();
  const ws = sqliteWorkspace();
  const worker = startWorkflowWorker(ws.url, ws.log);
  const { runtime, close } = await workflowClient(ws.url);
  try {
    await worker.ready;
    const runId = await runtime.startWorkflow("e2e.approval");
    const suspended = await reachStatus(runtime, runId, "suspended");
    expect(suspended.waitTopic).toBe("e2e.approved");

    // Two operators emit at the same moment: one of them resumes the run, the other finds nobody waiting.
    const [a, b] = await Promise.all([
      emitFromCli(ws.url, ws.dir, '{"by":"a"}'),
      emitFromCli(ws.url, ws.dir, '{"by":"b"}'),
    ]);
    expect([...a.resumed, ...b.resumed]).toEqual([runId]);

    const run = await runtime.waitForCompletion(runId, { timeout: 20_000 });
    expect(run.result).toEqual(a.resumed.length ? { by: "a" } : { by: "b" });
    expect(stepCounts(ws.log, runId)).toEqual({ prepare: 1, approve: 2, finish: 1 });
  } finally {
    worker.proc.kill("SIGKILL");
    await close();
    ws.cleanup();
  }
}, 90_000);
