/**
 * Global concurrency through the binary: `stem worker --global-concurrency QUEUE=N` limits
 * a queue, a task's `globalConcurrency` limits its name, and `stem observe queues` (and
 * `--json`) shows each limit with the slots in use.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually } from "../../src/testing/harness.ts";
import { ensureBinary, spawnStem, startStem, stem, workspace } from "./binary.ts";

const TASKS = `import { defineTask } from "stem";

export const slow = defineTask<{ ms: number }>({
  name: "demo.slow",
  options: { globalConcurrency: 1 },
  run: (_ctx, { ms }) => Bun.sleep(ms),
});
`;

describe("global concurrency in the CLI", () => {
  let ws: ReturnType<typeof workspace>;
  let worker: ReturnType<typeof spawnStem> | undefined;

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace({ "tasks.ts": TASKS });
  }, 120_000);

  afterAll(() => {
    worker?.kill("SIGKILL");
    ws?.cleanup();
  });

  test("observe queues shows the queue's and the task's limits with the slots in use", async () => {
    const started = await startStem(ws.dir, [
      "worker",
      "--tasks",
      "./tasks.ts",
      "--worker-id",
      "w-gc",
      "--global-concurrency",
      "default=2",
    ]);
    worker = started.proc;
    const idle = JSON.parse((await stem(ws.dir, ["observe", "queues", "--json"])).stdout);
    // Declared by the worker at start, before any task ran.
    expect(idle).toContainEqual(
      expect.objectContaining({
        queue: "default",
        globalConcurrency: { limit: 2, used: 0, holders: [] },
        taskConcurrency: [{ task: "demo.slow", limit: 1, used: 0, holders: [] }],
      }),
    );
    for (let i = 0; i < 2; i++) {
      const enqueued = await stem(ws.dir, ["enqueue", "demo.slow", "--args", '{"ms":4000}']);
      expect(enqueued.code).toBe(0);
    }
    const busy = await eventually(
      async () => {
        const view = JSON.parse((await stem(ws.dir, ["observe", "queues", "--json"])).stdout);
        const row = view.find((q: { queue: string }) => q.queue === "default");
        return row?.globalConcurrency?.used === 1 ? row : undefined;
      },
      15_000,
      "a task holding its slots",
    );
    // One runs; the other waits in the broker for the task's one slot.
    expect(busy.taskConcurrency).toEqual([
      { task: "demo.slow", limit: 1, used: 1, holders: [expect.stringMatching(/^w-gc\//)] },
    ]);
    const table = await stem(ws.dir, ["observe", "queues"], { COLUMNS: "200" });
    expect(table.stdout).toMatch(/default .* 1 \/ 2/);
    expect(table.stdout).toMatch(/demo\.slow .* 1 \/ 1/);
  }, 60_000);

  test("a bad --global-concurrency is a usage error naming the value", async () => {
    const r = await stem(ws.dir, [
      "worker",
      "--tasks",
      "./tasks.ts",
      "--global-concurrency",
      "default=0",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      '--global-concurrency takes QUEUE=N with N a positive integer, got "default=0"',
    );
  }, 30_000);
});
