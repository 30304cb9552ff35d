/**
 * Tables for people, fitted to the output width: the widest shortenable columns are
 * shortened first (with `…`), and when that is not enough, optional columns are left out
 * (a note says so). `--wide` shows everything.
 */
import Table from "cli-table3";
import { note, out, outputWidth } from "./terminal.ts";

export type Cell = string | number | undefined | null;

/** A column: a name, or a name with how it may be shortened. */
export type Column =
  | string
  | {
      name: string;
      /**
       * How a long value is shortened: `end` (default) keeps the start, `middle` keeps
       * both ends (ids, whose ends tell them apart), `wrap` breaks it over several lines
       * (the values of a one-record view), `never` keeps it whole (times, counts).
       */
      shorten?: "end" | "middle" | "wrap" | "never";
      /** Left out when the table does not fit; higher numbers are left out first. */
      optional?: number;
    };

/**
 * The narrowest a shortened column gets (or its header, if wider): optional columns are
 * left out before any column is shortened below COMFORTABLE_WIDTH, and no column is
 * shortened below MIN_WIDTH.
 */
const COMFORTABLE_WIDTH = 16;
const MIN_WIDTH = 10;

interface Fitted {
  columns: number[];
  widths: number[];
  hidden: string[];
}

const width = (text: string) => Bun.stringWidth(text);

function spec(column: Column) {
  return typeof column === "string" ? { name: column } : column;
}

/** Table borders and padding: one border per column plus one, and a space each side. */
function overhead(columns: number): number {
  return 3 * columns + 1;
}

/** Which columns to show and how wide each may be, to fit `limit` characters. */
export function fitColumns(columns: Column[], rows: string[][], limit: number): Fitted {
  const specs = columns.map(spec);
  const natural = specs.map((s, i) =>
    Math.max(width(s.name), ...rows.map((r) => width(r[i] ?? ""))),
  );
  const narrowest = (floor: number) =>
    specs.map((s, i) =>
      s.shorten === "never" ? natural[i] : Math.min(natural[i], Math.max(floor, width(s.name))),
    );
  const comfortable = narrowest(COMFORTABLE_WIDTH);
  const least = narrowest(MIN_WIDTH);
  let shown = specs.map((_, i) => i);
  const total = (widths: number[]) => shown.reduce((n, i) => n + widths[i], overhead(shown.length));
  // Leave out optional columns, highest first, until every column fits at a comfortable width.
  const optional = shown
    .filter((i) => specs[i].optional !== undefined)
    .sort((a, b) => (specs[b].optional ?? 0) - (specs[a].optional ?? 0) || b - a);
  const hidden: string[] = [];
  while (total(comfortable) > limit && optional.length > 0) {
    const drop = optional.shift()!;
    shown = shown.filter((i) => i !== drop);
    hidden.push(specs[drop].name);
  }
  // Narrow the widest column by one until the table fits (or nothing can shrink): first
  // the wrapped ones (they lose nothing) down to a comfortable width, then any.
  const widths = [...natural];
  const widestOf = (candidates: number[], floor: number[]) => {
    let widest = -1;
    for (const i of candidates)
      if (widths[i] > floor[i] && (widest < 0 || widths[i] > widths[widest])) widest = i;
    return widest;
  };
  const wrapped = shown.filter((i) => specs[i].shorten === "wrap");
  while (total(widths) > limit) {
    let widest = widestOf(wrapped, comfortable);
    if (widest < 0) widest = widestOf(shown, least);
    if (widest < 0) break;
    widths[widest]--;
  }
  return { columns: shown, widths, hidden };
}

/** `text` cut to `max` columns with `…`, keeping the start or both ends. */
export function shorten(text: string, max: number, how: "end" | "middle" = "end"): string {
  if (width(text) <= max) return text;
  if (max <= 1) return "…";
  const chars = [...text];
  if (how === "middle") {
    const tail = Math.floor((max - 1) / 2);
    return `${chars.slice(0, max - 1 - tail).join("")}…${chars.slice(chars.length - tail).join("")}`;
  }
  let kept = "";
  for (const c of chars) {
    if (width(kept + c) > max - 1) break;
    kept += c;
  }
  return `${kept}…`;
}

/** `text` broken into lines of at most `max` columns, at spaces where it can. */
export function wrap(text: string, columns: number): string {
  const max = Math.max(1, columns);
  const lines: string[] = [];
  let rest = text;
  while (width(rest) > max) {
    const cut = shorten(rest, max + 1).slice(0, -1);
    const space = cut.lastIndexOf(" ");
    const line = space > max / 2 ? cut.slice(0, space) : cut;
    lines.push(line);
    rest = rest.slice(line.length).replace(/^ /, "");
  }
  lines.push(rest);
  return lines.join("\n");
}

function fitCell(text: string, max: number, how: string | undefined): string {
  if (how === "never") return text;
  if (how === "wrap") return wrap(text, max);
  return shorten(text, max, how === "middle" ? "middle" : "end");
}

/** Prints rows as a table fitted to the output width. */
export function printTable(columns: Column[], rows: Cell[][]): void {
  const cells = rows.map((row) =>
    // One line per row: a newline in a value (an error's message) would break the layout.
    columns.map((_, i) =>
      (row[i] === undefined || row[i] === null ? "" : String(row[i])).replace(/\s*\n\s*/g, " "),
    ),
  );
  const fit = fitColumns(columns, cells, outputWidth());
  const specs = columns.map(spec);
  const table = new Table({
    head: fit.columns.map((i) => shorten(specs[i].name, fit.widths[i])),
    style: { head: [], border: [] },
  });
  for (const row of cells) {
    table.push(fit.columns.map((i) => fitCell(row[i], fit.widths[i], specs[i].shorten)));
  }
  out(`${table.toString()}\n`);
  if (fit.hidden.length > 0)
    note(`(${fit.hidden.join(", ")} not shown: too narrow; --wide shows every column)\n`);
}
