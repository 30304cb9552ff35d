/**
 * `stem observe events` through the built binary: a worker process runs tasks while
 * `stem observe events --json` is read through a pipe, one JSON object per line.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually } from "../../src/testing/harness.ts";
import type { TaskEvent } from "../../src/index.ts";
import {
  collectText,
  ensureBinary,
  spawnStem,
  startStem,
  stem,
  TASKS_TS,
  workspace,
} from "./binary.ts";

function parsedLines(text: string): TaskEvent[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as TaskEvent);
}

/** Starts `stem observe events ARGS` and waits until it listens. */
async function observe(dir: string, args: string[]) {
  const proc = spawnStem(dir, ["observe", "events", ...args]);
  const stdout = collectText(proc.stdout as ReadableStream<Uint8Array>);
  const stderr = collectText(proc.stderr as ReadableStream<Uint8Array>);
  await eventually(() => stderr().includes("listening for task events"), 15_000, "observer ready");
  return { proc, stdout, stderr };
}

describe("stem observe events", () => {
  let ws: ReturnType<typeof workspace>;
  let worker: Awaited<ReturnType<typeof startStem>>;

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace({ "tasks.ts": TASKS_TS });
    worker = await startStem(ws.dir, ["worker", "--tasks", "./tasks.ts"]);
  }, 60_000);

  afterAll(async () => {
    worker?.proc.kill("SIGTERM");
    await worker?.proc.exited;
    ws?.cleanup();
  });

  test("--json prints one event per line for a task that succeeds and one that fails", async () => {
    const all = await observe(ws.dir, ["--json"]);
    const failures = await observe(ws.dir, ["--json", "--state", "failed,dead-lettered"]);
    const ok = JSON.parse(
      (await stem(ws.dir, ["enqueue", "demo.hello", "--args", '{"name":"ev"}', "--json"])).stdout,
    ).id;
    const bad = JSON.parse((await stem(ws.dir, ["enqueue", "demo.fail", "--json"])).stdout).id;
    const statesOf = (id: string) =>
      parsedLines(all.stdout())
        .filter((e) => e.taskId === id)
        .map((e) => e.state as string);
    await eventually(
      () => statesOf(ok).includes("succeeded") && statesOf(bad).includes("dead-lettered"),
      20_000,
      "both tasks' final events",
    );
    expect(statesOf(ok).sort()).toEqual(["queued", "started", "succeeded"].sort());
    expect(statesOf(bad).sort()).toEqual(["dead-lettered", "failed", "queued", "started"].sort());
    const failed = parsedLines(all.stdout()).find((e) => e.state === "failed")!;
    expect(failed).toMatchObject({ taskId: bad, name: "demo.fail", queue: "default" });
    expect(failed.error).toBe("always fails");
    await eventually(() => parsedLines(failures.stdout()).length === 2, 10_000, "filtered events");
    expect(parsedLines(failures.stdout()).map((e) => [e.taskId, e.state])).toEqual([
      [bad, "failed"],
      [bad, "dead-lettered"],
    ]);
    for (const observer of [all, failures]) {
      observer.proc.kill("SIGINT");
      expect(await observer.proc.exited).toBe(0);
    }
  }, 60_000);

  test("prints a line per event for people, and refuses an unknown state", async () => {
    const human = await observe(ws.dir, ["--task", "demo.hello"]);
    const id = JSON.parse(
      (await stem(ws.dir, ["enqueue", "demo.hello", "--args", '{"name":"x"}', "--json"])).stdout,
    ).id;
    await eventually(() => human.stdout().includes("succeeded"), 20_000, "the success line");
    expect(human.stdout()).toMatch(
      new RegExp(`Z  succeeded +demo\\.hello  ${id}  queue=default attempt=1 worker=`),
    );
    human.proc.kill("SIGINT");
    expect(await human.proc.exited).toBe(0);

    const bad = await stem(ws.dir, ["observe", "events", "--state", "finished"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown state "finished"');
  }, 60_000);
});
