/**
 * Task metrics from the result backend's stored statuses: per task name the count, failure
 * rate and duration percentiles, per time bucket the same for all tasks (or one name), and
 * Beat drift per schedule entry. Computed from the newest finished statuses still stored
 * (results expire after the backend's time to live), at most SCAN_LIMIT per outcome; the
 * reply says when that limit cut the window short.
 */
import type { TaskStatus } from "../../core/states.ts";
import type { DashboardContext } from "../context.ts";
import { badRequest } from "../http.ts";
import type { Route } from "../routes.ts";

const SCAN_LIMIT = 2000;
const BUCKETS = 60;
const WINDOWS: Record<string, number> = { "1h": 60 * 60_000, "24h": 24 * 60 * 60_000 };

/** Nearest-rank percentile of sorted values; undefined for none. */
export function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

interface Summary {
  count: number;
  failed: number;
  failureRate: number;
  p50?: number;
  p95?: number;
  p99?: number;
}

function summarise(statuses: TaskStatus[]): Summary {
  const durations = statuses
    .filter((s) => s.startedAt !== undefined && s.finishedAt !== undefined)
    .map((s) => (s.finishedAt as number) - (s.startedAt as number))
    .sort((a, b) => a - b);
  const failed = statuses.filter((s) => s.state !== "succeeded").length;
  return {
    count: statuses.length,
    failed,
    failureRate: statuses.length ? failed / statuses.length : 0,
    p50: percentile(durations, 50),
    p95: percentile(durations, 95),
    p99: percentile(durations, 99),
  };
}

async function metrics(ctx: DashboardContext, window: string, name?: string) {
  const windowMs = WINDOWS[window];
  if (windowMs === undefined)
    throw badRequest(`window must be one of ${Object.keys(WINDOWS).join(", ")}, got "${window}"`);
  const now = ctx.now();
  const start = now - windowMs;
  const [succeeded, failed, entries] = await Promise.all([
    ctx.client.backend.list({ state: "succeeded", name, limit: SCAN_LIMIT }),
    ctx.client.backend.list({ state: "failed", name, limit: SCAN_LIMIT }),
    ctx.schedules.list(),
  ]);
  // Newest first: a full page whose oldest entry is inside the window means older ones were not read.
  const cut = [succeeded, failed].some(
    (page) => page.length === SCAN_LIMIT && (page[page.length - 1].finishedAt ?? 0) > start,
  );
  const finished = [...succeeded, ...failed].filter((s) => (s.finishedAt ?? 0) > start);
  const byName = new Map<string, TaskStatus[]>();
  for (const s of finished) {
    const list = byName.get(s.name);
    if (list) list.push(s);
    else byName.set(s.name, [s]);
  }
  const width = windowMs / BUCKETS;
  const buckets: TaskStatus[][] = Array.from({ length: BUCKETS }, () => []);
  for (const s of finished)
    buckets[Math.min(BUCKETS - 1, Math.floor(((s.finishedAt as number) - start) / width))].push(s);
  const drift = await Promise.all(
    entries.map(async (e) => {
      const history = await ctx.schedules.history(e.id, 100);
      const drifts = history.map((h) => h.driftMs).filter((d): d is number => d !== undefined);
      return {
        id: e.id,
        last: e.drift,
        average: drifts.length ? drifts.reduce((a, b) => a + b, 0) / drifts.length : undefined,
        max: drifts.length ? Math.max(...drifts) : undefined,
        runs: drifts.length,
      };
    }),
  );
  return {
    now,
    window,
    complete: !cut,
    tasks: [...byName.entries()]
      .map(([task, statuses]) => ({ name: task, ...summarise(statuses) }))
      .sort((a, b) => b.count - a.count),
    series: buckets.map((statuses, i) => ({
      t: Math.round(start + (i + 1) * width),
      ...summarise(statuses),
    })),
    drift,
  };
}

export const metricsRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/metrics",
    summary:
      "Per task name count, failure rate and p50/p95/p99 durations, the same per time bucket, and Beat drift per entry",
    query: { window: "1h (default) | 24h", name: "only this task name" },
    handle: (input, ctx) =>
      metrics(ctx, input.query.get("window") || "1h", input.query.get("name") || undefined),
  },
];
