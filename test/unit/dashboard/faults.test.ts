/** The dashboard when a store fails: a clear error reply, then normal service; sampling survives. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StemClient } from "../../../src/app/client.ts";
import { StemError } from "../../../src/core/errors.ts";
import { createDashboard } from "../../../src/dashboard/index.ts";
import { minuteOf, queueSeries } from "../../../src/core/minute-counts.ts";
import { DepthSampler } from "../../../src/dashboard/depth-sampler.ts";
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
    // Opens the stores; the depth sampler's first sample reads the broker's stats.
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

test("a failed depth sample is skipped and logged once; sampling goes on into the counters", async () => {
  const now = Date.UTC(2002, 0, 1, 12, 0, 30);
  let failures = 0;
  const sampler = new DepthSampler(
    async () => {
      if (failures > 0) {
        failures--;
        throw new Error("broker unreachable");
      }
      return [{ queue: "sampled", pending: 2, inflight: 5, delayed: 1, dead: 9 }];
    },
    fx.client.backend,
    1000,
    () => now,
  );
  await sampler.sample();
  failures = 2;
  await sampler.sample();
  await sampler.sample();
  const warnings = logs.records.filter((r) =>
    String(r.args[0]).includes("sampling queue depth failed"),
  );
  expect(warnings).toHaveLength(1);
  await sampler.sample();
  expect(logs.records.some((r) => String(r.args[0]).includes("works again"))).toBe(true);
  // Two good samples of depth 3 (pending + delayed): a sum and a count per minute.
  const cells = await fx.client.backend.readMinuteCounts({
    from: minuteOf(now),
    to: minuteOf(now) + 60_000,
    series: queueSeries("sampled"),
  });
  expect(Object.fromEntries(cells.map((c) => [c.counter, c.value]))).toEqual({
    depth_sum: 6,
    depth_samples: 2,
  });
});
