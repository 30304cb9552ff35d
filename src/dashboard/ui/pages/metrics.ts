/** Metrics: per task name count, failure rate and duration percentiles over time; Beat drift. */
import { useState } from "preact/hooks";
import { query } from "../api.ts";
import { Chart } from "../chart.ts";
import { Loading, Table } from "../components.ts";
import { duration } from "../format.ts";
import { html } from "../html.ts";
import { useResource } from "../hooks.ts";
import type { PageProps } from "../route.ts";

interface Summary {
  count: number;
  failed: number;
  retried: number;
  failureRate: number;
  p50?: number;
  p95?: number;
  p99?: number;
}

interface Drift {
  average?: number;
  max?: number;
  runs: number;
}

interface Metrics {
  tasks: (Summary & { name: string })[];
  series: (Summary & { t: number })[];
  drift: (Drift & { id: string; last?: number })[];
  driftSeries: (Drift & { t: number })[];
}

const percent = (rate: number) => `${(rate * 100).toFixed(1)}%`;
const ms = (v: number | undefined) => (v === undefined ? "" : duration(v));

export function MetricsPage({ params }: PageProps) {
  const [window, setWindow] = useState("1h");
  const [name, setName] = useState(params.get("name") ?? "");
  const { data, error } = useResource<Metrics>(`/api/metrics${query({ window, name })}`, 10_000);
  const times = data?.series.map((s) => s.t) ?? [];
  return html`
    <h2>Metrics</h2>
    <div class="toolbar">
      ${["15m", "1h", "24h"].map(
        (w) =>
          html`<button type="button" class=${w === window ? "primary" : ""} aria-pressed=${w === window} onClick=${() => setWindow(w)}>${w}</button>`,
      )}
      <label>Task name<input value=${name} onChange=${(e: Event) => setName((e.target as HTMLInputElement).value)} placeholder="all tasks" /></label>
    </div>
    ${
      !data
        ? html`<${Loading} error=${error} />`
        : html`
          <div class="grid2">
            <${Chart} title="Tasks finished per bucket" times=${times} series=${[
              { label: "finished", color: "#3b6fe0", values: data.series.map((s) => s.count) },
              { label: "failed", color: "#d64545", values: data.series.map((s) => s.failed) },
              { label: "retried", color: "#c98a12", values: data.series.map((s) => s.retried) },
            ]} />
            <${Chart} title="Duration (ms)" times=${times} series=${[
              { label: "p50", color: "#2e9e4f", values: data.series.map((s) => s.p50 ?? 0) },
              { label: "p95", color: "#c98a12", values: data.series.map((s) => s.p95 ?? 0) },
              { label: "p99", color: "#d64545", values: data.series.map((s) => s.p99 ?? 0) },
            ]} />
          </div>
          <h3>By task</h3>
          <${Table} label="task metrics" empty="no task finished in this window" narrow=${[3, 5, 7]}
            head=${["task", "finished", "failed", "retried", "failure rate", "p50", "p95", "p99"]}
            rows=${data.tasks.map((t) => [
              html`<a href=${`#/tasks?name=${encodeURIComponent(t.name)}`}>${t.name}</a>`,
              t.count,
              t.failed,
              t.retried,
              percent(t.failureRate),
              ms(t.p50),
              ms(t.p95),
              ms(t.p99),
            ])} />
          <h3>Beat drift</h3>
          <${Chart} title="Beat drift (ms)" times=${times} series=${[
            {
              label: "average",
              color: "#3b6fe0",
              values: data.driftSeries.map((d) => d.average ?? 0),
            },
            { label: "max", color: "#d64545", values: data.driftSeries.map((d) => d.max ?? 0) },
          ]} />
          <${Table} label="beat drift" empty="no schedule entries" head=${["entry", "last", "average", "max", "runs measured"]}
            rows=${data.drift.map((d) => [
              html`<a href=${`#/schedules/${encodeURIComponent(d.id)}`}>${d.id}</a>`,
              ms(d.last),
              ms(d.average),
              ms(d.max),
              d.runs,
            ])} />
          <p class="muted">From the per-minute counters the workers keep in the result backend (one day is kept); durations are read from a log-scale histogram, within about 10%. Drift from each entry's run history.</p>`
    }`;
}
