/** The dashboard's main endpoints on Redis and Postgres (the SQLite run is test/unit/dashboard/api.test.ts). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { deadLetterOf } from "../../src/testing/harness.ts";
import { type DashboardFixture, openDashboard, until, XSS } from "../fixtures/dashboard.ts";
import { dashboardHistoryTests } from "../fixtures/dashboard-history.ts";
import { postgresStore, redisStore, type TestStore } from "./fixtures/canvas-stores.ts";

for (const [name, open] of [
  ["Redis", redisStore],
  ["Postgres", postgresStore],
] as const) {
  describe(`dashboard API on ${name}`, () => {
    let store: TestStore;
    let fx: DashboardFixture;

    beforeAll(async () => {
      store = await open();
      fx = await openDashboard(store.url);
    });

    afterAll(async () => {
      await fx.close();
      await store.cleanup();
    });

    test("tasks, dead letters and replay, queues pause/resume, workers, overview, metrics", async () => {
      const ok = await fx.client.enqueue("dash.ok", { n: 4 });
      const bad = await fx.client.enqueue("dash.boom", { why: XSS });
      await fx.client.waitForTask(ok, { timeout: 15_000 });
      await fx.client.waitForTask(bad, { timeout: 15_000 });
      await deadLetterOf(fx.client.broker, bad);
      expect((await fx.call("GET", `/api/tasks/${ok}`)).body.status.result).toBe(8);
      const failed = await fx.call("GET", `/api/tasks/${bad}`);
      expect(failed.body.status.error.stack).toContain(XSS);
      expect((await fx.call("GET", "/api/tasks/nope")).status).toBe(404);

      const dead = await fx.call("GET", "/api/dead-letters");
      expect(dead.body.entries.map((e: { envelope: { id: string } }) => e.envelope.id)).toContain(
        bad,
      );
      const replay = await fx.call("POST", "/api/dead-letters/replay", { body: { ids: [bad] } });
      expect(replay.body.replayed).toEqual([bad]);
      await deadLetterOf(fx.client.broker, bad);

      expect((await fx.call("POST", "/api/queues/default/pause")).body.paused).toBe(true);
      expect((await fx.call("GET", "/api/queues/default")).body.paused).toBe(true);
      expect((await fx.call("POST", "/api/queues/default/resume")).body.paused).toBe(false);
      expect((await fx.call("POST", "/api/queues/default/pause", { csrf: false })).status).toBe(
        403,
      );

      const workers = await until(
        () => fx.call("GET", "/api/workers"),
        (r) => r.body.workers.length === 1,
      );
      expect(workers.body.workers[0].state).toBe("alive");
      const overview = await until(
        () => fx.call("GET", "/api/overview"),
        (r) => r.body.totals.processed >= 2,
      );
      expect(overview.body.workers.alive).toBe(1);
      expect((await fx.call("GET", "/metrics")).text).toContain(
        'stem_queue_dead{queue="default"} 1',
      );
    });

    dashboardHistoryTests(() => fx);

    test("schedules enable/disable and a workflow completed by an emitted event", async () => {
      const schedules = (await fx.client.connection(fx.client.config.brokerUrl)).scheduleStore();
      await schedules.upsert({
        id: "tick",
        taskName: "dash.ok",
        args: { n: 1 },
        kwargs: {},
        meta: {},
        spec: { kind: "interval", every: "1h" },
        enabled: true,
        totalRunCount: 0,
        version: 0,
        nextRunAt: Date.now() + 3_600_000,
      });
      expect((await fx.call("POST", "/api/schedules/tick/disable")).body.enabled).toBe(false);
      expect((await schedules.get("tick"))?.enabled).toBe(false);
      expect((await fx.call("GET", "/api/schedules/tick")).body.nextRuns).toHaveLength(10);

      const { WorkflowRuntime } = await import("../../src/workflow/runtime.ts");
      const runtime = new WorkflowRuntime({
        store: (await fx.client.connection(fx.client.config.workflowStoreUrl)).workflowStore(),
        stem: fx.client.stem,
        queue: fx.client.config.defaultQueue,
      });
      const runId = await runtime.startWorkflow("dash.approval");
      await until(
        () => fx.call("GET", `/api/workflows/${runId}`),
        (r) => r.body.run?.status === "suspended",
      );
      const emitted = await fx.call("POST", "/api/events", {
        body: { topic: "dash.approved", payload: 1 },
      });
      expect(emitted.body.resumed).toEqual([runId]);
      await until(
        () => fx.call("GET", `/api/workflows?status=completed`),
        (r) => r.body.runs.some((run: { id: string }) => run.id === runId),
      );
    });
  });
}
