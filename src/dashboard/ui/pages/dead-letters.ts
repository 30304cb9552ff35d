/** Dead letters: filter by queue, reason and time; detail; replay one, selected or all matching; purge. */
import { useState } from "preact/hooks";
import { query } from "../api.ts";
import { ActionButton, Fields, Json, Loading, Pager, Table, useOutcome } from "../components.ts";
import { short, time, shortId } from "../format.ts";
import { html } from "../html.ts";
import { useResource } from "../hooks.ts";
import { type PageProps, go } from "../route.ts";

const LIMIT = 25;

interface DeadLetter {
  envelope: {
    id: string;
    name: string;
    args: unknown;
    attempt: number;
    headers: unknown;
    meta: unknown;
  };
  queue: string;
  reason: string;
  meta: Record<string, unknown>;
  deadAt: number;
}

export function DeadLettersPage(props: PageProps) {
  return props.segments[0]
    ? html`<${DeadLetterDetail} id=${props.segments[0]} session=${props.session} />`
    : html`<${DeadLetterList} ...${props} />`;
}

function DeadLetterList({ params, session }: PageProps) {
  const [filter, setFilter] = useState({ queue: params.get("queue") ?? "", reason: "", since: "" });
  const [offset, setOffset] = useState(0);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [outcome, setOutcome] = useOutcome();
  const since = filter.since ? new Date(filter.since).toISOString() : undefined;
  const { data, error, reload } = useResource<{ entries: DeadLetter[] }>(
    `/api/dead-letters${query({ ...filter, since, limit: LIMIT, offset })}`,
  );
  const field = (key: keyof typeof filter) => (e: Event) => {
    setOffset(0);
    setSelected(new Set());
    setFilter({ ...filter, [key]: (e.target as HTMLInputElement).value });
  };
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (!next.delete(id)) next.add(id);
    setSelected(next);
  };
  const done = (r: { ok: boolean; message: string; value?: Record<string, unknown> }) => {
    const replayed = r.value?.replayed as string[] | undefined;
    const skipped = r.value?.skipped as string[] | undefined;
    setOutcome(
      r.ok && replayed
        ? {
            ok: true,
            message: `Replayed ${replayed.length}${skipped?.length ? `, skipped ${skipped.length} queued again` : ""}`,
          }
        : r.ok && r.value && "removed" in r.value
          ? { ok: true, message: `Deleted ${r.value.removed} dead letter(s)` }
          : r,
    );
    setSelected(new Set());
    reload();
  };
  const matching = { queue: filter.queue || undefined, reason: filter.reason || undefined, since };
  const described = [
    filter.queue && `queue "${filter.queue}"`,
    filter.reason && `reason "${filter.reason}"`,
    since && `since ${since}`,
  ]
    .filter(Boolean)
    .join(", ");
  return html`
    <h2>Dead letters</h2>
    ${outcome}
    <form class="toolbar" role="search" onSubmit=${(e: Event) => e.preventDefault()}>
      <label>Queue<input name="queue" value=${filter.queue} onChange=${field("queue")} /></label>
      <label>Reason<input name="reason" value=${filter.reason} onChange=${field("reason")} /></label>
      <label>Since<input name="since" type="datetime-local" value=${filter.since} onChange=${field("since")} /></label>
    </form>
    ${
      session.readOnly
        ? null
        : html`<div class="toolbar">
            <${ActionButton} label=${`Replay selected (${selected.size})`} path="/api/dead-letters/replay" body=${{ ids: [...selected] }} disabled=${selected.size === 0} onDone=${done} />
            <${ActionButton} label="Replay all matching" path="/api/dead-letters/replay" body=${{ all: true, ...matching }}
              confirm=${`Replay every dead letter${described ? ` of ${described}` : ""}?`} onDone=${done} />
            <${ActionButton} label="Purge" danger path="/api/dead-letters/purge" body=${{ queue: matching.queue, since }}
              confirm=${`Delete every dead letter${filter.queue ? ` of queue "${filter.queue}"` : ""}${since ? ` since ${since}` : ""}? This cannot be undone.`} onDone=${done} />
          </div>`
    }
    ${
      !data
        ? html`<${Loading} error=${error} />`
        : html`<${Table}
            label="dead letters"
            empty="no dead letters"
            narrow=${[3, 5]}
            head=${[...(session.readOnly ? [] : [""]), "task", "name", "queue", "reason", "dead at", "error"]}
            rows=${data.entries.map((e) => [
              ...(session.readOnly
                ? []
                : [
                    html`<input type="checkbox" aria-label=${`select ${e.envelope.id}`} checked=${selected.has(e.envelope.id)} onChange=${() => toggle(e.envelope.id)} />`,
                  ]),
              html`<a class="mono" href=${`#/dead-letters/${encodeURIComponent(e.envelope.id)}`}>${shortId(e.envelope.id)}</a>`,
              e.envelope.name,
              e.queue,
              e.reason,
              time(e.deadAt),
              short(e.meta.error, 80),
            ])}
          />
          <${Pager} offset=${offset} limit=${LIMIT} count=${data.entries.length} onChange=${setOffset} />`
    }`;
}

function DeadLetterDetail({ id, session }: { id: string; session: PageProps["session"] }) {
  const { data, error } = useResource<DeadLetter>(`/api/dead-letters/${encodeURIComponent(id)}`, 0);
  const [outcome, setOutcome] = useOutcome();
  const back = html`<p><a href="#/dead-letters">← Dead letters</a></p>`;
  if (!data) return html`${back}${outcome}<${Loading} error=${error} />`;
  return html`
    ${back}
    <h2>Dead letter <span class="mono">${data.envelope.id}</span></h2>
    ${outcome}
    ${
      session.readOnly
        ? null
        : html`<div class="actions"><${ActionButton} label="Replay" path="/api/dead-letters/replay" body=${{ ids: [id] }}
            onDone=${(r: { ok: boolean; message: string }) => (r.ok ? go(`tasks/${encodeURIComponent(id)}`) : setOutcome(r))} /></div>`
    }
    <div class="card"><${Fields} rows=${[
      ["name", data.envelope.name],
      ["queue", data.queue],
      ["reason", data.reason],
      ["dead at", time(data.deadAt)],
      ["attempts", (data.envelope.attempt ?? 0) + 1],
      ["task", html`<a href=${`#/tasks/${encodeURIComponent(id)}`}>status and traceback</a>`],
    ]} /></div>
    <h3>Details</h3><${Json} value=${data.meta} />
    <h3>Arguments</h3><${Json} value=${data.envelope.args} />
    <h3>Headers</h3><${Json} value=${data.envelope.headers} />
    <h3>Meta</h3><${Json} value=${data.envelope.meta} />`;
}
