/**
 * `stem observe why` and `stem result --timeline` through the built binary on the embedded
 * SQLite default: text for people, --json for scripts, a clear error for an unknown id.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually } from "../../src/testing/harness.ts";
import { ensureBinary, startStem, stem, TASKS_TS, workspace } from "./binary.ts";

describe("stem observe why and stem result --timeline", () => {
  let ws: ReturnType<typeof workspace>;
  let worker: Awaited<ReturnType<typeof startStem>> | undefined;

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace({ "tasks.ts": TASKS_TS });
  }, 120_000);

  afterAll(() => {
    worker?.proc.kill("SIGKILL");
    ws?.cleanup();
  });

  const enqueue = async (...args: string[]) => {
    const r = await stem(ws.dir, ["enqueue", "demo.hello", "--args", '{"name":"why"}', ...args]);
    expect(r.code).toBe(0);
    return r.stdout.trim();
  };

  test("a delayed task with no worker: not due yet, with the due time, in text and JSON", async () => {
    const id = await enqueue("--delay", "10m");
    const text = await stem(ws.dir, ["observe", "why", id]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`task ${id} (demo.hello, queue default, queued): not-due`);
    expect(text.stdout).toMatch(/Not due yet: .* due at \d{4}-\d\d-\d\dT[\d:.]+Z, in (9m5\ds|10m)/);
    expect(text.stdout).toMatch(/dueAt\s.*\d{4}-\d\d-\d\dT/);

    const json = await stem(ws.dir, ["observe", "why", id, "--json"]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ taskId: id, cause: "not-due", state: "queued" });
    expect(report.evidence.dueAt).toBeGreaterThan(Date.now() + 9 * 60_000);
  });

  test("a due task with no worker: no live worker consumes its queue, and the fix", async () => {
    const id = await enqueue();
    const r = await stem(ws.dir, ["observe", "why", id]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("No live worker consumes queue default");
    expect(r.stdout).toContain("fix: start a worker on the queue: stem worker");
  });

  test("an unknown id is an error naming it, exit 1", async () => {
    const r = await stem(ws.dir, ["observe", "why", "no-such-task"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no task with id no-such-task");
  });

  test("a task a worker ran: its timeline in text and JSON, and why says it finished", async () => {
    worker = await startStem(ws.dir, ["worker", "--tasks", "./tasks.ts"]);
    const id = await enqueue();
    const status = await eventually(async () => {
      const r = await stem(ws.dir, ["result", id, "--json"]);
      const s = JSON.parse(r.stdout);
      return s.state === "succeeded" ? s : undefined;
    }, 20_000);
    expect(status.timeline.map((e: { event: string }) => e.event)).toEqual([
      "queued",
      "delivered",
      "started",
      "succeeded",
    ]);
    expect(status.timeline[0].by).toMatch(/^producer .* \(pid \d+\)$/);

    const text = await stem(ws.dir, ["result", id, "--timeline", "--wide"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/queued\s.*queued by producer/);
    expect(text.stdout).toMatch(/delivered\s.*delivered to \S+ \(attempt 1\), delivery 1/);
    expect(text.stdout).toMatch(/started\s.*started on \S+ \(attempt 1\), lease/);
    expect(text.stdout).toMatch(/succeeded\s.*succeeded on \S+ \(attempt 1\)/);

    const plain = await stem(ws.dir, ["result", id]);
    expect(plain.stdout).not.toContain("queued by producer");

    const why = await stem(ws.dir, ["observe", "why", id]);
    expect(why.code).toBe(0);
    expect(why.stdout).toContain("Already finished: succeeded at");
    expect(why.stdout).toContain('with result "hello why"');
  }, 60_000);
});
