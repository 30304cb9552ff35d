/**
 * `stem enqueue --ignore-result` through the built binary: the task runs on a worker and
 * leaves no status; `--wait` on a task that keeps no result is refused before anything is
 * enqueued, whether the flag or the task's own option asks for it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually } from "../../src/testing/harness.ts";
import { ensureBinary, spawnStem, stem, TASKS_TS, workspace } from "./binary.ts";

const QUIET_TS = `${TASKS_TS}
export const quiet = defineTask({
  name: "demo.quiet",
  options: { ignoreResult: true },
  run: () => "unseen",
});
`;

describe("stem enqueue --ignore-result", () => {
  let ws: ReturnType<typeof workspace>;
  let worker: ReturnType<typeof spawnStem>;
  let workerLog = "";

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace({ "tasks.ts": QUIET_TS });
    worker = spawnStem(ws.dir, ["worker", "--tasks", "./tasks.ts", "--concurrency", "1"]);
    const decoder = new TextDecoder();
    (async () => {
      for await (const chunk of worker.stderr as ReadableStream<Uint8Array>)
        workerLog += decoder.decode(chunk);
    })();
    await eventually(() => workerLog.includes("ready"), 15_000, "worker ready");
  }, 60_000);

  afterAll(() => {
    worker?.kill("SIGKILL");
    ws?.cleanup();
  });

  test("the task runs and keeps no status", async () => {
    const r = await stem(ws.dir, [
      "enqueue",
      "demo.hello",
      "--args",
      '{"name":"nobody"}',
      "--ignore-result",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const { id } = JSON.parse(r.stdout);
    await eventually(
      () => workerLog.includes(`task demo.hello ${id} succeeded`),
      20_000,
      "the task to run",
    );
    const shown = await stem(ws.dir, ["result", id]);
    expect(shown.code).toBe(1);
    expect(shown.stderr).toContain(`no task with id ${id}`);
  }, 30_000);

  test("--wait is refused with --ignore-result, and with a task whose option ignores results", async () => {
    const both = await stem(ws.dir, ["enqueue", "demo.hello", "--ignore-result", "--wait"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--wait cannot wait for a task enqueued with --ignore-result");
    const option = await stem(ws.dir, ["enqueue", "demo.quiet", "--tasks", "./tasks.ts", "-w"]);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain(
      'task "demo.quiet" (task option) was enqueued with ignoreResult',
    );
    // Neither was enqueued: a task enqueued after them is the only one the worker runs.
    const sentinel = (
      await stem(ws.dir, ["enqueue", "demo.hello", "--args", '{"name":"s"}'])
    ).stdout.trim();
    await eventually(
      () => workerLog.includes(`task demo.hello ${sentinel} succeeded`),
      20_000,
      "the sentinel to run",
    );
    expect(workerLog).not.toContain("task demo.quiet");
    expect(workerLog.match(/task demo\.hello \S+ started/g)).toHaveLength(2);
  }, 30_000);
});
