/**
 * `stem worker` keeps serving after an unhandled promise rejection (here a handler's
 * fire-and-forget promise): it logs it with its stack and runs the next tasks.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually } from "../../src/testing/harness.ts";
import { ensureBinary, spawnStem, startStem, stem, workspace } from "./binary.ts";

const TASKS = `import { defineTask } from "stem";

export const stray = defineTask({
  name: "demo.stray",
  run: () => {
    // Nobody handles this promise.
    Promise.reject(new Error("stray rejection from a handler"));
    return "returned";
  },
});

export const hello = defineTask({ name: "demo.hello", run: () => "still here" });
`;

describe("stem worker and unhandled rejections", () => {
  let ws: ReturnType<typeof workspace>;
  let worker: ReturnType<typeof spawnStem>;
  let log: () => string = () => "";

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace({ "tasks.ts": TASKS });
    ({ proc: worker, log } = await startStem(ws.dir, ["worker", "--tasks", "./tasks.ts"]));
  }, 60_000);

  afterAll(() => {
    worker?.kill("SIGKILL");
    ws?.cleanup();
  });

  test("a stray rejection is logged with its stack and the worker runs the next task", async () => {
    const first = await stem(ws.dir, ["enqueue", "demo.stray", "--wait", "--json"]);
    expect(JSON.parse(first.stdout)).toMatchObject({ state: "succeeded", result: "returned" });
    await eventually(() => log().includes("unhandled promise rejection"), 10_000, "the log() line");
    expect(log()).toContain(
      "unhandled promise rejection (kept serving): stray rejection from a handler",
    );
    expect(log()).toContain("tasks.ts");
    const next = await stem(ws.dir, ["enqueue", "demo.hello", "--wait", "--json"]);
    expect(JSON.parse(next.stdout)).toMatchObject({ state: "succeeded", result: "still here" });
    expect(worker.exitCode).toBeNull();
  }, 60_000);
});
