/** Small shared pieces: notices, state badges, tables, field lists, action buttons, pager. */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { act } from "./api.ts";
import { html } from "./html.ts";

export function Notice({ error, children }: { error?: boolean; children: ComponentChildren }) {
  return html`<div class=${`notice${error ? " error" : ""}`} role=${error ? "alert" : "status"}>${children}</div>`;
}

export function Loading({ error }: { error?: string }) {
  return error ? html`<${Notice} error>${error}<//>` : html`<p class="loading">Loading…</p>`;
}

export function State({ state }: { state: string }) {
  return html`<span class=${`state state-${state}`}>${state}</span>`;
}

/** A table: header labels, then rows of cells. Columns marked narrow hide on phones. */
export function Table({
  head,
  rows,
  empty = "nothing here",
  narrow = [],
  label,
}: {
  head: string[];
  rows: ComponentChildren[][];
  empty?: string;
  narrow?: number[];
  label: string;
}) {
  if (rows.length === 0) return html`<p class="muted">${empty}</p>`;
  const cls = (i: number) => (narrow.includes(i) ? "hide-narrow" : undefined);
  return html`<div class="scroll"><table aria-label=${label}>
    <thead><tr>${head.map((h, i) => html`<th scope="col" class=${cls(i)}>${h}</th>`)}</tr></thead>
    <tbody>${rows.map((row) => html`<tr>${row.map((cell, i) => html`<td class=${cls(i)}>${cell}</td>`)}</tr>`)}</tbody>
  </table></div>`;
}

/** A definition list of label → value, skipping empty values. */
export function Fields({ rows }: { rows: [string, ComponentChildren][] }) {
  const shown = rows.filter(([, v]) => v !== undefined && v !== null && v !== "");
  return html`<dl class="fields">${shown.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
}

/**
 * A button that sends an action, asks first when `confirm` is given, and reports the
 * outcome through `onDone` (the result, or the error message).
 */
export function ActionButton({
  label,
  path,
  body,
  confirm,
  danger,
  disabled,
  onDone,
}: {
  label: string;
  /** Not clickable yet (e.g. a field it needs is empty). */
  disabled?: boolean;
  path: string;
  body?: Record<string, unknown>;
  confirm?: string;
  danger?: boolean;
  onDone(result: { ok: boolean; message: string; value?: Record<string, unknown> }): void;
}) {
  const [busy, setBusy] = useState(false);
  const run = async () => {
    if (confirm && !window.confirm(confirm)) return;
    setBusy(true);
    try {
      const value = await act(path, body);
      onDone({ ok: true, message: `${label}: done`, value });
    } catch (error) {
      onDone({ ok: false, message: `${label} failed: ${(error as Error).message}` });
    } finally {
      setBusy(false);
    }
  };
  return html`<button type="button" class=${danger ? "danger" : ""} disabled=${busy || disabled} onClick=${run}>${label}</button>`;
}

/** The last action's outcome, shown above a page's content. */
export function useOutcome() {
  const [outcome, setOutcome] = useState<{ ok: boolean; message: string } | null>(null);
  const view = outcome ? html`<${Notice} error=${!outcome.ok}>${outcome.message}<//>` : null;
  return [view, setOutcome] as const;
}

export function Pager({
  offset,
  limit,
  count,
  onChange,
}: {
  offset: number;
  limit: number;
  count: number;
  onChange(offset: number): void;
}) {
  return html`<div class="actions" aria-label="pages">
    <button type="button" disabled=${offset === 0} onClick=${() => onChange(Math.max(0, offset - limit))}>Previous</button>
    <span class="muted">${count ? `${offset + 1}–${offset + count}` : "none"}</span>
    <button type="button" disabled=${count < limit} onClick=${() => onChange(offset + limit)}>Next</button>
  </div>`;
}

/** A pretty-printed JSON value as text. */
export function Json({ value }: { value: unknown }) {
  return html`<pre>${value === undefined ? "" : JSON.stringify(value, null, 2)}</pre>`;
}
