import { afterEach, describe, expect, test } from "bun:test";
import { defineTask, StemClient } from "../../src/index.ts";
import { eventually } from "../../src/testing/harness.ts";
import { heartbeatTtl, isLost, LOST_WORKER_RETENTION_MS } from "../../src/worker/liveness.ts";

const opened: StemClient[] = [];
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close();
});

describe("worker heartbeats", () => {
  test("report a change of the in-flight count within a second, and vanish when the worker stops", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const held = defineTask({ name: "held", run: () => gate });
    const client = await StemClient.inMemory({ tasks: [held] });
    opened.push(client);
    const worker = client.createWorker({ workerId: "hb-1", heartbeatInterval: "10s" });
    await worker.start();
    expect((await client.backend.getHeartbeat("hb-1"))?.inflight).toBe(0);
    await client.enqueue("held");
    await eventually(
      async () => (await client.backend.getHeartbeat("hb-1"))?.inflight === 1,
      1000,
      "in-flight 1 in the heartbeat",
    );
    release();
    await eventually(
      async () => (await client.backend.getHeartbeat("hb-1"))?.inflight === 0,
      1000,
      "in-flight 0 in the heartbeat",
    );
    await worker.shutdown();
    expect(await client.backend.getHeartbeat("hb-1")).toBeNull();
  });

  test("a heartbeat older than three of its intervals is lost; it is kept an hour longer", () => {
    const beat = {
      workerId: "w",
      host: "h",
      pid: 1,
      queues: ["default"],
      concurrency: 1,
      inflight: 0,
      processed: 0,
      failed: 0,
      startedAt: 0,
      timestamp: 100_000,
      extras: { heartbeatIntervalMs: 1000 },
    };
    expect(isLost(beat, 103_000)).toBe(false);
    expect(isLost(beat, 103_001)).toBe(true);
    // Without an announced interval, the default 10 s applies.
    expect(isLost({ ...beat, extras: {} }, 129_000)).toBe(false);
    expect(heartbeatTtl(1000)).toBe(3000 + LOST_WORKER_RETENTION_MS);
  });
});
