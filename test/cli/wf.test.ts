/**
 * `stem wf` driven through the built binary, with `stem worker --tasks` serving the
 * workflows of a user's module, all on the embedded default store of a temporary folder.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { eventually } from "../../src/testing/harness.ts";
import { ensureBinary, spawnStem, startStem, stem, workspace } from "./binary.ts";

const FLOWS_TS = `import { appendFileSync } from "node:fs";
import { defineTask, WorkflowScript, Flow } from "stem";

const ran = (step: string, runId: string) => appendFileSync("runs.log", \`\${runId} \${step}\\n\`);

export const approval = WorkflowScript({
  name: "cli.approval",
  run: async (script) => {
    const order = await script.step("prepare", (step) => {
      ran("prepare", step.runId);
      return step.params.order;
    });
    const decision = await script.step("approve", async (step) => {
      ran("approve", step.runId);
      return (await step.awaitEvent("cli.approved")) ?? null;
    });
    return script.step("finish", (step) => {
      ran("finish", step.runId);
      return { order, decision };
    });
  },
});

export const napper = Flow({
  name: "cli.nap",
  build(flow) {
    flow.step("nap", async (step) => {
      if (step.takeResumeData() === undefined) {
        await step.sleep("1h");
        return null;
      }
      return "woke";
    });
  },
});

export const ping = defineTask({ name: "cli.ping", run: () => "pong" });
`;

type Json = Record<string, any>;

describe("stem wf", () => {
  let ws: ReturnType<typeof workspace>;
  let worker: ReturnType<typeof spawnStem>;
  let workerLog: () => string = () => "";

  const json = async (args: string[]): Promise<Json> => {
    const r = await stem(ws.dir, [...args, "--json"]);
    if (r.code !== 0) throw new Error(`stem ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  const runsOf = (runId: string, step: string) => {
    const log = join(ws.dir, "runs.log");
    if (!existsSync(log)) return 0;
    return readFileSync(log, "utf8")
      .split("\n")
      .filter((l) => l === `${runId} ${step}`).length;
  };
  const reach = (runId: string, status: string) =>
    eventually(
      async () => {
        const detail = await json(["wf", "show", runId]);
        return detail.run.status === status ? detail : undefined;
      },
      20_000,
      `run ${runId} ${status}`,
    );

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace({ "flows.ts": FLOWS_TS });
    ({ proc: worker, log: workerLog } = await startStem(ws.dir, [
      "worker",
      "--tasks",
      "./flows.ts",
      "--concurrency",
      "4",
    ]));
  }, 90_000);

  afterAll(() => {
    worker?.kill("SIGKILL");
    ws?.cleanup();
  });

  test("--help documents every wf command", async () => {
    const r = await stem(ws.dir, ["wf", "--help"]);
    expect(r.code).toBe(0);
    for (const name of ["start", "list", "show", "emit", "cancel", "rewind"])
      expect(r.stdout).toContain(name);
    expect((await stem(ws.dir, ["wf", "emit", "--help"])).stdout).toContain("--payload");
  });

  test("the worker serves the module's workflows next to its tasks", () => {
    expect(workerLog()).toContain("workflows: cli.approval, cli.nap");
  });

  test("start, wait for an event, emit it from the CLI: the run resumes exactly once and completes", async () => {
    const started = await json([
      "wf",
      "start",
      "cli.approval",
      "--params",
      '{"order":"A-1"}',
      "--tasks",
      "./flows.ts",
    ]);
    const runId = started.runId as string;
    expect(started.workflow).toBe("cli.approval");

    const waiting = await reach(runId, "suspended");
    expect(waiting.run.waitTopic).toBe("cli.approved");
    expect(waiting.watcher.stepName).toBe("approve");
    const listed = await json(["wf", "list", "--status", "suspended"]);
    expect(listed.map((r: Json) => r.id)).toContain(runId);
    const table = await stem(ws.dir, ["wf", "show", runId]);
    expect(table.stdout).toContain("event cli.approved");
    expect(table.stdout).toContain("prepare");

    const emitted = await json(["wf", "emit", "cli.approved", "--payload", '{"approved":true}']);
    expect(emitted.resumed).toEqual([runId]);
    expect(
      (await json(["wf", "emit", "cli.approved", "--payload", '{"approved":false}'])).resumed,
    ).toEqual([]);

    const done = await reach(runId, "completed");
    expect(done.run.result).toEqual({ order: "A-1", decision: { approved: true } });
    expect(done.steps.map((s: Json) => [s.name, s.value])).toEqual([
      ["prepare", "A-1"],
      ["approve", { approved: true }],
      ["finish", { order: "A-1", decision: { approved: true } }],
    ]);
    expect([runsOf(runId, "prepare"), runsOf(runId, "approve"), runsOf(runId, "finish")]).toEqual([
      1, 2, 1,
    ]);

    // Rewinding re-executes the last step only.
    const rewound = await json(["wf", "rewind", runId, "finish"]);
    expect(rewound.rewound).toBe(true);
    await eventually(() => runsOf(runId, "finish") === 2, 20_000, "finish re-executed");
    await reach(runId, "completed");
    expect(runsOf(runId, "prepare")).toBe(1);
  }, 60_000);

  test("cancel records the reason, shown by wf show; cancelling again fails", async () => {
    const runId = (await stem(ws.dir, ["wf", "start", "cli.nap"])).stdout.trim();
    await reach(runId, "suspended");
    const cancel = await stem(ws.dir, ["wf", "cancel", runId, "--reason", "no longer needed"]);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toContain(`cancelled ${runId}`);
    const shown = await stem(ws.dir, ["wf", "show", runId]);
    expect(shown.stdout).toContain("cancelled");
    expect(shown.stdout).toContain("no longer needed");
    expect((await json(["wf", "show", runId])).run.cancellationData.reason).toBe(
      "no longer needed",
    );
    const again = await stem(ws.dir, ["wf", "cancel", runId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already finished");
    expect((await json(["wf", "list", "--status", "cancelled"])).map((r: Json) => r.id)).toContain(
      runId,
    );
  }, 60_000);

  test("mistakes are one-line errors with usage exit codes", async () => {
    const unknown = await stem(ws.dir, ["wf", "start", "cli.nope", "--tasks", "./flows.ts"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      'has no workflow "cli.nope" (it exports: cli.approval, cli.nap)',
    );
    // Without --tasks, the name is checked against what the live worker serves.
    const unserved = await stem(ws.dir, ["wf", "start", "cli.nope"]);
    expect(unserved.code).toBe(2);
    expect(unserved.stderr.trim()).toBe(
      'stem: no live worker serves workflow "cli.nope" (they serve: cli.approval, cli.nap); check the name, or pass --tasks FILE',
    );
    const badParams = await stem(ws.dir, ["wf", "start", "cli.nap", "--params", "[1]"]);
    expect(badParams.code).toBe(2);
    const badStatus = await stem(ws.dir, ["wf", "list", "--status", "sleeping"]);
    expect(badStatus.code).toBe(2);
    expect(badStatus.stderr).toContain("--status must be one of");
    const badPayload = await stem(ws.dir, ["wf", "emit", "t", "--payload", "{nope"]);
    expect(badPayload.code).toBe(2);
    expect(badPayload.stderr).toContain("--payload is not valid JSON");
    const missing = await stem(ws.dir, ["wf", "show", "no-such-run"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("workflow run no-such-run not found");
    expect(missing.stderr).not.toContain("    at ");
    const badRewind = await stem(ws.dir, ["wf", "rewind", "no-such-run", "x"]);
    expect(badRewind.code).toBe(1);
  });
});
