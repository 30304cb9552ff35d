/** Queues: depth, in flight, delayed, dead, paused, consuming workers; pause, resume, purge. */
import { ActionButton, Loading, State, Table, useOutcome } from "../components.ts";
import { html } from "../html.ts";
import { useResource } from "../hooks.ts";
import type { PageProps } from "../route.ts";

interface QueueView {
  queue: string;
  pending: number;
  inflight: number;
  delayed: number;
  dead: number;
  paused: boolean;
  workers: number;
  concurrency: number;
  /** Per task: `rateLimit` and any other limit a worker advertises (shown as `name value`). */
  limits: { task: string; queue?: string; source: string; [limit: string]: unknown }[];
}

/** How a known limit reads; another one shows as `name value`. */
const LIMIT_WORDS: Record<string, (value: unknown) => string> = {
  rateLimit: (value) => String(value),
  globalConcurrency: (value) => `at most ${String(value)} running at once`,
};

/** A queue's task limits, one line each: `task 10/s per args.tenant` (other limits as `name value`). */
function Limits({ limits }: { limits: QueueView["limits"] }) {
  if (limits.length === 0) return html`<span class="muted">none</span>`;
  return html`<ul class="plain">${limits.map(({ task, queue: _, source, ...rest }) => {
    const text = Object.entries(rest)
      .map(([k, v]) => LIMIT_WORDS[k]?.(v) ?? `${k} ${String(v)}`)
      .join(", ");
    return html`<li title=${`from ${source === "registry" ? "this process's task registry" : "a live worker's heartbeat"}`}>${task} <span class="mono">${text}</span></li>`;
  })}</ul>`;
}

export function QueuesPage({ session }: PageProps) {
  const { data, error, reload } = useResource<{ queues: QueueView[] }>("/api/queues");
  const [outcome, setOutcome] = useOutcome();
  if (!data) return html`<${Loading} error=${error} />`;
  const done = (result: { ok: boolean; message: string }) => {
    setOutcome(result);
    reload();
  };
  const path = (q: string, action: string) => `/api/queues/${encodeURIComponent(q)}/${action}`;
  return html`
    <h2>Queues</h2>
    ${outcome}
    <${Table}
      label="queues"
      empty="no queues yet"
      narrow=${[3, 6, 7]}
      head=${["queue", "pending", "in flight", "delayed", "dead", "state", "workers (concurrency)", "limits", ...(session.readOnly ? [] : ["actions"])]}
      rows=${data.queues.map((q) => [
        html`<span data-queue=${q.queue}>${q.queue}</span>`,
        q.pending,
        q.inflight,
        q.delayed,
        html`<a href=${`#/dead-letters?queue=${encodeURIComponent(q.queue)}`}>${q.dead}</a>`,
        html`<${State} state=${q.paused ? "paused" : "active"} />`,
        `${q.workers} (${q.concurrency})`,
        html`<${Limits} limits=${q.limits} />`,
        ...(session.readOnly
          ? []
          : [
              html`<div class="actions">
                ${
                  q.paused
                    ? html`<${ActionButton} label=${`Resume ${q.queue}`} path=${path(q.queue, "resume")} onDone=${done} />`
                    : html`<${ActionButton} label=${`Pause ${q.queue}`} path=${path(q.queue, "pause")} onDone=${done} />`
                }
                <${ActionButton}
                  label=${`Purge ${q.queue}`}
                  danger
                  path=${path(q.queue, "purge")}
                  confirm=${`Delete the ${q.pending + q.delayed} pending and delayed task(s) of queue "${q.queue}"? Running tasks are not affected.`}
                  onDone=${(r: { ok: boolean; message: string; value?: { removed?: number } }) =>
                    done(
                      r.ok
                        ? {
                            ok: true,
                            message: `Purged ${r.value?.removed ?? 0} task(s) from ${q.queue}`,
                          }
                        : r,
                    )}
                />
              </div>`,
            ]),
      ])}
    />
    <p class="muted">Rate limits and global concurrency limits are task options, shown under the queue each task is sent to, as this process's task registry or the live workers' heartbeats report them; the workers column sums the concurrency of live workers consuming each queue.</p>`;
}
