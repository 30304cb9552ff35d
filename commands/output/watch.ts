/**
 * `--watch`: shows a view again and again until Ctrl-C. On a terminal each refresh
 * redraws the screen in place (on the alternate screen, so the scrollback stays clean)
 * under a line with the time of the refresh; piped, each refresh is printed after the
 * last one, as plain text or, with --json, as one JSON document per line.
 */
import { startupSignals } from "../startup-signals.ts";
import { captureOutput, out, useEscapes } from "./terminal.ts";

export interface WatchOptions {
  /** One compact JSON document per refresh instead of the printed view. */
  json: boolean;
  intervalMs?: number;
}

const ALT_SCREEN_ON = "\x1b[?1049h\x1b[?25l";
const ALT_SCREEN_OFF = "\x1b[?25h\x1b[?1049l";
const HOME = "\x1b[H";
const CLEAR_LINE_END = "\x1b[K";
const CLEAR_BELOW = "\x1b[J";

/**
 * Loads and prints a view every `intervalMs` until SIGINT or SIGTERM, which end it at
 * once (even during a load), with exit code 0.
 */
export async function watch<T>(
  load: () => Promise<T>,
  print: (view: T) => void,
  options: WatchOptions,
): Promise<void> {
  const intervalMs = options.intervalMs ?? 2000;
  const redraw = !options.json && useEscapes(process.stdout);
  let stop!: () => void;
  const stopped = new Promise<"stop">((resolve) => {
    stop = () => resolve("stop");
  });
  startupSignals.release();
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  if (redraw) out(ALT_SCREEN_ON);
  try {
    for (;;) {
      const loading = load();
      // A load still running when Ctrl-C ends the watch is dropped, whatever its outcome.
      loading.catch(() => {});
      const view = await Promise.race([loading, stopped]);
      if (view === "stop") return;
      const at = new Date().toISOString();
      if (options.json) out(`${JSON.stringify(view)}\n`);
      else {
        const text = await captureOutput(() => print(view as T));
        const header = `every ${intervalMs / 1000}s · refreshed ${at} · Ctrl-C to stop\n\n`;
        if (redraw)
          out(
            `${HOME}${fitScreen(header + text).replaceAll("\n", `${CLEAR_LINE_END}\n`)}${CLEAR_BELOW}`,
          );
        else out(`${header}${text}\n`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waited = await Promise.race([
        new Promise<"tick">((resolve) => {
          timer = setTimeout(() => resolve("tick"), intervalMs);
        }),
        stopped,
      ]);
      clearTimeout(timer);
      if (waited === "stop") return;
    }
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    if (redraw) out(ALT_SCREEN_OFF);
  }
}

/** A frame cut to the terminal's height, so drawing it never scrolls the screen. */
function fitScreen(frame: string): string {
  const rows = process.stdout.rows;
  const lines = frame.replace(/\n$/, "").split("\n");
  if (!rows || lines.length < rows) return `${lines.join("\n")}\n`;
  const shown = lines.slice(0, rows - 2);
  return `${shown.join("\n")}\n… ${lines.length - shown.length} more lines (a taller window, or --json)\n`;
}
