/** Shared helpers of the workflow end-to-end tests: worker processes, a client, step counts. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StemClient, WorkflowRuntime } from "../../src/index.ts";
import { eventually } from "../../src/testing/harness.ts";

const FIXTURE = join(import.meta.dir, "fixtures/workflow-worker.ts");

/** A fresh SQLite file shared by every process of one test. */
export function sqliteWorkspace() {
  const dir = mkdtempSync(join(tmpdir(), "stem-wf-e2e-"));
  return {
    dir,
    url: `sqlite://${join(dir, "stem.db")}`,
    log: join(dir, "steps.log"),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Starts a workflow worker process; `ready` resolves once it consumes. */
export function startWorkflowWorker(url: string, log: string) {
  const proc = Bun.spawn([process.execPath, FIXTURE, url, log], {
    stdout: "ignore",
    stderr: "pipe",
    env: { ...process.env, STEM_LOG_LEVEL: "warn" },
  });
  let output = "";
  const ready = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
      output += decoder.decode(chunk);
      if (output.includes("workflow-worker-ready")) return;
    }
    throw new Error(`workflow worker exited before it was ready: ${output}`);
  })();
  return { proc, ready, output: () => output };
}

/** A producer-side runtime (it executes nothing) on the same file, as another process has. */
export async function workflowClient(url: string) {
  const client = await StemClient.fromUrl(url);
  const store = (await client.connection(url)).workflowStore();
  const runtime = new WorkflowRuntime({ store, stem: client.stem });
  return { client, runtime, close: () => client.close() };
}

/** How often each step of `runId` ran, from the workers' log. */
export function stepCounts(log: string, runId: string): Record<string, number> {
  const counts: Record<string, number> = {};
  if (!existsSync(log)) return counts;
  for (const line of readFileSync(log, "utf8").split("\n")) {
    const [id, step] = line.split(" ");
    if (id === runId && step) counts[step] = (counts[step] ?? 0) + 1;
  }
  return counts;
}

export function reachStatus(
  runtime: WorkflowRuntime,
  runId: string,
  status: string,
  timeoutMs = 20_000,
) {
  return eventually(
    async () => {
      const run = await runtime.getRun(runId);
      return run?.status === status ? run : undefined;
    },
    timeoutMs,
    `run ${runId} to be ${status}`,
  );
}
