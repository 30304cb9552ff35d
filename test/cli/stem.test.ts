import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually } from "../../src/testing/harness.ts";
import { ensureBinary, spawnStem, startStem, stem, TASKS_TS, workspace } from "./binary.ts";

describe("stem binary", () => {
  let ws: ReturnType<typeof workspace>;
  let worker: ReturnType<typeof spawnStem>;
  let workerLog: () => string = () => "";

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace({ "tasks.ts": TASKS_TS });
    ({ proc: worker, log: workerLog } = await startStem(ws.dir, [
      "worker",
      "--tasks",
      "./tasks.ts",
      "--concurrency",
      "4",
      "--worker-id",
      "cli-worker",
    ]));
  }, 60_000);

  afterAll(() => {
    worker?.kill("SIGKILL");
    ws?.cleanup();
  });

  test("--help works at every level and --version prints the version", async () => {
    for (const args of [
      ["--help"],
      ["worker", "--help"],
      ["dlq", "retry", "--help"],
      ["observe", "--help"],
      ["worker", "revoke", "--help"],
    ]) {
      const r = await stem(ws.dir, args);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("USAGE");
    }
    const v = await stem(ws.dir, ["--version"]);
    const platform = `${process.platform}-${process.arch}`;
    expect(v.stdout.trim()).toMatch(
      new RegExp(`^\\d+\\.\\d+\\.\\d+ \\(commit ([0-9a-f]+|unknown), ${platform}\\)$`),
    );
  });

  test("enqueue --wait round-trips through a worker on the embedded default", async () => {
    const r = await stem(ws.dir, [
      "enqueue",
      "demo.hello",
      "--args",
      '{"name":"Stem"}',
      "--wait",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout);
    expect(status).toMatchObject({ state: "succeeded", result: "hello Stem", name: "demo.hello" });
    const shown = await stem(ws.dir, ["result", status.id, "--json"]);
    expect(JSON.parse(shown.stdout).result).toBe("hello Stem");
    expect(workerLog()).toContain(`task demo.hello ${status.id} succeeded`);
  });

  test("a failing task lands in the dead-letter queue; list, show and retry it", async () => {
    const r = await stem(ws.dir, ["enqueue", "demo.fail", "--wait", "--json"]);
    expect(r.code).toBe(1);
    const { id } = JSON.parse(r.stdout);
    const list = JSON.parse((await stem(ws.dir, ["dlq", "list", "--json"])).stdout) as {
      envelope: { id: string };
    }[];
    expect(list.map((e) => e.envelope.id)).toContain(id);
    const table = await stem(ws.dir, ["dlq", "list"]);
    expect(table.stdout).toContain("max-retries-exhausted");
    const shown = JSON.parse((await stem(ws.dir, ["dlq", "show", id, "--json"])).stdout);
    expect(shown.meta.error).toBe("always fails");
    expect(shown.meta.deliveries).toBeGreaterThanOrEqual(1);
    const shownTable = await stem(ws.dir, ["dlq", "show", id]);
    expect(shownTable.stdout).toMatch(/deliveries\s*│\s*\d+/);
    const retried = await stem(ws.dir, ["dlq", "retry", id]);
    expect(retried.code).toBe(0);
    expect(retried.stdout).toContain(`replayed ${id}`);
    // The replayed task runs again (and fails again): its replay count is recorded.
    const again = await eventually(async () => {
      const e = JSON.parse((await stem(ws.dir, ["dlq", "show", id, "--json"])).stdout || "null");
      return e?.envelope.meta["stem.replay.count"] === 1 ? e : undefined;
    }, 10_000);
    expect(again.reason).toBe("max-retries-exhausted");
    const dry = await stem(ws.dir, ["dlq", "retry", "--all", "--dry-run"]);
    expect(dry.stdout).toContain("would replay");
  });

  test("observe shows queues and the live worker", async () => {
    const queues = JSON.parse((await stem(ws.dir, ["observe", "queues", "--json"])).stdout);
    // Everything enqueued so far has settled; the failing task is among the dead letters.
    const queue = queues.find((q: { queue: string }) => q.queue === "default");
    expect(queue).toMatchObject({ queue: "default", pending: 0, inflight: 0, delayed: 0 });
    expect(queue.dead).toBeGreaterThanOrEqual(1);
    const workers = JSON.parse((await stem(ws.dir, ["observe", "workers", "--json"])).stdout);
    expect(workers.map((w: { workerId: string }) => w.workerId)).toContain("cli-worker");
  });

  test("ping and stats reach the running worker", async () => {
    const r = await stem(ws.dir, ["worker", "ping", "--json", "--timeout", "1s"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).map((x: { workerId: string }) => x.workerId)).toEqual([
      "cli-worker",
    ]);
    const stats = JSON.parse(
      (await stem(ws.dir, ["worker", "stats", "--json", "--timeout", "1s"])).stdout,
    );
    expect(stats[0].payload.concurrency).toBe(4);
  });

  test("revoke skips a delayed task", async () => {
    const id = (
      await stem(ws.dir, ["enqueue", "demo.hello", "--args", '{"name":"late"}', "--delay", "1s"])
    ).stdout.trim();
    const r = await stem(ws.dir, ["worker", "revoke", id, "--reason", "changed my mind"]);
    expect(r.code).toBe(0);
    const status = await eventually(async () => {
      const s = JSON.parse((await stem(ws.dir, ["result", id, "--json"])).stdout);
      return s.state === "revoked" ? s : undefined;
    }, 10_000);
    expect(status.meta.revokedReason).toBe("changed my mind");
  });

  test("health exits 0 for the embedded default and 1 for an unreachable store within its timeout", async () => {
    const ok = await stem(ws.dir, ["health", "--json"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).healthy).toBe(true);
    const started = Date.now();
    const bad = await stem(ws.dir, [
      "health",
      "--json",
      "--timeout",
      "2s",
      "--broker",
      "sqlite:///proc/stem-cannot-live-here/stem.db",
    ]);
    expect(bad.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    const report = JSON.parse(bad.stdout);
    expect(report.healthy).toBe(false);
    expect(report.checks.find((c: { store: string }) => c.store === "broker").ok).toBe(false);
  });

  test("bad --args JSON and a missing tasks file give a one-line error, no stack trace", async () => {
    const bad = await stem(ws.dir, ["enqueue", "demo.hello", "--args", "{nope"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--args is not valid JSON");
    expect(bad.stderr).not.toContain("    at ");
    const missing = await stem(ws.dir, ["worker", "--tasks", "./missing.ts"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe("stem: tasks file not found: ./missing.ts");
    const unknown = await stem(ws.dir, ["frobnicate"]);
    expect(unknown.code).toBe(2);
  });

  test("shutdown stops the worker gracefully", async () => {
    const slowId = (await stem(ws.dir, ["enqueue", "demo.slow"])).stdout.trim();
    await eventually(() => workerLog().includes(`demo.slow ${slowId} started`), 10_000);
    const r = await stem(ws.dir, ["worker", "shutdown", "--worker", "cli-worker", "--json"]);
    expect(r.code).toBe(0);
    expect(await worker.exited).toBe(0);
    // The running task finished before the worker left.
    const status = JSON.parse((await stem(ws.dir, ["result", slowId, "--json"])).stdout);
    expect(status.state).toBe("succeeded");
  });
});
