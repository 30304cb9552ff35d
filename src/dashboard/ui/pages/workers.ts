/** Workers from heartbeats: counters, last seen, lost ones flagged, running tasks; ping, pause, shutdown. */
import { useState } from "preact/hooks";
import { ActionButton, Loading, State, Table, useOutcome } from "../components.ts";
import { ago, duration, shortId } from "../format.ts";
import { html } from "../html.ts";
import { useResource } from "../hooks.ts";
import type { PageProps } from "../route.ts";

interface WorkerView {
  workerId: string;
  host: string;
  pid: number;
  queues: string[];
  concurrency: number;
  inflight: number;
  processed: number;
  failed: number;
  timestamp: number;
  state: "alive" | "lost";
  active: { id: string; name: string; queue: string; attempt: number; runtimeMs: number }[] | null;
}

export function WorkersPage({ session }: PageProps) {
  const { data, error, reload } = useResource<{ workers: WorkerView[] }>("/api/workers", 5000);
  const [outcome, setOutcome] = useOutcome();
  const [queue, setQueue] = useState("");
  if (!data) return html`<${Loading} error=${error} />`;
  const done = (r: { ok: boolean; message: string; value?: Record<string, unknown> }) => {
    const replies = (r.value?.replies as { workerId: string; status: string }[] | undefined) ?? [];
    setOutcome(
      r.ok
        ? {
            ok: true,
            message: `${r.message} (${replies.length} repl${replies.length === 1 ? "y" : "ies"}: ${replies.map((x) => `${x.workerId} ${x.status}`).join(", ")})`,
          }
        : r,
    );
    reload();
  };
  const running = data.workers.flatMap((w) =>
    (w.active ?? []).map((t) => ({ ...t, worker: w.workerId })),
  );
  return html`
    <h2>Workers</h2>
    ${outcome}
    ${
      session.readOnly
        ? null
        : html`<div class="toolbar">
            <${ActionButton} label="Ping all" path="/api/workers/ping" onDone=${done} />
            <label>Queue to pause or resume on one worker
              <input value=${queue} onInput=${(e: Event) => setQueue((e.target as HTMLInputElement).value)} placeholder="queue" />
            </label>
          </div>`
    }
    <${Table}
      label="workers"
      empty="no workers have reported a heartbeat"
      narrow=${[2, 3, 5, 6]}
      head=${["worker", "state", "host", "pid", "queues", "concurrency", "processed", "failed", "in flight", "last seen", ...(session.readOnly ? [] : ["actions"])]}
      rows=${data.workers.map((w) => [
        html`<span class="mono">${w.workerId}</span>`,
        html`<${State} state=${w.state} />`,
        w.host,
        w.pid,
        w.queues.join(", "),
        w.concurrency,
        w.processed,
        w.failed,
        w.inflight,
        ago(w.timestamp),
        ...(session.readOnly || w.state === "lost"
          ? session.readOnly
            ? []
            : [""]
          : [
              html`<div class="actions">
                <${ActionButton} label="Pause queue" path=${`/api/workers/${encodeURIComponent(w.workerId)}/pause`} body=${{ queue }} disabled=${!queue.trim()} onDone=${done} />
                <${ActionButton} label="Resume queue" path=${`/api/workers/${encodeURIComponent(w.workerId)}/resume`} body=${{ queue }} disabled=${!queue.trim()} onDone=${done} />
                <${ActionButton} label="Shutdown (warm)" danger confirm=${`Stop ${w.workerId} after its running tasks finish?`}
                  path=${`/api/workers/${encodeURIComponent(w.workerId)}/shutdown`} body=${{ mode: "warm" }} onDone=${done} />
                <${ActionButton} label="Shutdown (hard)" danger confirm=${`Stop ${w.workerId} now, returning its running tasks to their queues?`}
                  path=${`/api/workers/${encodeURIComponent(w.workerId)}/shutdown`} body=${{ mode: "hard" }} onDone=${done} />
              </div>`,
            ]),
      ])}
    />
    <h3>Running tasks</h3>
    <${Table}
      label="running tasks"
      empty="no task is running on a live worker"
      head=${["task", "name", "queue", "attempt", "runtime", "worker"]}
      rows=${running.map((t) => [
        html`<a class="mono" href=${`#/tasks/${encodeURIComponent(t.id)}`}>${shortId(t.id)}</a>`,
        t.name,
        t.queue,
        t.attempt,
        duration(t.runtimeMs),
        t.worker,
      ])}
    />`;
}
