/**
 * A pause is stored for workers that are not running yet: the CLI says so, a worker that
 * starts later warns that its queue is paused, and the overviews show it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually } from "../../src/testing/harness.ts";
import { ensureBinary, spawnStem, stem, TASKS_TS, workspace } from "./binary.ts";

describe("stem worker pause", () => {
  let ws: ReturnType<typeof workspace>;
  let worker: ReturnType<typeof spawnStem> | undefined;

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace({ "tasks.ts": TASKS_TS });
  }, 120_000);

  afterAll(() => {
    worker?.kill("SIGKILL");
    ws?.cleanup();
  });

  test("a pause with no live worker is stored, honoured and shown", async () => {
    const paused = await stem(ws.dir, [
      "worker",
      "pause",
      "--queue",
      "default",
      "--timeout",
      "300ms",
    ]);
    expect(paused.code).toBe(0);
    expect(paused.stderr.trim()).toBe(
      "paused queue default for workers that start later; 0 live workers replied",
    );
    const queues = JSON.parse((await stem(ws.dir, ["observe", "queues", "--json"])).stdout);
    expect(queues).toContainEqual(expect.objectContaining({ queue: "default", paused: true }));
    expect((await stem(ws.dir, ["observe", "queues"])).stdout).toMatch(/default .* yes/);

    worker = spawnStem(ws.dir, ["worker", "--tasks", "./tasks.ts", "--worker-id", "w-paused"]);
    let log = "";
    (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of worker.stderr as ReadableStream<Uint8Array>)
        log += decoder.decode(chunk);
    })();
    await eventually(() => log.includes("ready"), 15_000, "worker ready");
    expect(log).toMatch(/(\[warn\]|WARN).*worker w-paused: queue default is paused/);
    const table = await stem(ws.dir, ["observe", "workers"]);
    expect(table.stdout).toContain("default (paused)");

    const resumed = await stem(ws.dir, ["worker", "resume", "--queue", "default"]);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain("resumed queue default; 1 live worker replied");
  });
});
