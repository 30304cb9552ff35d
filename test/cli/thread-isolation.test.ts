/**
 * `stem worker --isolation thread` from the compiled binary, in a folder with no
 * node_modules: handler threads start from the entry bundled in the binary, import the
 * user's tasks.ts (resolving "stem" to the binary's copy), and a runaway handler is killed
 * at its hard time limit while the worker keeps serving.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ensureBinary, spawnStem, startStem, stem, workspace } from "./binary.ts";

const TASKS = `import { defineTask } from "stem";

export const where = defineTask<{ name: string }>({
  name: "iso.where",
  run: (_ctx, args) => ({ hello: args.name, isMainThread: Bun.isMainThread }),
});

export const spin = defineTask({
  name: "iso.spin",
  options: { hardTimeLimit: "500ms" },
  run: () => {
    while (true) {}
  },
});
`;

describe("stem worker --isolation thread (compiled binary)", () => {
  let ws: ReturnType<typeof workspace>;
  let worker: ReturnType<typeof spawnStem>;

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace({ "tasks.ts": TASKS });
    ({ proc: worker } = await startStem(ws.dir, [
      "worker",
      "--tasks",
      "./tasks.ts",
      "--isolation",
      "thread",
      "--concurrency",
      "2",
    ]));
  }, 90_000);

  afterAll(() => {
    worker?.kill("SIGKILL");
    ws?.cleanup();
  });

  test("--help says only thread isolation can kill a handler", async () => {
    const help = await stem(ws.dir, ["worker", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout.replace(/\s+/g, " ")).toContain("Only thread isolation can kill a handler");
  });

  test("a task runs in a handler thread", async () => {
    const r = await stem(ws.dir, [
      "enqueue",
      "iso.where",
      "--args",
      '{"name":"thread"}',
      "--wait",
      "--json",
    ]);
    expect(r.stderr).not.toContain("ModuleNotFound");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      state: "succeeded",
      result: { hello: "thread", isMainThread: false },
    });
  }, 30_000);

  test("a while(true) handler is killed at its hard time limit and the worker goes on", async () => {
    const spun = await stem(ws.dir, ["enqueue", "iso.spin", "--wait", "--json"]);
    expect(spun.code).toBe(1);
    const status = JSON.parse(spun.stdout);
    expect(status.state).toBe("failed");
    expect(status.error.message).toContain("hard time limit (500 ms) exceeded");
    const after = await stem(ws.dir, [
      "enqueue",
      "iso.where",
      "--args",
      '{"name":"after"}',
      "--wait",
      "--json",
    ]);
    expect(JSON.parse(after.stdout)).toMatchObject({ state: "succeeded" });
  }, 30_000);
});
