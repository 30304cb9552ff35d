/**
 * Output fit for people and pipes, through the built binary: no escape codes when not on
 * a terminal, tables fitted to 100 columns, `--watch --json` as one document per line, a
 * closed pipe ending the command quietly, and control commands answering early.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { StemClient } from "../../src/app/client.ts";
import { eventually } from "../../src/testing/harness.ts";
import { BINARY, ensureBinary, spawnStem, startStem, stem, TASKS_TS, workspace } from "./binary.ts";

const ESC = "\x1b";

const TASKS = `${TASKS_TS}
import { Flow } from "stem";

export const nap = Flow({
  name: "cli.output.a-workflow-with-a-rather-long-name",
  build(flow) {
    flow.step("nap", async (step) => {
      await step.sleep("1h");
      return null;
    });
  },
});
`;

const LONG = "a-schedule-entry-with-an-id-long-enough-to-need-shortening-in-a-table";
const SCHEDULES = `schedules:
  - id: ${LONG}
    task: demo.hello
    queue: a-queue-with-a-long-name-too
    schedule: { kind: cron, expression: "0 9 * * MON-FRI" }
    timezone: America/Argentina/Buenos_Aires
    args: { name: scheduled }
  - id: short
    task: demo.hello
    schedule: "every:5m"
`;

/** The widest line of `text`, in terminal columns. */
function widest(text: string): number {
  return Math.max(0, ...text.split("\n").map((line) => Bun.stringWidth(line)));
}

describe("stem output", () => {
  let ws: ReturnType<typeof workspace>;
  let worker: ReturnType<typeof spawnStem>;
  let workerLog: () => string = () => "";

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace({ "tasks.ts": TASKS, "schedules.yaml": SCHEDULES });
    ({ proc: worker, log: workerLog } = await startStem(ws.dir, [
      "worker",
      "--tasks",
      "./tasks.ts",
      "--worker-id",
      "out-worker",
    ]));
  }, 60_000);

  afterAll(() => {
    worker?.kill("SIGKILL");
    ws?.cleanup();
  });

  test("help and errors carry no escape codes when piped or with NO_COLOR", async () => {
    for (const env of [{}, { NO_COLOR: "1" }, { FORCE_COLOR: "1" }] as Record<string, string>[]) {
      const help = await stem(ws.dir, ["dlq", "--help"], env);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain("USAGE stem dlq");
      expect(help.stdout).not.toContain(ESC);
      const typo = await stem(ws.dir, ["wokrer"], env);
      expect(typo.code).toBe(2);
      expect(typo.stderr).toContain("wokrer");
      expect(typo.stderr).not.toContain(ESC);
    }
  });

  test("schedule list, observe schedules, wf list and dlq list fit 100 columns; --wide shows all", async () => {
    expect((await stem(ws.dir, ["schedule", "apply", "schedules.yaml"])).code).toBe(0);
    await stem(ws.dir, [
      "wf",
      "start",
      "cli.output.a-workflow-with-a-rather-long-name",
      "--tasks",
      "./tasks.ts",
    ]);
    const failed = await stem(ws.dir, ["enqueue", "demo.fail", "--wait", "--json"]);
    const deadId = JSON.parse(failed.stdout).id as string;
    const env = { COLUMNS: "100" };
    for (const args of [
      ["schedule", "list"],
      ["observe", "schedules"],
      ["wf", "list"],
      ["dlq", "list"],
    ]) {
      const r = await stem(ws.dir, args, env);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("┌");
      expect(widest(r.stdout)).toBeLessThanOrEqual(100);
      expect(r.stdout).not.toContain(ESC);
      const wide = await stem(ws.dir, [...args, "--wide"], env);
      expect(widest(wide.stdout)).toBeGreaterThan(100);
    }
    const list = await stem(ws.dir, ["schedule", "list"], env);
    expect(list.stdout).toContain("…");
    expect((await stem(ws.dir, ["schedule", "list", "--wide"], env)).stdout).toContain(LONG);
    // An id is shortened in the middle: its start and its (random) end both stay.
    const dlq = (await stem(ws.dir, ["dlq", "list"], env)).stdout;
    expect(dlq).toContain(deadId.slice(0, 6));
    expect(dlq).toContain(deadId.slice(-4));
    expect((await stem(ws.dir, ["dlq", "list", "--wide"], env)).stdout).toContain(deadId);
    // Without COLUMNS and off a terminal, tables fit 80 columns.
    expect(widest((await stem(ws.dir, ["wf", "list"])).stdout)).toBeLessThanOrEqual(80);
  });

  test("--watch --json prints one JSON document per refresh, and Ctrl-C ends it with 0", async () => {
    const proc = spawnStem(ws.dir, ["observe", "queues", "--watch", "--json"]);
    const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
    let text = "";
    const decoder = new TextDecoder();
    while (text.split("\n").length < 3) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    proc.kill("SIGINT");
    const started = Date.now();
    expect(await proc.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(2000);
    const lines = text.split("\n").filter(Boolean);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(Array.isArray(JSON.parse(line))).toBe(true);
    expect(text).not.toContain(ESC);
  });

  test("a closed pipe ends the command quietly with exit 0", async () => {
    const proc = Bun.spawn(
      [
        "bash",
        "-c",
        `set -o pipefail; "${BINARY}" observe queues --watch | head -1; echo "exit $?" >&2`,
      ],
      {
        cwd: ws.dir,
        stdout: "pipe",
        stderr: "pipe",
        env: { ...process.env, STEM_LOG_LEVEL: "info" },
      },
    );
    const [stdout, stderr] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
    ]);
    expect(stdout).toContain("refreshed");
    expect(stderr.trim()).toBe("exit 0");
  });

  test("ping answers as soon as the one live worker replied, well under --timeout", async () => {
    const started = Date.now();
    const r = await stem(ws.dir, ["worker", "ping", "--json", "--timeout", "20s"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).map((x: { workerId: string }) => x.workerId)).toEqual([
      "out-worker",
    ]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test("observe workers shows in-flight counts within a second, lost workers as lost, and drops stopped ones", async () => {
    const slow = (await stem(ws.dir, ["enqueue", "demo.slow"])).stdout.trim();
    await eventually(() => workerLog().includes(`${slow} started`), 10_000, "slow task started");
    const started = Date.now();
    await eventually(
      async () => {
        const workers = JSON.parse((await stem(ws.dir, ["observe", "workers", "--json"])).stdout);
        return (
          workers.find((w: { workerId: string }) => w.workerId === "out-worker")?.inflight === 1
        );
      },
      5000,
      "in-flight count 1",
    );
    expect(Date.now() - started).toBeLessThan(1500);

    // A worker that died without stopping: its last heartbeat is older than three intervals.
    const client = await StemClient.create({
      brokerUrl: `sqlite://${join(ws.dir, ".stem/stem.db")}`,
    });
    const now = Date.now();
    await client.backend.setHeartbeat(
      {
        workerId: "gone-worker",
        host: "h",
        pid: 1,
        queues: ["default"],
        concurrency: 1,
        inflight: 0,
        processed: 0,
        failed: 0,
        startedAt: now - 60_000,
        timestamp: now - 31_000,
        extras: { heartbeatIntervalMs: 10_000 },
      },
      60_000,
    );
    await client.close();
    const states = async () =>
      Object.fromEntries(
        JSON.parse((await stem(ws.dir, ["observe", "workers", "--json"])).stdout).map(
          (w: { workerId: string; state: string }) => [w.workerId, w.state],
        ),
      );
    expect(await states()).toEqual({ "out-worker": "alive", "gone-worker": "lost" });
    const table = (await stem(ws.dir, ["observe", "workers"])).stdout;
    expect(table).toMatch(/gone-worker\s*│\s*lost/);

    // A control command does not wait for the lost worker.
    const pingStarted = Date.now();
    expect((await stem(ws.dir, ["worker", "ping", "--timeout", "20s"])).code).toBe(0);
    expect(Date.now() - pingStarted).toBeLessThan(5000);

    // A worker that stops removes its heartbeat.
    const other = spawnStem(ws.dir, ["worker", "--tasks", "./tasks.ts", "--worker-id", "brief"]);
    await eventually(async () => (await states()).brief === "alive", 15_000, "second worker");
    other.kill("SIGTERM");
    expect(await other.exited).toBe(0);
    expect((await states()).brief).toBeUndefined();
  }, 60_000);
});
