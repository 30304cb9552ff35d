/**
 * `GET /metrics` in the Prometheus text format: queue depths, in flight, delayed, dead,
 * paused; worker counters from heartbeats; task outcomes and duration percentiles over
 * the last five minutes from the per-minute counters; schedule runs and drift.
 */
import { isLost } from "../worker/liveness.ts";
import type { DashboardContext } from "./context.ts";
import { queueViews } from "./api/queues.ts";
import { readHistory, summary } from "./history.ts";

/** The window the task gauges cover: long enough to be stable between scrapes. */
const TASK_WINDOW_MS = 5 * 60_000;

/** Escapes a label value as the exposition format requires. */
export function labelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

type Sample = [labels: Record<string, string>, value: number];

function family(name: string, type: "gauge" | "counter", help: string, samples: Sample[]): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [labels, value] of samples) {
    const text = Object.entries(labels)
      .map(([k, v]) => `${k}="${labelValue(v)}"`)
      .join(",");
    lines.push(`${name}${text ? `{${text}}` : ""} ${Number.isFinite(value) ? value : 0}`);
  }
  return `${lines.join("\n")}\n`;
}

export async function prometheusText(ctx: DashboardContext): Promise<string> {
  const now = ctx.now();
  const [queues, beats, entries, history] = await Promise.all([
    queueViews(ctx),
    ctx.client.backend.listHeartbeats(),
    ctx.schedules.list(),
    readHistory(ctx.counts, now, TASK_WINDOW_MS),
  ]);
  const tasks = [...history.totals.entries()].map(([task, c]) => ({ task, ...summary(c) }));
  const outcomes: Sample[] = tasks.flatMap((t) =>
    (["succeeded", "failed", "retried"] as const).map(
      (outcome): Sample => [{ task: t.task, outcome }, t[outcome]],
    ),
  );
  const quantiles: Sample[] = tasks.flatMap((t) =>
    (
      [
        ["0.5", t.p50],
        ["0.95", t.p95],
        ["0.99", t.p99],
      ] as const
    )
      .filter(([, v]) => v !== undefined)
      .map(([quantile, v]): Sample => [{ task: t.task, quantile }, v as number]),
  );
  const perQueue = (key: "pending" | "inflight" | "delayed" | "dead"): Sample[] =>
    queues.map((q) => [{ queue: q.queue }, q[key]]);
  const alive = beats.filter((b) => !isLost(b, now));
  const perWorker = (key: "processed" | "failed" | "inflight"): Sample[] =>
    alive.map((b) => [{ worker: b.workerId, host: b.host }, b[key]]);
  return [
    family("stem_queue_pending", "gauge", "Tasks ready to run", perQueue("pending")),
    family("stem_queue_inflight", "gauge", "Tasks leased to a worker", perQueue("inflight")),
    family("stem_queue_delayed", "gauge", "Tasks waiting for their time", perQueue("delayed")),
    family("stem_queue_dead", "gauge", "Dead letters", perQueue("dead")),
    family(
      "stem_queue_paused",
      "gauge",
      "1 when the queue is paused",
      queues.map((q) => [{ queue: q.queue }, q.paused ? 1 : 0]),
    ),
    family("stem_workers", "gauge", "Workers by heartbeat state", [
      [{ state: "alive" }, alive.length],
      [{ state: "lost" }, beats.length - alive.length],
    ]),
    family("stem_worker_inflight", "gauge", "Tasks a live worker holds", perWorker("inflight")),
    family(
      "stem_worker_processed_total",
      "counter",
      "Tasks a live worker finished since it started",
      perWorker("processed"),
    ),
    family(
      "stem_worker_failed_total",
      "counter",
      "Tasks that failed on a live worker since it started",
      perWorker("failed"),
    ),
    family(
      "stem_task_outcomes_5m",
      "gauge",
      "Task runs per outcome (succeeded, failed, retried) in the last 5 minutes, from the workers' counters",
      outcomes,
    ),
    family(
      "stem_task_duration_ms_5m",
      "gauge",
      "Task run duration percentiles in ms over the last 5 minutes (from a log-scale histogram, within ~10%)",
      quantiles,
    ),
    family(
      "stem_schedule_runs_total",
      "counter",
      "Times Beat dispatched the entry",
      entries.map((e) => [{ entry: e.id }, e.totalRunCount]),
    ),
    family(
      "stem_schedule_drift_ms",
      "gauge",
      "Drift of the entry's last run in ms (dispatch time minus due time)",
      entries.filter((e) => e.drift !== undefined).map((e) => [{ entry: e.id }, e.drift as number]),
    ),
  ].join("");
}
