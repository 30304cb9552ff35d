/**
 * `stem` on a terminal, through a pseudo-terminal (`script`): --watch redraws in place on
 * the alternate screen with the time of each refresh and ends at once on Ctrl-C; with
 * NO_COLOR it writes no escape codes at all.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eventually } from "../../src/testing/harness.ts";
import { BINARY, ensureBinary, stem, TASKS_TS, workspace } from "./binary.ts";

const ESC = "\x1b";

/** Runs `stem ARGS` on a pseudo-terminal; `keys` types into it. */
function onTerminal(dir: string, args: string[], env: Record<string, string> = {}) {
  // `exec`, so that Ctrl-C reaches stem alone: whichever shell `script` runs (bash, or dash
  // when SHELL is unset, as under CI) would otherwise die of the SIGINT itself, exiting 130.
  const command = `exec ${[BINARY, ...args].map((a) => `'${a}'`).join(" ")}`;
  const proc = Bun.spawn(["script", "-qfec", command, "/dev/null"], {
    cwd: dir,
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, TERM: "xterm-256color", STEM_LOG_LEVEL: "info", ...env },
  });
  let output = "";
  const decoder = new TextDecoder();
  (async () => {
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>)
      output += decoder.decode(chunk);
  })();
  return {
    proc,
    output: () => output,
    keys(text: string) {
      proc.stdin.write(text);
      proc.stdin.flush();
    },
  };
}

describe("stem on a terminal", () => {
  let ws: ReturnType<typeof workspace>;

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace({ "tasks.ts": TASKS_TS });
    // A store to observe.
    await stem(ws.dir, ["enqueue", "demo.hello", "--args", '{"name":"t"}']);
  }, 60_000);

  afterAll(() => ws?.cleanup());

  test("--watch redraws in place with the refresh time, and Ctrl-C ends it at once with 0", async () => {
    const term = onTerminal(ws.dir, ["observe", "queues", "--watch"]);
    await eventually(() => term.output().split("refreshed").length > 2, 10_000, "two refreshes");
    const sent = Date.now();
    term.keys("\x03");
    expect(await term.proc.exited).toBe(0);
    expect(Date.now() - sent).toBeLessThan(2000);
    const output = term.output();
    // The alternate screen, entered once and left at the end: the scrollback stays clean.
    expect(output.startsWith(`${ESC}[?1049h`)).toBe(true);
    expect(output.split(`${ESC}[?1049h`).length).toBe(2);
    expect(output).toContain(`${ESC}[?1049l`);
    // Each refresh goes back to the top and clears what is left of the last one.
    expect(output.split(`${ESC}[H`).length).toBeGreaterThan(2);
    expect(output).toContain(`${ESC}[J`);
    expect(output).not.toContain(`${ESC}[2J`);
    expect(output).toMatch(/refreshed \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/);
  }, 30_000);

  test("with NO_COLOR (any value), help, errors and --watch write no escape codes", async () => {
    const help = onTerminal(ws.dir, ["dlq", "--help"], { NO_COLOR: "yes" });
    expect(await help.proc.exited).toBe(0);
    expect(help.output()).toContain("USAGE stem dlq");
    expect(help.output()).not.toContain(ESC);

    const typo = onTerminal(ws.dir, ["wokrer"], { NO_COLOR: "yes" });
    expect(await typo.proc.exited).toBe(2);
    expect(typo.output()).toContain("wokrer");
    expect(typo.output()).not.toContain(ESC);

    const watch = onTerminal(ws.dir, ["observe", "queues", "--watch"], { NO_COLOR: "yes" });
    await eventually(() => watch.output().includes("refreshed"), 10_000, "a refresh");
    watch.keys("\x03");
    expect(await watch.proc.exited).toBe(0);
    expect(watch.output()).not.toContain(ESC);
  }, 30_000);
});
