/**
 * Benchmark child processes: a child prints status lines ("ready", per-task "done") and
 * ends with one JSON line, its result. The driver awaits status lines while the child runs.
 */

/** A running benchmark process. */
export interface Child {
  /** Resolves with the next status line the child printed (lines are never lost). */
  nextLine(): Promise<string>;
  /** Waits for the next status line and checks it is `expected`. */
  expect(expected: string): Promise<void>;
  /** Writes to the child's stdin (only when started with `stdin: true`). */
  write(text: string): void;
  /** The child's final JSON line, once it has exited with code 0. */
  readonly result: Promise<Record<string, unknown>>;
}

/** Spawns `cmd` with a quiet Stem log level. */
export function startChild(cmd: string[], options: { stdin?: boolean } = {}): Child {
  const proc = Bun.spawn(cmd, {
    stdout: "pipe",
    stderr: "inherit",
    stdin: options.stdin ? "pipe" : "ignore",
    env: { ...process.env, STEM_LOG_LEVEL: "error" },
  });
  const lines: string[] = [];
  let waiting: ((line: string | null) => void) | null = null;
  let ended = false;
  const deliver = (line: string | null) => {
    const w = waiting;
    waiting = null;
    if (w) w(line);
    else if (line !== null) lines.push(line);
  };

  const result = (async () => {
    const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffered = "";
    let last = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith("{")) last = line;
        else deliver(line);
      }
    }
    ended = true;
    deliver(null);
    const code = await proc.exited;
    if (code !== 0 || !last) {
      throw new Error(`benchmark process "${cmd.join(" ")}" failed (exit code ${code})`);
    }
    return JSON.parse(last) as Record<string, unknown>;
  })();
  // A failure surfaces through `result` or a pending nextLine(); never unhandled.
  result.catch(() => {});

  const nextLine = async (): Promise<string> => {
    if (lines.length > 0) return lines.shift()!;
    if (ended) {
      await result;
      throw new Error(`benchmark process "${cmd.join(" ")}" ended early`);
    }
    const line = await new Promise<string | null>((r) => (waiting = r));
    if (line === null) {
      await result;
      throw new Error(`benchmark process "${cmd.join(" ")}" ended early`);
    }
    return line;
  };

  return {
    nextLine,
    async expect(expected) {
      const line = await nextLine();
      if (line !== expected) {
        throw new Error(`benchmark process printed "${line}", expected "${expected}"`);
      }
    },
    write(text) {
      const sink = proc.stdin as import("bun").FileSink;
      sink.write(text);
      sink.flush();
    },
    result,
  };
}
