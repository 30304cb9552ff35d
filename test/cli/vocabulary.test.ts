/**
 * One vocabulary, through the built binary: attempts numbered from 1, retry and Beat log
 * lines that say what happens next, a bad STEM_LOG_LEVEL refused, consistent help with
 * examples and short flags, and a worker that honours SIGINT from its first moment.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { eventually } from "../../src/testing/harness.ts";
import { BINARY, ensureBinary, spawnStem, startStem, stem, workspace } from "./binary.ts";

const TASKS = `import { defineTask, Flow } from "stem";

export const flaky = defineTask({
  name: "vocab.flaky",
  options: { maxRetries: 3, retryBackoff: { kind: "fixed", delay: "200ms" } },
  run: (ctx) => {
    if (ctx.attempt < 3) throw new Error(\`failure on attempt \${ctx.attempt}\`);
    return \`succeeded on attempt \${ctx.attempt}\`;
  },
});

export const hello = defineTask<{ name: string }, string>({
  name: "vocab.hello",
  run: (ctx, args) => \`hello \${args.name}\`,
});

export const onboarding = Flow({
  name: "vocab.onboarding",
  build(flow) {
    flow.step("welcome", () => "hi");
  },
});
`;

/** A module that tells the test it is loading, then takes its time. */
const SLOW_TASKS = `import { writeFileSync } from "node:fs";
import { defineTask } from "stem";
writeFileSync("loading", "");
await Bun.sleep(3000);
export const t = defineTask({ name: "vocab.slow-load", run: () => 1 });
`;

const BEAT_SCHEDULE = `schedules:
  - id: every-second
    task: vocab.hello
    schedule: "every:1s"
    args: { name: beat }
`;

describe("stem vocabulary", () => {
  let ws: ReturnType<typeof workspace>;
  let worker: ReturnType<typeof spawnStem>;
  let workerLog: () => string = () => "";

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace({ "tasks.ts": TASKS, "slow.ts": SLOW_TASKS, "beat.yaml": BEAT_SCHEDULE });
    ({ proc: worker, log: workerLog } = await startStem(ws.dir, [
      "worker",
      "-t",
      "./tasks.ts",
      "-c",
      "2",
      "-q",
      "default,side",
    ]));
  }, 60_000);

  afterAll(() => {
    worker?.kill("SIGKILL");
    ws?.cleanup();
  });

  test("attempts count from 1: ctx.attempt, logs, status and stem result agree", async () => {
    const r = await stem(ws.dir, ["enqueue", "vocab.flaky", "-w", "--json"]);
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout);
    expect(status).toMatchObject({
      state: "succeeded",
      attempt: 3,
      result: "succeeded on attempt 3",
    });
    const id = status.id as string;
    expect(workerLog()).toContain(`task vocab.flaky ${id} started (attempt 1)`);
    expect(workerLog()).toContain(`task vocab.flaky ${id} started (attempt 3)`);
    expect(workerLog()).toMatch(/succeeded in \d+ ms \(attempt 3\)/);
    // The retry line gives the delay before the next attempt, and when it is due.
    const retry = workerLog()
      .split("\n")
      .find((l) => l.includes(`vocab.flaky ${id} attempt 1 failed`));
    expect(retry).toMatch(
      /attempt 1 failed: failure on attempt 1; attempt 2 in 200ms \(at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\)/,
    );
    const table = (await stem(ws.dir, ["result", id])).stdout;
    expect(table).toMatch(/attempts\s*│\s*3\s/);
  });

  test("a task never run shows attempts 0, with its args and ISO 8601 times", async () => {
    const id = (
      await stem(ws.dir, ["enqueue", "vocab.hello", "--args", '{"name":"later"}', "--delay", "1h"])
    ).stdout.trim();
    const json = JSON.parse((await stem(ws.dir, ["result", id, "--json"])).stdout);
    expect(json).toMatchObject({ state: "queued", attempt: 0, args: { name: "later" } });
    const table = (await stem(ws.dir, ["result", id, "--wide"])).stdout;
    expect(table).toMatch(/attempts\s*│\s*0\s/);
    expect(table).toContain('{"name":"later"}');
    expect(table).toMatch(/created\s*│\s*\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/);
    expect(table).toMatch(/meta\.notBefore\s*│\s*\d{4}-\d\d-\d\dT/);
  });

  test("short flags -q and -n, and tasks list (alias ls) with the module's workflows", async () => {
    const id = (
      await stem(ws.dir, ["enqueue", "vocab.hello", "--args", '{"name":"q"}', "-q", "side"])
    ).stdout.trim();
    const done = await eventually(async () => {
      const s = JSON.parse((await stem(ws.dir, ["result", id, "--json"])).stdout);
      return s.state === "succeeded" ? s : undefined;
    }, 10_000);
    expect(done.queue).toBe("side");
    const listed = JSON.parse(
      (await stem(ws.dir, ["tasks", "ls", "-t", "./tasks.ts", "--json"])).stdout,
    );
    expect(listed.tasks.map((t: { name: string }) => t.name).sort()).toEqual([
      "vocab.flaky",
      "vocab.hello",
    ]);
    expect(listed.workflows).toEqual([{ name: "vocab.onboarding", kind: "flow" }]);
    const table = (await stem(ws.dir, ["tasks", "list", "--tasks", "./tasks.ts"])).stdout;
    expect(table).toContain("vocab.onboarding");
    expect((await stem(ws.dir, ["wf", "list", "-n", "1"])).code).toBe(0);
  });

  test("help: usage lines start with stem, aliases shown as aliases, every command ends with examples", async () => {
    const commandsOf = (help: string) => {
      const section = help.split("COMMANDS")[1]?.split("\n\nUse ")[0] ?? "";
      return section
        .split("\n")
        .map((l) => l.trim().split(/\s{2,}/)[0])
        .filter(Boolean)
        .map((names) => names.split(", ")[0]);
    };
    const top = (await stem(ws.dir, ["--help"])).stdout;
    const paths: string[][] = [];
    for (const group of commandsOf(top)) {
      paths.push([group]);
      const help = (await stem(ws.dir, [group, "--help"])).stdout;
      for (const sub of commandsOf(help)) paths.push([group, sub]);
    }
    expect(paths.length).toBeGreaterThan(30);
    for (const path of paths) {
      const help = (await stem(ws.dir, [...path, "--help"])).stdout;
      expect(help).toContain(`USAGE stem ${path.join(" ")}`);
      const examples = help.split("EXAMPLES\n\n")[1];
      expect(examples, `examples of stem ${path.join(" ")}`).toBeDefined();
      for (const line of examples.trim().split("\n")) expect(line.trim()).toStartWith("stem ");
    }
    const dlq = (await stem(ws.dir, ["dlq", "--help"])).stdout;
    expect(dlq).toContain("retry, replay");
    expect(dlq).not.toMatch(/^\s*replay\s/m);
    expect((await stem(ws.dir, ["dlq", "replay", "--help"])).stdout).toContain(
      "USAGE stem dlq retry",
    );
    expect((await stem(ws.dir, ["worker", "--help"])).stdout).toContain("-c, --concurrency");
    for (const path of [
      ["worker", "ping"],
      ["worker", "stats"],
      ["observe", "queues"],
    ]) {
      const help = (await stem(ws.dir, [...path, "--help"])).stdout;
      expect(help).not.toMatch(/inflight/);
    }
  }, 60_000);

  test("a bad STEM_LOG_LEVEL is a usage error naming the allowed levels", async () => {
    const r = await stem(ws.dir, ["observe", "queues"], { STEM_LOG_LEVEL: "verbose" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('STEM_LOG_LEVEL "verbose" is not a log level');
    expect(r.stderr).toContain("silent, error, warn, info, debug, trace");
    expect((await stem(ws.dir, ["observe", "queues"], { STEM_LOG_LEVEL: "WARN" })).code).toBe(0);
  });

  test("Beat logs each dispatch at info with the task id and drift", async () => {
    const beat = spawnStem(ws.dir, ["beat", "--schedules", "beat.yaml"]);
    let log = "";
    const decoder = new TextDecoder();
    (async () => {
      for await (const chunk of beat.stderr as ReadableStream<Uint8Array>)
        log += decoder.decode(chunk);
    })();
    try {
      const line = await eventually(
        () => log.split("\n").find((l) => l.includes("dispatched every-second")),
        15_000,
        "a dispatch log line",
      );
      expect(line).toMatch(/dispatched every-second → task sched-every-second-\d+, drift \d+ ms/);
    } finally {
      beat.kill("SIGINT");
      expect(await beat.exited).toBe(0);
    }
  }, 30_000);

  test("SIGINT right after the worker starts ends it promptly, even with SIGINT ignored by its parent", async () => {
    // `trap "" INT` starts stem with SIGINT ignored, as a shell does for a background job:
    // only a handler installed from the start makes the signal count.
    const proc = Bun.spawn(
      ["bash", "-c", `trap "" INT; exec "${BINARY}" worker --tasks ./slow.ts`],
      { cwd: ws.dir, stdout: "pipe", stderr: "pipe" },
    );
    await eventually(() => existsSync(join(ws.dir, "loading")), 10_000, "module loading");
    const sent = Date.now();
    proc.kill("SIGINT");
    const killer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    const code = await proc.exited;
    clearTimeout(killer);
    expect(code).toBe(130);
    expect(Date.now() - sent).toBeLessThan(2000);
  }, 30_000);
});
