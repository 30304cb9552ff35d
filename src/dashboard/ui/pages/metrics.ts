/** Metrics: per task name count, failure rate and duration percentiles over time; Beat drift. */
import { useState } from "preact/hooks";
import { query } from "../api.ts";
import { Chart } from "../chart.ts";
import { Loading, Notice, Table } from "../components.ts";
import { duration } from "../format.ts";
import { html } from "../html.ts";
import { useResource } from "../hooks.ts";
import type { PageProps } from "../route.ts";

interface Summary {
  count: number;
  failed: number;
  failureRate: number;
  p50?: number;
  p95?: number;
  p99?: number;
}

interface Metrics {
  complete: boolean;
  tasks: (Summary & { name: string })[];
  series: (Summary & { t: number })[];
  drift: { id: string; last?: number; average?: number; max?: number; runs: number }[];
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
      ${["1h", "24h"].map(
        (w) =>
          html`<button type="button" class=${w === window ? "primary" : ""} aria-pressed=${w === window} onClick=${() => setWindow(w)}>${w}</button>`,
      )}
      <label>Task name<input value=${name} onChange=${(e: Event) => setName((e.target as HTMLInputElement).value)} placeholder="all tasks" /></label>
    </div>
    ${
      !data
        ? html`<${Loading} error=${error} />`
        : html`
          ${data.complete ? null : html`<${Notice}>More tasks finished in this window than are read at once: the oldest part of it is not counted.<//>`}
          <div class="grid2">
            <${Chart} title="Tasks finished per bucket" times=${times} series=${[
              { label: "finished", color: "#3b6fe0", values: data.series.map((s) => s.count) },
              { label: "failed", color: "#d64545", values: data.series.map((s) => s.failed) },
            ]} />
            <${Chart} title="Duration (ms)" times=${times} series=${[
              { label: "p50", color: "#2e9e4f", values: data.series.map((s) => s.p50 ?? 0) },
              { label: "p95", color: "#c98a12", values: data.series.map((s) => s.p95 ?? 0) },
              { label: "p99", color: "#d64545", values: data.series.map((s) => s.p99 ?? 0) },
            ]} />
          </div>
          <h3>By task</h3>
          <${Table} label="task metrics" empty="no task finished in this window" narrow=${[4, 6]}
            head=${["task", "finished", "failed", "failure rate", "p50", "p95", "p99"]}
            rows=${data.tasks.map((t) => [
              html`<a href=${`#/tasks?name=${encodeURIComponent(t.name)}`}>${t.name}</a>`,
              t.count,
              t.failed,
              percent(t.failureRate),
              ms(t.p50),
              ms(t.p95),
              ms(t.p99),
            ])} />
          <h3>Beat drift</h3>
          <${Table} label="beat drift" empty="no schedule entries" head=${["entry", "last", "average", "max", "runs measured"]}
            rows=${data.drift.map((d) => [
              html`<a href=${`#/schedules/${encodeURIComponent(d.id)}`}>${d.id}</a>`,
              ms(d.last),
              ms(d.average),
              ms(d.max),
              d.runs,
            ])} />
          <p class="muted">From the task statuses the result backend still keeps (they expire after its time to live).</p>`
    }`;
}
