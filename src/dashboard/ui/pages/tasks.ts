/** Tasks: search by id, filter, page; detail with args, result, error and traceback; revoke, retry. */
import { useState } from "preact/hooks";
import { query } from "../api.ts";
import {
  ActionButton,
  Fields,
  Json,
  Loading,
  Pager,
  State,
  Table,
  useOutcome,
} from "../components.ts";
import { duration, shortId, time } from "../format.ts";
import { html } from "../html.ts";
import { useResource } from "../hooks.ts";
import { type PageProps, go } from "../route.ts";

const STATES = [
  "",
  "pending",
  "queued",
  "running",
  "succeeded",
  "failed",
  "retrying",
  "revoked",
  "dead",
];
const LIMIT = 25;

interface TaskStatus {
  id: string;
  name: string;
  queue: string;
  state: string;
  args?: unknown;
  result?: unknown;
  error?: { type: string; message: string; stack?: string };
  attempt: number;
  meta: Record<string, unknown>;
  progress?: { percent: number; data?: unknown };
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
  finishedAt?: number;
  workerId?: string;
}

export function TasksPage(props: PageProps) {
  return props.segments[0]
    ? html`<${TaskDetail} id=${props.segments[0]} session=${props.session} />`
    : html`<${TaskList} ...${props} />`;
}

function TaskList({ params }: PageProps) {
  const [filter, setFilter] = useState({
    id: params.get("id") ?? "",
    state: params.get("state") ?? "",
    name: params.get("name") ?? "",
    queue: params.get("queue") ?? "",
    since: params.get("since") ?? "",
    until: params.get("until") ?? "",
  });
  const [offset, setOffset] = useState(0);
  const iso = (local: string) => (local ? new Date(local).toISOString() : undefined);
  const { data, error } = useResource<{ tasks: TaskStatus[] }>(
    `/api/tasks${query({ ...filter, since: iso(filter.since), until: iso(filter.until), limit: LIMIT, offset })}`,
  );
  const field = (key: keyof typeof filter) => (e: Event) => {
    setOffset(0);
    setFilter({ ...filter, [key]: (e.target as HTMLInputElement).value });
  };
  return html`
    <h2>Tasks</h2>
    <form class="toolbar" role="search" onSubmit=${(e: Event) => e.preventDefault()}>
      <label>Task id<input name="id" value=${filter.id} onChange=${field("id")} placeholder="exact id" /></label>
      <label>State<select name="state" value=${filter.state} onChange=${field("state")}>
        ${STATES.map((s) => html`<option value=${s}>${s || "any"}</option>`)}
      </select></label>
      <label>Task name<input name="name" value=${filter.name} onChange=${field("name")} /></label>
      <label>Queue<input name="queue" value=${filter.queue} onChange=${field("queue")} /></label>
      <label>Updated since<input name="since" type="datetime-local" value=${filter.since} onChange=${field("since")} /></label>
      <label>Updated until<input name="until" type="datetime-local" value=${filter.until} onChange=${field("until")} /></label>
    </form>
    ${
      !data
        ? html`<${Loading} error=${error} />`
        : html`<${Table}
            label="tasks"
            empty="no task matches"
            narrow=${[2, 4, 6]}
            head=${["task", "name", "queue", "state", "attempt", "updated", "runtime"]}
            rows=${data.tasks.map((t) => [
              html`<a class="mono" href=${`#/tasks/${encodeURIComponent(t.id)}`}>${shortId(t.id)}</a>`,
              t.name,
              t.queue,
              html`<${State} state=${t.state} />`,
              t.attempt,
              time(t.updatedAt),
              t.startedAt && t.finishedAt ? duration(t.finishedAt - t.startedAt) : "",
            ])}
          />
          <${Pager} offset=${offset} limit=${LIMIT} count=${data.tasks.length} onChange=${setOffset} />`
    }`;
}

interface TaskDetailView {
  status: TaskStatus;
  runtimeMs?: number;
  parentId: string | null;
  rootId: string | null;
  canvas: { index: number; id: string; name: string; role: string; state: string }[] | null;
  deadLetter: { reason: string; deadAt: number } | null;
  /** The task's history, oldest first (`stem result --timeline`). */
  timeline: { at: number; event: string; detail: string }[];
}

function taskLink(id: string | null) {
  return id ? html`<a class="mono" href=${`#/tasks/${encodeURIComponent(id)}`}>${id}</a>` : null;
}

function TaskDetail({ id, session }: { id: string; session: PageProps["session"] }) {
  const { data, error, reload } = useResource<TaskDetailView>(
    `/api/tasks/${encodeURIComponent(id)}`,
    5000,
  );
  const [outcome, setOutcome] = useOutcome();
  if (!data) return html`<p><a href="#/tasks">← Tasks</a></p><${Loading} error=${error} />`;
  const s = data.status;
  const path = (action: string) => `/api/tasks/${encodeURIComponent(id)}/${action}`;
  return html`
    <p><a href="#/tasks">← Tasks</a></p>
    <h2>Task <span class="mono">${s.id}</span></h2>
    ${outcome}
    ${
      session.readOnly
        ? null
        : html`<div class="actions">
            <${ActionButton} label="Retry (enqueue a copy)" path=${path("retry")}
              onDone=${(r: { ok: boolean; message: string; value?: { id?: string } }) => {
                setOutcome(r);
                if (r.ok && r.value?.id) go(`tasks/${encodeURIComponent(r.value.id)}`);
              }} />
            <${ActionButton} label="Revoke" path=${path("revoke")} confirm="Revoke this task? A worker that receives it skips it."
              onDone=${(r: { ok: boolean; message: string }) => (setOutcome(r), reload())} />
            <${ActionButton} label="Revoke and terminate" danger path=${path("revoke")} body=${{ terminate: true }}
              confirm="Revoke this task and stop it if it is running?" onDone=${(r: { ok: boolean; message: string }) => (setOutcome(r), reload())} />
          </div>`
    }
    <div class="card">
      <${Fields} rows=${[
        ["name", s.name],
        ["queue", s.queue],
        ["state", html`<${State} state=${s.state} />`],
        ["attempts", s.attempt],
        ["progress", s.progress ? `${s.progress.percent}%` : ""],
        ["created", time(s.createdAt)],
        ["started", time(s.startedAt)],
        ["finished", time(s.finishedAt)],
        ["runtime", duration(data.runtimeMs)],
        ["worker", s.workerId],
        ["parent", taskLink(data.parentId as string | null)],
        ["root", taskLink(data.rootId as string | null)],
        [
          "dead letter",
          data.deadLetter
            ? html`<a href=${`#/dead-letters/${encodeURIComponent(s.id)}`}>${data.deadLetter.reason}</a>`
            : "",
        ],
      ]} />
    </div>
    ${s.error ? html`<h3>Error</h3><p class="error-message"><strong>${s.error.type}</strong>: ${s.error.message}</p><h3>Traceback</h3><pre class="traceback">${s.error.stack ?? "(no traceback)"}</pre>` : null}
    <h3>Arguments</h3><${Json} value=${s.args} />
    ${s.result !== undefined ? html`<h3>Result</h3><${Json} value=${s.result} />` : null}
    ${
      data.canvas
        ? html`<h3>Canvas members</h3><${Table} label="canvas members" head=${["#", "task", "name", "role", "state"]}
      rows=${data.canvas.map((m) => [m.index, taskLink(m.id), m.name, m.role, html`<${State} state=${m.state} />`])} />`
        : null
    }
    <h3>Timeline</h3><${Table} label="timeline" empty="no timeline kept for this task"
      head=${["time", "event", "detail"]}
      rows=${data.timeline.map((e) => [time(e.at), e.event, e.detail])} />
    <h3>Meta</h3><${Json} value=${s.meta} />`;
}
