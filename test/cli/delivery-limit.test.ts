/**
 * The delivery limit through the binary: a task that kills its worker process is
 * dead-lettered as `crashed` once a restarted worker sees it past `--max-deliveries`,
 * and `stem dlq show` says how many deliveries it had.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually } from "../../src/testing/harness.ts";
import { ensureBinary, spawnStem, stem, workspace } from "./binary.ts";

const TASKS = `import { defineTask } from "stem";

export const exit = defineTask({
  name: "demo.exit",
  options: { visibilityTimeout: "1s" },
  run: () => process.exit(3),
});
`;

describe("stem worker --max-deliveries", () => {
  let ws: ReturnType<typeof workspace>;
  const workers: ReturnType<typeof spawnStem>[] = [];

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace({ "tasks.ts": TASKS });
  }, 60_000);

  afterAll(() => {
    for (const w of workers) w.kill("SIGKILL");
    ws?.cleanup();
  });

  test("a bad value is a usage error", async () => {
    const r = await stem(ws.dir, ["worker", "--tasks", "./tasks.ts", "--max-deliveries", "0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--max-deliveries must be a positive integer");
  });

  test("a task that kills its worker is dead-lettered as crashed, and dlq show counts its deliveries", async () => {
    const enqueued = await stem(ws.dir, ["enqueue", "demo.exit", "--json"]);
    const { id } = JSON.parse(enqueued.stdout) as { id: string };
    const run = () => {
      const w = spawnStem(ws.dir, ["worker", "--tasks", "./tasks.ts", "--max-deliveries", "1"]);
      workers.push(w);
      return w;
    };
    // The first worker takes the task and dies with it.
    expect(await run().exited).toBe(3);
    // Its successor finds the task past the limit once the lease has run out.
    run();
    const shown = await eventually(async () => {
      const r = await stem(ws.dir, ["dlq", "show", id, "--json"]);
      return r.code === 0
        ? (JSON.parse(r.stdout) as { reason: string; meta: Record<string, unknown> })
        : undefined;
    }, 20_000);
    expect(shown.reason).toBe("crashed");
    expect(shown.meta.deliveries).toBe(2);
    const table = await stem(ws.dir, ["dlq", "show", id]);
    expect(table.stdout).toMatch(/deliveries\s*│\s*2/);
    const result = JSON.parse((await stem(ws.dir, ["result", id, "--json"])).stdout);
    expect(result).toMatchObject({ state: "failed", error: { type: "crashed" } });
  }, 60_000);
});
