/** Schedules: entries with spec, time zone, next/last run, drift, runs, last error; history; next 10; enable/disable. */
import { ActionButton, Fields, Json, Loading, State, Table, useOutcome } from "../components.ts";
import { ago, time } from "../format.ts";
import { html } from "../html.ts";
import { useResource } from "../hooks.ts";
import type { PageProps } from "../route.ts";

interface Entry {
  id: string;
  taskName: string;
  queue?: string;
  description: string;
  timezone: string;
  enabled: boolean;
  nextRunAt?: number;
  lastRunAt?: number;
  drift?: number;
  totalRunCount: number;
  lastError?: string;
  due: boolean;
  overdue: boolean;
  args: unknown;
}

function stateOf(e: Entry): string {
  return !e.enabled ? "disabled" : e.overdue ? "overdue" : e.due ? "due" : "enabled";
}

export function SchedulesPage(props: PageProps) {
  return props.segments[0]
    ? html`<${ScheduleDetail} id=${props.segments[0]} session=${props.session} />`
    : html`<${ScheduleList} ...${props} />`;
}

function Toggle({
  entry,
  onDone,
}: {
  entry: Entry;
  onDone(r: { ok: boolean; message: string }): void;
}) {
  const action = entry.enabled ? "disable" : "enable";
  return html`<${ActionButton}
    label=${`${entry.enabled ? "Disable" : "Enable"} ${entry.id}`}
    path=${`/api/schedules/${encodeURIComponent(entry.id)}/${action}`}
    onDone=${onDone}
  />`;
}

function ScheduleList({ session }: PageProps) {
  const { data, error, reload } = useResource<{ entries: Entry[] }>("/api/schedules");
  const [outcome, setOutcome] = useOutcome();
  if (!data) return html`<${Loading} error=${error} />`;
  const done = (r: { ok: boolean; message: string }) => {
    setOutcome(r);
    reload();
  };
  return html`
    <h2>Schedules</h2>
    ${outcome}
    <${Table}
      label="schedule entries"
      empty="no schedule entries (stem schedule apply, or stem beat --schedules)"
      narrow=${[2, 5, 6, 7]}
      head=${["entry", "task", "schedule", "state", "next run", "last run", "drift", "runs", "last error", ...(session.readOnly ? [] : ["actions"])]}
      rows=${data.entries.map((e) => [
        html`<a href=${`#/schedules/${encodeURIComponent(e.id)}`}>${e.id}</a>`,
        e.taskName,
        `${e.description} (${e.timezone})`,
        html`<${State} state=${stateOf(e)} />`,
        e.enabled ? ago(e.nextRunAt) : "",
        ago(e.lastRunAt),
        e.drift === undefined ? "" : `${e.drift} ms`,
        e.totalRunCount,
        e.lastError ?? "",
        ...(session.readOnly ? [] : [html`<${Toggle} entry=${e} onDone=${done} />`]),
      ])}
    />`;
}

interface Detail {
  entry: Entry;
  history: {
    scheduledFor: number;
    executedAt: number;
    driftMs?: number;
    success: boolean;
    error?: string;
  }[];
  nextRuns: number[];
}

function ScheduleDetail({ id, session }: { id: string; session: PageProps["session"] }) {
  const { data, error, reload } = useResource<Detail>(
    `/api/schedules/${encodeURIComponent(id)}`,
    5000,
  );
  const [outcome, setOutcome] = useOutcome();
  const back = html`<p><a href="#/schedules">← Schedules</a></p>`;
  if (!data) return html`${back}<${Loading} error=${error} />`;
  const e = data.entry;
  return html`
    ${back}
    <h2>Schedule ${e.id}</h2>
    ${outcome}
    ${session.readOnly ? null : html`<div class="actions"><${Toggle} entry=${e} onDone=${(r: { ok: boolean; message: string }) => (setOutcome(r), reload())} /></div>`}
    <div class="card"><${Fields} rows=${[
      ["task", e.taskName],
      ["queue", e.queue ?? "(routing default)"],
      ["schedule", e.description],
      ["time zone", e.timezone],
      ["state", html`<${State} state=${stateOf(e)} />`],
      ["next run", e.enabled ? time(e.nextRunAt) : ""],
      ["last run", time(e.lastRunAt)],
      ["drift", e.drift === undefined ? "" : `${e.drift} ms`],
      ["runs", e.totalRunCount],
      ["last error", e.lastError],
    ]} /></div>
    <div class="grid2">
      <section>
        <h3>Next 10 due times</h3>
        <ol class="mono">${data.nextRuns.map((t) => html`<li>${time(t)}</li>`)}</ol>
      </section>
      <section>
        <h3>History</h3>
        <${Table} label="run history" empty="no runs yet" head=${["due", "executed", "drift", "result"]}
          rows=${data.history.map((h) => [
            time(h.scheduledFor),
            time(h.executedAt),
            h.driftMs === undefined ? "" : `${h.driftMs} ms`,
            h.success ? "ok" : `failed: ${h.error ?? ""}`,
          ])} />
      </section>
    </div>
    <h3>Arguments</h3><${Json} value=${e.args} />`;
}
