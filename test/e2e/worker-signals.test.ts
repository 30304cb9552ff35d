import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StemClient } from "../../src/index.ts";
import { eventually } from "../../src/testing/harness.ts";
import { executions, startWorker } from "./worker-processes.ts";

describe("worker process signals", () => {
  test("SIGTERM lets the running task finish; the process exits 0", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stem-sig-"));
    const url = `sqlite://${join(dir, "stem.db")}`;
    const log = join(dir, "runs.log");
    const client = await StemClient.fromUrl(url);
    try {
      const worker = startWorker(url, log, 1);
      await worker.ready;
      const id = await client.enqueue("e2e.sleep", { ms: 1500 });
      await eventually(() => executions(log).has(id), 10_000, "task started");
      worker.proc.kill("SIGTERM");
      expect(await worker.proc.exited).toBe(0);
      expect((await client.getTaskStatus(id))?.state).toBe("succeeded");
    } finally {
      await client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  test("a second signal forces the shutdown and returns the running task to the queue", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stem-sig-"));
    const url = `sqlite://${join(dir, "stem.db")}`;
    const log = join(dir, "runs.log");
    const client = await StemClient.fromUrl(url);
    try {
      const worker = startWorker(url, log, 1);
      await worker.ready;
      const id = await client.enqueue("e2e.sleep", { ms: 20_000 });
      await eventually(() => executions(log).has(id), 10_000, "task started");
      const started = Date.now();
      worker.proc.kill("SIGTERM");
      await Bun.sleep(200);
      worker.proc.kill("SIGTERM");
      expect(await worker.proc.exited).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
      const [stats] = await client.broker.stats(["default"]);
      expect(stats).toMatchObject({ pending: 1, inflight: 0 });
      // Handed back without counting an attempt: the next worker runs it as attempt 1 again.
      const next = startWorker(url, log, 1);
      await next.ready;
      await eventually(() => executions(log).get(id) === 2, 10_000, "task restarted");
      expect(
        readFileSync(log, "utf8")
          .trim()
          .split("\n")
          .map((l: string) => l.split(" ")[1]),
      ).toEqual(["1", "1"]);
      next.proc.kill("SIGKILL");
    } finally {
      await client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
