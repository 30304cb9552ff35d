/**
 * Drives the built `stem` binary as a user would: from a temporary folder that has a
 * tasks.ts and no node_modules.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { eventually } from "../../src/testing/harness.ts";

const ROOT = resolve(import.meta.dir, "../..");
export const BINARY = join(ROOT, "dist/stem");

let built: Promise<void> | null = null;

/** What the binary is built from: a change to any of these makes dist/stem stale. */
const SOURCES = ["src", "commands", "build.ts", "package.json", "package-lock.json"];

function newestSourceChange(): number {
  let newest = 0;
  for (const source of SOURCES) {
    const path = join(ROOT, source);
    const stat = statSync(path);
    newest = Math.max(newest, stat.mtimeMs);
    if (!stat.isDirectory()) continue;
    for (const entry of readdirSync(path, { recursive: true, encoding: "utf8" }))
      newest = Math.max(newest, statSync(join(path, entry)).mtimeMs);
  }
  return newest;
}

/**
 * Builds dist/stem unless it is newer than every source, at most once per test process.
 * Test files run in several processes at once (`bun test --parallel`), and each would
 * otherwise build the same binary again.
 */
export function ensureBinary(): Promise<void> {
  built ??= (async () => {
    if (existsSync(BINARY) && statSync(BINARY).mtimeMs > newestSourceChange()) return;
    const proc = Bun.spawn([process.execPath, join(ROOT, "build.ts")], {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
    });
    if ((await proc.exited) !== 0)
      throw new Error(`build failed: ${await new Response(proc.stderr).text()}`);
  })();
  return built;
}

/** A temporary working folder, removed by `cleanup`. */
export function workspace(files: Record<string, string> = {}): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "stem-cli-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `stem ARGS` in `dir` and waits for it. */
export function stem(
  dir: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<RunResult> {
  return runIn(dir, [BINARY, ...args], env, timeoutMs);
}

/** Runs `command` (a stem binary and its arguments) in `dir` as stem() does. */
export async function runIn(
  dir: string,
  command: string[],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<RunResult> {
  const proc = Bun.spawn(command, {
    cwd: dir,
    env: { ...cleanEnv(), ...env },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Starts a long-running `stem` (a worker) in `dir`; `binary` is the command running stem. */
export function spawnStem(
  dir: string,
  args: string[],
  env: Record<string, string> = {},
  binary: string[] = [BINARY],
) {
  return Bun.spawn([...binary, ...args], {
    cwd: dir,
    env: { ...cleanEnv(), ...env },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
}

/** Collects a stream as text while it flows; the getter returns everything so far. */
export function collectText(stream: ReadableStream<Uint8Array>): () => string {
  let text = "";
  const decoder = new TextDecoder();
  void (async () => {
    for await (const chunk of stream) text += decoder.decode(chunk, { stream: true });
  })();
  return () => text;
}

/**
 * Starts a long-running `stem` command (a worker, Beat) and waits until its log says it is
 * ready; `log()` returns what it has written to stderr so far.
 */
export async function startStem(
  dir: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 20_000,
  binary: string[] = [BINARY],
): Promise<{ proc: ReturnType<typeof spawnStem>; log: () => string }> {
  const proc = spawnStem(dir, args, env, binary);
  const log = collectText(proc.stderr as ReadableStream<Uint8Array>);
  await eventually(() => log().includes("ready"), timeoutMs, `stem ${args[0]} ready`);
  return { proc, log };
}

/** The environment without any STEM_* settings of the machine running the tests. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith("STEM_") && v !== undefined) env[k] = v;
  env.STEM_LOG_LEVEL = "info";
  return env;
}

export const TASKS_TS = `import { defineTask } from "stem";

export const hello = defineTask<{ name: string }, string>({
  name: "demo.hello",
  run: (ctx, args) => \`hello \${args.name}\`,
});

export const fails = defineTask({
  name: "demo.fail",
  run: () => {
    throw new Error("always fails");
  },
});

export const slow = defineTask({
  name: "demo.slow",
  run: async () => {
    await Bun.sleep(1500);
    return "slow done";
  },
});
`;
