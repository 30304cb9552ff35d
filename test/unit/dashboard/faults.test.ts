/** The dashboard when a store fails: a clear error reply, then normal service; sampling survives. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WorkerHeartbeat } from "../../../src/adapters/contracts.ts";
import type { StemClient } from "../../../src/app/client.ts";
import { StemError } from "../../../src/core/errors.ts";
import { createDashboard } from "../../../src/dashboard/index.ts";
import { ThroughputSampler } from "../../../src/dashboard/throughput.ts";
import { injectFaults } from "../../../src/testing/faults.ts";
import { captureLogs } from "../../fixtures/capture-logs.ts";
import { type DashboardFixture, openDashboard } from "../../fixtures/dashboard.ts";

const logs = captureLogs();
let dir: string;
let fx: DashboardFixture;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "stem-dash-faults-"));
  fx = await openDashboard(`sqlite://${join(dir, "stem.db")}`);
});

afterAll(async () => {
  await fx.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a store that is down answers 503 with its message; the next request is served", async () => {
  const faulty = injectFaults(fx.client.broker);
  // The same client with the failing broker in its place.
  const client = Object.create(fx.client, { broker: { value: faulty.store } }) as StemClient;
  const dashboard = createDashboard(client, { sampleIntervalMs: 60_000 });
  try {
    // Opens the stores; the throughput sampler's first sample reads the broker's stats.
    expect((await dashboard.fetch(new Request("http://127.0.0.1/api/schedules"))).status).toBe(200);
    while (faulty.calls("stats") < 1) await Bun.sleep(5);
    faulty.add({
      method: "stats",
      nth: faulty.calls("stats") + 1,
      times: 2,
      error: () => new StemError("store_unavailable", "broker unreachable: connection refused"),
    });
    const down = await dashboard.fetch(new Request("http://127.0.0.1/api/queues"));
    expect(down.status).toBe(503);
    expect(((await down.json()) as { error: string }).error).toBe(
      "broker unreachable: connection refused",
    );
    expect(down.headers.get("content-security-policy")).toContain("default-src 'self'");
    const metrics = await dashboard.fetch(new Request("http://127.0.0.1/metrics"));
    expect(metrics.status).toBe(503);
    const up = await dashboard.fetch(new Request("http://127.0.0.1/api/queues"));
    expect(up.status).toBe(200);
    expect(faulty.injected()).toBe(2);
    // The operator sees it in the dashboard's log too, not only the browser.
    expect(logs.records.map((r) => String(r.args[0]))).toContain(
      "dashboard: GET /api/queues: broker unreachable: connection refused",
    );
  } finally {
    dashboard.close();
  }
});

test("a failed throughput sample is skipped and logged once; sampling goes on", async () => {
  let now = 1_000_000;
  let processed = 0;
  let failures = 0;
  const beat = (): WorkerHeartbeat => ({
    workerId: "w1",
    host: "h",
    pid: 1,
    queues: ["default"],
    concurrency: 1,
    inflight: 0,
    processed,
    failed: 0,
    startedAt: 0,
    timestamp: now,
  });
  const sampler = new ThroughputSampler(
    async () => {
      if (failures > 0) {
        failures--;
        throw new Error("heartbeats unreachable");
      }
      return { heartbeats: [beat()], depth: 3 };
    },
    1000,
    () => now,
  );
  await sampler.sample(); // baseline
  failures = 2;
  now += 1000;
  processed = 10;
  await sampler.sample();
  now += 1000;
  await sampler.sample();
  const warnings = logs.records.filter((r) =>
    String(r.args[0]).includes("sampling throughput failed"),
  );
  expect(warnings).toHaveLength(1);
  now += 2000;
  processed = 30;
  await sampler.sample();
  // Measured across the gap since the last good sample: 30 tasks in 4 s.
  const series = sampler.series(60_000);
  expect(series.map((s) => s.succeededPerSec)).toEqual([7.5]);
  expect(series[0].depth).toBe(3);
  expect(logs.records.some((r) => String(r.args[0]).includes("works again"))).toBe(true);
});
