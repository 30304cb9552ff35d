/** Workflows: runs by status; a run's step timeline; emit an event, cancel, rewind. */
import { useState } from "preact/hooks";
import { act, query } from "../api.ts";
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
import { short, time, shortId } from "../format.ts";
import { html } from "../html.ts";
import { useResource } from "../hooks.ts";
import type { PageProps } from "../route.ts";

const STATUSES = ["", "running", "suspended", "completed", "failed", "cancelled"];
const LIMIT = 25;

interface Run {
  id: string;
  workflow: string;
  status: string;
  currentStep: string | null;
  waitTopic: string | null;
  resumeAt: number | null;
  result: unknown;
  lastError: Record<string, unknown> | null;
  cancellationData: Record<string, unknown> | null;
  params: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export function WorkflowsPage(props: PageProps) {
  return props.segments[0]
    ? html`<${RunDetail} id=${props.segments[0]} session=${props.session} />`
    : html`<${RunList} ...${props} />`;
}

function waitingOn(run: Run): string {
  if (run.status !== "suspended") return "";
  if (run.waitTopic) return `event ${run.waitTopic}`;
  return run.resumeAt ? `sleep until ${time(run.resumeAt)}` : "resume";
}

function EmitForm({ onDone }: { onDone(r: { ok: boolean; message: string }): void }) {
  const [topic, setTopic] = useState("");
  const [payload, setPayload] = useState("null");
  const submit = async (e: Event) => {
    e.preventDefault();
    let value: unknown;
    try {
      value = JSON.parse(payload);
    } catch (error) {
      return onDone({ ok: false, message: `The payload is not JSON: ${(error as Error).message}` });
    }
    try {
      const r = await act<{ resumed: string[] }>("/api/events", { topic, payload: value });
      onDone({ ok: true, message: `Emitted ${topic}: resumed ${r.resumed.length} run(s)` });
    } catch (error) {
      onDone({ ok: false, message: `Emit failed: ${(error as Error).message}` });
    }
  };
  return html`<form class="toolbar" aria-label="emit an event" onSubmit=${submit}>
    <label>Event topic<input name="topic" required value=${topic} onInput=${(e: Event) => setTopic((e.target as HTMLInputElement).value)} /></label>
    <label>Payload (JSON)<input name="payload" value=${payload} onInput=${(e: Event) => setPayload((e.target as HTMLInputElement).value)} /></label>
    <button type="submit" class="primary">Emit event</button>
  </form>`;
}

function RunList({ params, session }: PageProps) {
  const [status, setStatus] = useState(params.get("status") ?? "");
  const [offset, setOffset] = useState(0);
  const [outcome, setOutcome] = useOutcome();
  const { data, error, reload } = useResource<{ runs: Run[] }>(
    `/api/workflows${query({ status, limit: LIMIT, offset })}`,
  );
  return html`
    <h2>Workflows</h2>
    ${outcome}
    ${session.readOnly ? null : html`<${EmitForm} onDone=${(r: { ok: boolean; message: string }) => (setOutcome(r), reload())} />`}
    <div class="toolbar" role="group" aria-label="status">
      ${STATUSES.map(
        (
          s,
        ) => html`<button type="button" class=${s === status ? "primary" : ""} aria-pressed=${s === status}
          onClick=${() => (setStatus(s), setOffset(0))}>${s || "all"}</button>`,
      )}
    </div>
    ${
      !data
        ? html`<${Loading} error=${error} />`
        : html`<${Table} label="workflow runs" empty="no runs" narrow=${[3, 5]}
            head=${["run", "workflow", "status", "step", "waiting on", "updated"]}
            rows=${data.runs.map((r) => [
              html`<a class="mono" href=${`#/workflows/${encodeURIComponent(r.id)}`}>${shortId(r.id)}</a>`,
              r.workflow,
              html`<${State} state=${r.status} />`,
              r.currentStep ?? "",
              waitingOn(r),
              time(r.updatedAt),
            ])} />
          <${Pager} offset=${offset} limit=${LIMIT} count=${data.runs.length} onChange=${setOffset} />`
    }`;
}

interface Detail {
  run: Run;
  steps: { name: string; value: unknown; position: number; completedAt: number }[];
  watcher: { stepName: string; topic: string; createdAt: number; deadline: number | null } | null;
}

function RunDetail({ id, session }: { id: string; session: PageProps["session"] }) {
  const { data, error, reload } = useResource<Detail>(
    `/api/workflows/${encodeURIComponent(id)}`,
    2000,
  );
  const [outcome, setOutcome] = useOutcome();
  const back = html`<p><a href="#/workflows">← Workflows</a></p>`;
  if (!data) return html`${back}<${Loading} error=${error} />`;
  const { run, steps, watcher } = data;
  const done = (r: { ok: boolean; message: string }) => (setOutcome(r), reload());
  const path = (action: string) => `/api/workflows/${encodeURIComponent(id)}/${action}`;
  const userParams = Object.fromEntries(
    Object.entries(run.params).filter(([k]) => !k.startsWith("__stem.")),
  );
  return html`
    ${back}
    <h2>Run <span class="mono">${run.id}</span></h2>
    ${outcome}
    ${
      session.readOnly
        ? null
        : html`<div class="actions">
            <${ActionButton} label="Cancel run" danger path=${path("cancel")} confirm="Cancel this run?" onDone=${done} />
            ${steps.map(
              (
                s,
              ) => html`<${ActionButton} label=${`Rewind to ${s.name}`} path=${path("rewind")} body=${{ step: s.name.split("#")[0] }}
              confirm=${`Delete the checkpoint of ${s.name} and later ones, and run again from there?`} onDone=${done} />`,
            )}
          </div>`
    }
    ${session.readOnly || !run.waitTopic ? null : html`<p class="muted">Waiting for event <strong>${run.waitTopic}</strong>; emit it from the Workflows page.</p>`}
    <div class="card"><${Fields} rows=${[
      ["workflow", run.workflow],
      ["status", html`<${State} state=${run.status} />`],
      ["current step", run.currentStep],
      ["waiting on", waitingOn(run)],
      [
        "watcher",
        watcher
          ? `step ${watcher.stepName} since ${time(watcher.createdAt)}${watcher.deadline ? `, until ${time(watcher.deadline)}` : ""}`
          : "",
      ],
      ["last error", run.lastError ? `${run.lastError.type}: ${run.lastError.error}` : ""],
      ["cancelled", run.cancellationData ? String(run.cancellationData.reason) : ""],
      ["created", time(run.createdAt)],
      ["updated", time(run.updatedAt)],
    ]} /></div>
    <h3>Steps</h3>
    ${
      steps.length === 0
        ? html`<p class="muted">no completed steps</p>`
        : html`<ol class="timeline" aria-label="step timeline">${steps.map(
            (s) =>
              html`<li><strong>${s.name}</strong> <span class="muted">${time(s.completedAt)}</span><div class="mono">${short(s.value, 200)}</div></li>`,
          )}${run.status === "suspended" ? html`<li class="muted">suspended: ${waitingOn(run)}</li>` : null}</ol>`
    }
    ${run.status === "completed" ? html`<h3>Result</h3><${Json} value=${run.result} />` : null}
    ${run.lastError?.stack ? html`<h3>Traceback</h3><pre>${String(run.lastError.stack)}</pre>` : null}
    <h3>Params</h3><${Json} value=${userParams} />`;
}
