/**
 * A small SVG line chart for a few series over time (throughput, queue depth). A hand-made
 * chart of ~60 lines is enough for two or three series of at most 120 points; a charting
 * library would add more weight than it saves.
 */
import { html } from "./html.ts";

export interface Series {
  label: string;
  color: string;
  values: number[];
}

const W = 600;
const H = 160;
const PAD = 24;

export function Chart({
  title,
  times,
  series,
}: {
  title: string;
  times: number[];
  series: Series[];
}) {
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const t0 = times[0] ?? 0;
  const t1 = times[times.length - 1] ?? 1;
  const x = (t: number) => PAD + ((t - t0) / Math.max(1, t1 - t0)) * (W - 2 * PAD);
  const y = (v: number) => H - PAD - (v / max) * (H - 2 * PAD);
  const path = (values: number[]) =>
    values
      .map((v, i) => `${i === 0 ? "M" : "L"}${x(times[i]).toFixed(1)},${y(v).toFixed(1)}`)
      .join(" ");
  const latest = series
    .map((s) => `${s.label} ${format(s.values[s.values.length - 1] ?? 0)}`)
    .join(", ");
  return html`<figure class="card chart" aria-label=${`${title}: ${latest}`}>
    <figcaption class="label">${title}</figcaption>
    <div class="legend"><span>top line ${format(max)}</span>${series.map(
      (s) =>
        html`<span><span class="swatch" style=${{ background: s.color }}></span>${s.label}: ${format(s.values[s.values.length - 1] ?? 0)}</span>`,
    )}</div>
    <svg viewBox=${`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-hidden="true">
      <line x1=${PAD} y1=${H - PAD} x2=${W - PAD} y2=${H - PAD} stroke="currentColor" stroke-opacity="0.25" />
      <line x1=${PAD} y1=${PAD} x2=${W - PAD} y2=${PAD} stroke="currentColor" stroke-opacity="0.1" />
      ${times.length > 1 ? series.map((s) => html`<path d=${path(s.values)} fill="none" stroke=${s.color} stroke-width="2" vector-effect="non-scaling-stroke" />`) : null}
    </svg>
    ${times.length < 2 ? html`<p class="muted">collecting samples…</p>` : null}
  </figure>`;
}

function format(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}
