/** The dashboard's task detail carries the task's timeline, each entry in words. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DashboardFixture, openDashboard } from "../../fixtures/dashboard.ts";

let dir: string;
let fx: DashboardFixture;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "stem-dash-tl-"));
  fx = await openDashboard(`sqlite://${join(dir, "stem.db")}`);
});

afterAll(async () => {
  await fx.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a finished task's detail lists queued, delivered, started and succeeded with details", async () => {
  const id = await fx.client.enqueue("dash.ok", { n: 2 });
  await fx.client.waitForTask(id, { timeout: 15_000 });
  const detail = await fx.call("GET", `/api/tasks/${id}`);
  expect(detail.status).toBe(200);
  const timeline = detail.body.timeline as { at: number; event: string; detail: string }[];
  expect(timeline.map((e) => e.event)).toEqual(["queued", "delivered", "started", "succeeded"]);
  expect(timeline[0].detail).toMatch(/^queued by producer /);
  expect(timeline[3].detail).toBe(`succeeded on dash-worker-${process.pid} (attempt 1)`);
  expect(detail.body.status.timeline).toHaveLength(4);
});
