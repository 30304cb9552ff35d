/** How a worker process ends: a forced stop (a second signal) is not a success. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually } from "../../src/testing/harness.ts";
import { ensureBinary, spawnStem, stem, TASKS_TS, workspace } from "./binary.ts";

describe("stem worker exit codes", () => {
  let ws: ReturnType<typeof workspace>;

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace({ "tasks.ts": TASKS_TS });
  }, 120_000);

  afterAll(() => ws?.cleanup());

  test("a second SIGTERM forces the stop and the worker exits 143", async () => {
    const worker = spawnStem(ws.dir, ["worker", "--tasks", "./tasks.ts"]);
    let log = "";
    (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of worker.stderr as ReadableStream<Uint8Array>)
        log += decoder.decode(chunk);
    })();
    try {
      await eventually(() => log.includes("ready"), 15_000, "worker ready");
      const id = (await stem(ws.dir, ["enqueue", "demo.slow"])).stdout.trim();
      await eventually(() => log.includes(`${id} started`), 10_000, "slow task started");
      worker.kill("SIGTERM");
      await eventually(() => log.includes("finishing running tasks"), 10_000, "warm stop");
      worker.kill("SIGTERM");
      expect(await worker.exited).toBe(143);
      expect(log).toContain("SIGTERM again: forcing shutdown");
    } finally {
      worker.kill("SIGKILL");
    }
  });
});
