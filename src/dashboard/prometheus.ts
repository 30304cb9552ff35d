/**
 * `GET /metrics` in the Prometheus text format: queue depths, in flight, delayed, dead,
 * paused; worker counters from heartbeats; schedule runs and drift.
 */
import { isLost } from "../worker/liveness.ts";
import type { DashboardContext } from "./context.ts";
import { queueViews } from "./api/queues.ts";

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
  const [queues, beats, entries] = await Promise.all([
    queueViews(ctx),
    ctx.client.backend.listHeartbeats(),
    ctx.schedules.list(),
  ]);
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
