/**
 * What the CLI knows about where its output goes: a terminal (colours, cursor codes, its
 * width) or a pipe or file (plain text, 80 columns unless COLUMNS says otherwise).
 */

type Stream = { isTTY?: boolean; columns?: number };

/** Colours and cursor codes only on a terminal, and never with NO_COLOR or TERM=dumb. */
export function useEscapes(stream: Stream = process.stdout): boolean {
  if (!stream.isTTY) return false;
  if (process.env.NO_COLOR) return false;
  return process.env.TERM !== "dumb";
}

// CSI sequences (colours, cursor moves, clears) and OSC sequences (titles, links).
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;

/** The text without ANSI escape sequences. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

let wide = false;

/** `--wide`: tables show every column in full, whatever the width. */
export function showWide(on = true): void {
  wide = on;
}

/**
 * Columns a table may use: unlimited with --wide; the terminal's width on a terminal;
 * otherwise COLUMNS when set, else 80.
 */
export function outputWidth(stream: Stream = process.stdout): number {
  if (wide) return Number.POSITIVE_INFINITY;
  if (stream.isTTY && stream.columns) return stream.columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env > 0 ? env : 80;
}

let sink: ((text: string) => void) | null = null;

/** Writes command output (stdout, or the frame being captured by `captureOutput`). */
export function out(text: string): void {
  if (sink) sink(text);
  else process.stdout.write(text);
}

/** A note for people that is not data (like "no dead letters"): stderr, or the captured frame. */
export function note(text: string): void {
  if (sink) sink(text);
  else process.stderr.write(text);
}

/** Runs `fn` and returns everything it wrote with `out` and `note`, instead of writing it. */
export async function captureOutput(fn: () => Promise<unknown> | unknown): Promise<string> {
  const parts: string[] = [];
  const previous = sink;
  sink = (text) => parts.push(text);
  try {
    await fn();
  } finally {
    sink = previous;
  }
  return parts.join("");
}
