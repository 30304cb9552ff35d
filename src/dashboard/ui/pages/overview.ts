/** Overview: totals, live throughput and depth charts, workers, schedules due soon, recent failures. */
import { useEffect, useState } from "preact/hooks";
import { apiUrl, get } from "../api.ts";
import { Chart } from "../chart.ts";
import { Loading, Table } from "../components.ts";
import { ago, short, shortId } from "../format.ts";
import { html } from "../html.ts";

interface Overview {
  now: number;
  totals: Record<"pending" | "inflight" | "delayed" | "dead" | "processed" | "failed", number>;
  workers: { alive: number; lost: number };
  /** Per bucket; depth is null where no dashboard sampled it. */
  throughput: { t: number; succeededPerSec: number; failedPerSec: number; depth: number | null }[];
  queues: {
    queue: string;
    pending: number;
    inflight: number;
    delayed: number;
    dead: number;
    paused: boolean;
  }[];
  schedulesDueSoon: { id: string; taskName: string; nextRunAt: number }[];
  recentFailures: { id: string; name: string; queue: string; error: string; at: number }[];
  recentDeadLetters: { id: string; name: string; queue: string; reason: string; at: number }[];
}

const WINDOWS = ["15m", "1h", "24h"];

/** Live overview documents: Server-Sent Events, or a 3 s poll when the stream fails. */
function useOverview(window: string) {
  const [data, setData] = useState<Overview>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let poll: ReturnType<typeof setInterval> | undefined;
    const source = new EventSource(apiUrl(`/api/stream?window=${window}`));
    source.addEventListener("overview", (e) => {
      setData(JSON.parse((e as MessageEvent).data));
      setError(undefined);
    });
    source.addEventListener("error", () => {
      if (poll || source.readyState !== EventSource.CLOSED) return;
      const load = () =>
        get<Overview>(`/api/overview?window=${window}`).then(setData, (e: Error) =>
          setError(e.message),
        );
      load();
      poll = setInterval(load, 3000);
    });
    return () => {
      source.close();
      clearInterval(poll);
    };
  }, [window]);
  return { data, error };
}

export function OverviewPage() {
  const [window, setWindow] = useState("15m");
  const { data, error } = useOverview(window);
  if (!data) return html`<${Loading} error=${error} />`;
  const t = data.totals;
  const card = (label: string, value: number, id: string) =>
    html`<div class="card" data-stat=${id}><div class="label">${label}</div><div class="value">${value}</div></div>`;
  const times = data.throughput.map((s) => s.t);
  return html`
    <h2>Overview</h2>
    <div class="cards">
      ${card("Succeeded (live workers)", t.processed - t.failed, "succeeded")}
      ${card("Failed (live workers)", t.failed, "failed")}
      ${card("Pending", t.pending, "pending")}
      ${card("In flight", t.inflight, "inflight")}
      ${card("Delayed", t.delayed, "delayed")}
      ${card("Dead letters", t.dead, "dead")}
      ${card("Workers online", data.workers.alive, "workers")}
      ${data.workers.lost ? card("Workers lost", data.workers.lost, "lost") : null}
    </div>
    <div class="toolbar" role="group" aria-label="chart window">
      ${WINDOWS.map(
        (w) =>
          html`<button type="button" class=${w === window ? "primary" : ""} aria-pressed=${w === window} onClick=${() => setWindow(w)}>${w}</button>`,
      )}
    </div>
    <div class="grid2">
      <${Chart} title="Tasks per second" times=${times} series=${[
        {
          label: "succeeded",
          color: "#2e9e4f",
          values: data.throughput.map((s) => s.succeededPerSec),
        },
        { label: "failed", color: "#d64545", values: data.throughput.map((s) => s.failedPerSec) },
      ]} />
      <${Chart} title="Queue depth (pending + delayed)" times=${times} series=${[
        { label: "depth", color: "#3b6fe0", values: data.throughput.map((s) => s.depth ?? 0) },
      ]} />
    </div>
    <div class="grid2">
      <section>
        <h3>Queues</h3>
        <${Table} label="queues" head=${["queue", "pending", "in flight", "dead"]} rows=${data.queues.map(
          (q) => [
            html`<a href="#/queues">${q.queue}</a>${q.paused ? html` <span class="state state-paused">paused</span>` : null}`,
            q.pending,
            q.inflight,
            q.dead,
          ],
        )} />
      </section>
      <section>
        <h3>Schedules due soon</h3>
        <${Table} label="schedules due soon" empty="no schedule entries" head=${["entry", "task", "next run"]}
          rows=${data.schedulesDueSoon.map((s) => [
            html`<a href=${`#/schedules/${encodeURIComponent(s.id)}`}>${s.id}</a>`,
            s.taskName,
            ago(s.nextRunAt, data.now),
          ])} />
      </section>
    </div>
    <h3>Recent failures</h3>
    <${Table} label="recent failures" empty="no failed tasks" narrow=${[2]} head=${["task", "name", "queue", "error", "when"]}
      rows=${data.recentFailures.map((f) => [
        html`<a class="mono" href=${`#/tasks/${encodeURIComponent(f.id)}`}>${shortId(f.id)}</a>`,
        f.name,
        f.queue,
        short(f.error, 100),
        ago(f.at, data.now),
      ])} />
    <h3>Recent dead letters</h3>
    <${Table} label="recent dead letters" empty="no dead letters" narrow=${[2]} head=${["task", "name", "queue", "reason", "when"]}
      rows=${data.recentDeadLetters.map((d) => [
        html`<a class="mono" href=${`#/dead-letters/${encodeURIComponent(d.id)}`}>${shortId(d.id)}</a>`,
        d.name,
        d.queue,
        d.reason,
        ago(d.at, data.now),
      ])} />`;
}
