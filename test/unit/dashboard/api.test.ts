/** The dashboard's JSON API on the embedded SQLite store, with a live worker. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StemClient } from "../../../src/app/client.ts";
import { durationBucket, histogramPercentile } from "../../../src/core/minute-counts.ts";
import { TaskRegistry } from "../../../src/core/registry.ts";
import { createDashboard } from "../../../src/dashboard/index.ts";
import { deadLetterOf } from "../../../src/testing/harness.ts";
import { type DashboardFixture, openDashboard, until, XSS } from "../../fixtures/dashboard.ts";
import { dashboardHistoryTests } from "../../fixtures/dashboard-history.ts";

let dir: string;
let fx: DashboardFixture;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "stem-dash-"));
  fx = await openDashboard(`sqlite://${join(dir, "stem.db")}`);
});

afterAll(async () => {
  await fx.close();
  rmSync(dir, { recursive: true, force: true });
});

async function settled(id: string) {
  return (await fx.client.waitForTask(id, { timeout: 15_000 })).status;
}

describe("tasks", () => {
  test("lists, finds by id, filters by state and name, and shows detail with the traceback", async () => {
    const ok = await fx.client.enqueue("dash.ok", { n: 21 });
    const bad = await fx.client.enqueue("dash.boom", { why: XSS });
    await settled(ok);
    await settled(bad);
    const byId = await fx.call("GET", `/api/tasks?id=${ok}`);
    expect(byId.status).toBe(200);
    expect(byId.body.tasks.map((t: { id: string }) => t.id)).toEqual([ok]);
    const succeeded = await fx.call("GET", "/api/tasks?state=succeeded&name=dash.ok");
    expect(
      succeeded.body.tasks.some(
        (t: { id: string; result: number }) => t.id === ok && t.result === 42,
      ),
    ).toBe(true);
    const detail = await fx.call("GET", `/api/tasks/${bad}`);
    expect(detail.status).toBe(200);
    expect(detail.body.status.error.message).toContain(XSS);
    expect(detail.body.status.error.stack).toContain("boom");
    expect(detail.body.deadLetter.envelope.id).toBe(bad);
    const page = await fx.call("GET", "/api/tasks?limit=1&offset=0");
    expect(page.body.tasks).toHaveLength(1);
    const future = await fx.call(
      "GET",
      `/api/tasks?since=${new Date(Date.now() + 3_600_000).toISOString()}`,
    );
    expect(future.body.tasks).toEqual([]);
  });

  test("a bad filter is a 400 naming the parameter; an unknown id is a 404", async () => {
    const bad = await fx.call("GET", "/api/tasks?state=nope");
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain("state");
    expect((await fx.call("GET", "/api/tasks?limit=x")).status).toBe(400);
    expect((await fx.call("GET", "/api/tasks/no-such-task")).status).toBe(404);
    expect((await fx.call("POST", "/api/tasks/no-such-task/retry")).status).toBe(404);
    expect((await fx.call("POST", "/api/tasks/no-such-task/revoke")).status).toBe(404);
  });

  test("retry enqueues a copy that runs; revoke is stored", async () => {
    const id = await fx.client.enqueue("dash.ok", { n: 5 });
    await settled(id);
    const copy = await fx.call("POST", `/api/tasks/${id}/retry`);
    expect(copy.status).toBe(200);
    expect(copy.body.id).not.toBe(id);
    expect((await settled(copy.body.id)).result).toBe(10);
    const revoked = await fx.call("POST", `/api/tasks/${id}/revoke`, { body: { terminate: true } });
    expect(revoked.status).toBe(200);
    const stored = await fx.client.revokeStore.list("stem");
    expect(stored.find((e) => e.taskId === id)?.terminate).toBe(true);
  });

  test("POST /api/tasks enqueues by name only with the token", async () => {
    const refused = await fx.call("POST", "/api/tasks", {
      body: { name: "dash.ok", args: { n: 1 } },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toContain("STEM_DASHBOARD_TOKEN");
  });

  test("a task's detail carries its timeline, each entry in words", async () => {
    const id = await fx.client.enqueue("dash.ok", { n: 2 });
    await settled(id);
    const detail = await fx.call("GET", `/api/tasks/${id}`);
    const timeline = detail.body.timeline as { at: number; event: string; detail: string }[];
    expect(timeline.map((e) => e.event)).toEqual(["queued", "delivered", "started", "succeeded"]);
    expect(timeline[0].detail).toMatch(/^queued by producer /);
    expect(timeline[3].detail).toBe(`succeeded on dash-worker-${process.pid} (attempt 1)`);
    expect(detail.body.status.timeline).toHaveLength(4);
  });
});

describe("dead letters", () => {
  test("filter, detail, replay one and all matching, purge", async () => {
    const a = await fx.client.enqueue("dash.boom", { why: "a" });
    const b = await fx.client.enqueue("dash.boom", { why: "b" });
    await settled(a);
    await settled(b);
    const list = await fx.call("GET", "/api/dead-letters?queue=default");
    const ids = list.body.entries.map((e: { envelope: { id: string } }) => e.envelope.id);
    expect(ids).toEqual(expect.arrayContaining([a, b]));
    const reason = list.body.entries[0].reason;
    expect(
      (await fx.call("GET", `/api/dead-letters?reason=${encodeURIComponent(reason)}`)).body.entries
        .length,
    ).toBeGreaterThan(0);
    expect((await fx.call("GET", "/api/dead-letters?reason=no-such-reason")).body.entries).toEqual(
      [],
    );
    expect((await fx.call("GET", `/api/dead-letters/${a}`)).body.envelope.id).toBe(a);
    expect((await fx.call("GET", "/api/dead-letters/nope")).status).toBe(404);
    expect(
      (await fx.call("POST", "/api/dead-letters/replay", { body: { ids: ["nope"] } })).status,
    ).toBe(404);
    expect((await fx.call("POST", "/api/dead-letters/replay", { body: {} })).status).toBe(400);
    expect((await fx.call("POST", "/api/dead-letters/replay", { body: { ids: [] } })).status).toBe(
      400,
    );
    const one = await fx.call("POST", "/api/dead-letters/replay", { body: { ids: [a] } });
    expect(one.body.replayed).toEqual([a]);
    // It fails again and comes back as a dead letter.
    await deadLetterOf(fx.client.broker, a);
    const all = await fx.call("POST", "/api/dead-letters/replay", {
      body: { all: true, queue: "default" },
    });
    expect(all.body.replayed).toEqual(expect.arrayContaining([a, b]));
    await deadLetterOf(fx.client.broker, b);
    const purged = await fx.call("POST", "/api/dead-letters/purge", { body: { queue: "default" } });
    expect(purged.body.removed).toBeGreaterThan(0);
  });
});

describe("queues and workers", () => {
  test("queues list with worker counts; pause, resume and purge", async () => {
    const queues = await until(
      () => fx.call("GET", "/api/queues"),
      (r) =>
        r.body.queues.some(
          (q: { queue: string; workers: number }) => q.queue === "default" && q.workers === 1,
        ),
    );
    expect(queues.body.queues.map((q: { queue: string }) => q.queue)).toContain(XSS);
    const paused = await fx.call("POST", "/api/queues/default/pause");
    expect(paused.body.paused).toBe(true);
    expect((await fx.call("GET", "/api/queues/default")).body.paused).toBe(true);
    const waiting = await fx.client.enqueue("dash.ok", { n: 1 });
    await until(
      () => fx.call("GET", "/api/queues/default"),
      (r) => r.body.pending === 1,
    );
    const purged = await fx.call("POST", "/api/queues/default/purge");
    expect(purged.body.removed).toBe(1);
    expect((await fx.call("POST", "/api/queues/default/resume")).body.paused).toBe(false);
    expect((await fx.call("GET", "/api/queues/default")).body.paused).toBe(false);
    expect(await fx.client.broker.getDeadLetter(waiting)).toBeNull();
    expect((await fx.call("POST", "/api/queues/no-such-queue/pause")).status).toBe(404);
  });

  test("a queue shows its tasks' rate and concurrency limits, from the task registry or else the workers' heartbeats", async () => {
    const limited = (await fx.call("GET", "/api/queues/limited")).body;
    expect(limited.limits).toEqual([
      {
        task: "dash.limited",
        queue: "limited",
        rateLimit: "600/m",
        globalConcurrency: 2,
        source: "registry",
      },
    ]);
    expect((await fx.call("GET", "/api/queues/default")).body.limits).toEqual([]);
    // A dashboard without the app's tasks (`stem dashboard`) reads them from live workers.
    const bare = Object.create(fx.client, { registry: { value: new TaskRegistry() } });
    const dashboard = createDashboard(bare as StemClient);
    try {
      const response = await dashboard.fetch(new Request("http://127.0.0.1/api/queues/limited"));
      expect(((await response.json()) as { limits: unknown[] }).limits).toEqual([
        {
          task: "dash.limited",
          queue: "limited",
          rateLimit: "600/m",
          globalConcurrency: 2,
          source: "workers",
        },
      ]);
    } finally {
      dashboard.close();
    }
  });

  test("a running task is listed under its worker with its runtime; revoke with terminate stops it", async () => {
    const id = await fx.client.enqueue("dash.hang", {});
    const workers = await until(
      () => fx.call("GET", "/api/workers"),
      (r) => r.body.workers[0]?.active?.some((t: { id: string }) => t.id === id),
    );
    const running = workers.body.workers[0].active.find((t: { id: string }) => t.id === id);
    expect(running.name).toBe("dash.hang");
    expect(running.runtimeMs).toBeGreaterThanOrEqual(0);
    const revoked = await fx.call("POST", `/api/tasks/${id}/revoke`, { body: { terminate: true } });
    expect(
      revoked.body.replies.map((r: { payload: { terminated?: string[] } }) => r.payload.terminated),
    ).toEqual([[id]]);
    const status = await until(
      () => fx.call("GET", `/api/tasks/${id}`),
      (r) => r.body.status.state === "revoked",
    );
    expect(status.body.status.state).toBe("revoked");
  });

  test("workers from heartbeats, with what they run; ping answers", async () => {
    const workers = await until(
      () => fx.call("GET", "/api/workers"),
      (r) => r.body.workers.length === 1,
    );
    const [w] = workers.body.workers;
    expect(w.state).toBe("alive");
    expect(w.active).toEqual([]);
    const ping = await fx.call("POST", "/api/workers/ping", { body: {} });
    expect(ping.body.replies.map((r: { workerId: string }) => r.workerId)).toEqual([w.workerId]);
    expect(
      (await fx.call("POST", "/api/workers/nope/shutdown", { body: { mode: "warm" } })).status,
    ).toBe(404);
    expect(
      (await fx.call("POST", `/api/workers/${w.workerId}/shutdown`, { body: { mode: "lukewarm" } }))
        .status,
    ).toBe(400);
  });
});

describe("schedules and workflows", () => {
  test("schedule list, detail with the next 10 due times, disable and enable", async () => {
    const store = (await fx.client.connection(fx.client.config.brokerUrl)).scheduleStore();
    await store.upsert({
      id: "nightly",
      taskName: "dash.ok",
      args: { n: 1 },
      spec: { kind: "cron", expression: "0 3 * * *" },
      timezone: "Europe/London",
      enabled: true,
      totalRunCount: 0,
      version: 0,
      kwargs: {},
      meta: {},
      nextRunAt: Date.now() + 60_000,
    });
    const list = await fx.call("GET", "/api/schedules");
    expect(list.body.entries.map((e: { id: string }) => e.id)).toContain("nightly");
    const detail = await fx.call("GET", "/api/schedules/nightly");
    expect(detail.body.nextRuns).toHaveLength(10);
    expect(detail.body.entry.timezone).toBe("Europe/London");
    expect((await fx.call("POST", "/api/schedules/nightly/disable")).body.enabled).toBe(false);
    expect((await store.get("nightly"))?.enabled).toBe(false);
    expect((await fx.call("POST", "/api/schedules/nightly/enable")).body.enabled).toBe(true);
    expect((await fx.call("GET", "/api/schedules/nope")).status).toBe(404);
    expect((await fx.call("POST", "/api/schedules/nope/disable")).status).toBe(404);
  });

  test("a run waiting for an event: listed, detailed, completed by emit; cancel and rewind", async () => {
    const fxRuntime = (await fx.call("GET", "/api/workflows")).body;
    expect(fxRuntime.runs).toBeArray();
    const store = (await fx.client.connection(fx.client.config.workflowStoreUrl)).workflowStore();
    const { WorkflowRuntime } = await import("../../../src/workflow/runtime.ts");
    const runtime = new WorkflowRuntime({
      store,
      stem: fx.client.stem,
      queue: fx.client.config.defaultQueue,
    });
    const runId = await runtime.startWorkflow("dash.approval");
    await until(
      () => fx.call("GET", "/api/workflows?status=suspended"),
      (r) => r.body.runs.some((x: { id: string }) => x.id === runId),
    );
    const detail = await fx.call("GET", `/api/workflows/${runId}`);
    expect(detail.body.run.waitTopic).toBe("dash.approved");
    expect(detail.body.steps.map((s: { name: string }) => s.name)).toEqual(["prepare"]);
    const emitted = await fx.call("POST", "/api/events", {
      body: { topic: "dash.approved", payload: { ok: XSS } },
    });
    expect(emitted.body.resumed).toEqual([runId]);
    const done = await until(
      () => fx.call("GET", `/api/workflows/${runId}`),
      (r) => r.body.run.status === "completed",
    );
    expect(done.body.run.result).toEqual({ ok: XSS });
    const rewound = await fx.call("POST", `/api/workflows/${runId}/rewind`, {
      body: { step: "approve" },
    });
    expect(rewound.status).toBe(200);
    await until(
      () => fx.call("GET", `/api/workflows/${runId}`),
      (r) => r.body.run.status === "suspended",
    );
    expect(
      (await fx.call("POST", `/api/workflows/${runId}/cancel`, { body: {} })).body.cancelled,
    ).toBe(true);
    expect((await fx.call("GET", "/api/workflows/nope")).status).toBe(404);
    expect((await fx.call("POST", "/api/workflows/nope/cancel", { body: {} })).status).toBe(404);
    expect((await fx.call("GET", "/api/workflows?status=sleepy")).status).toBe(400);
  });
});

describe("history from the stored counters, and the time filter", () => {
  dashboardHistoryTests(() => fx);
});

describe("overview, metrics and documents", () => {
  test("overview counts move with the work done; the stream pushes overviews", async () => {
    const before = (await fx.call("GET", "/api/overview")).body;
    const id = await fx.client.enqueue("dash.ok", { n: 2 });
    await settled(id);
    const after = await until(
      () => fx.call("GET", "/api/overview"),
      (r) => r.body.totals.processed > before.totals.processed && r.body.throughput.length > 0,
    );
    expect(after.body.workers.alive).toBe(1);
    expect((await fx.call("GET", "/api/overview?window=2d")).status).toBe(400);
    const abort = new AbortController();
    const response = await fx.dashboard.fetch(
      new Request("http://127.0.0.1/api/stream", { signal: abort.signal }),
    );
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toStartWith("event: overview\ndata: {");
    abort.abort();
    await reader.cancel();
  });

  test("duration percentiles are read from the log-scale histogram, within a bucket", () => {
    const buckets = new Map<number, number>();
    for (let ms = 1; ms <= 1000; ms++) {
      const i = durationBucket(ms);
      buckets.set(i, (buckets.get(i) ?? 0) + 1);
    }
    for (const p of [50, 95, 99]) {
      const read = histogramPercentile(buckets, p) ?? 0;
      expect(Math.abs(read - p * 10) / (p * 10)).toBeLessThan(0.1);
    }
    expect(histogramPercentile(new Map(), 50)).toBeUndefined();
  });

  test("GET /metrics is Prometheus text with escaped labels", async () => {
    const metrics = await fx.call("GET", "/metrics");
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    expect(metrics.text).toContain("# TYPE stem_queue_pending gauge");
    expect(metrics.text).toContain('stem_queue_pending{queue="default"}');
    expect(metrics.text).toContain(`stem_queue_pending{queue="${XSS}"}`);
    expect(metrics.text).toMatch(/stem_workers\{state="alive"\} 1/);
  });

  test("the OpenAPI document lists every route", async () => {
    const doc = (await fx.call("GET", "/api/openapi.json")).body;
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.paths["/metrics"].get.summary).toContain("Prometheus");
    for (const route of fx.dashboard.routes) {
      const path = route.path.replace(/:([a-z]+)/gi, "{$1}");
      expect(doc.paths[path]?.[route.method.toLowerCase()]).toBeDefined();
    }
  });

  test("the page and its assets are served with a strict content security policy", async () => {
    const page = await fx.call("GET", "/");
    expect(page.text).toContain('<script type="module" src="/assets/app.js">');
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const script = await fx.call("GET", "/assets/app.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toContain("javascript");
    expect(script.text.length).toBeGreaterThan(10_000);
    expect((await fx.call("GET", "/nope")).status).toBe(404);
    expect((await fx.call("DELETE", "/api/queues")).status).toBe(405);
  });
});

describe("worker shutdown (last: it stops the fixture's worker)", () => {
  test("a warm shutdown from the dashboard stops the worker, which then leaves the list", async () => {
    const [worker] = (await fx.call("GET", "/api/workers")).body.workers;
    const reply = await fx.call("POST", `/api/workers/${worker.workerId}/shutdown`, {
      body: { mode: "warm" },
    });
    expect(reply.body.replies.map((r: { status: string }) => r.status)).toEqual(["ok"]);
    await until(
      () => fx.call("GET", "/api/workers"),
      (r) => r.body.workers.length === 0,
    );
  });
});
