import { defineCommand } from "citty";
import { withExamples } from "./output/help.ts";
import type { WorkflowRun, WorkflowStatus } from "../src/adapters/contracts.ts";
import { loadTaskModule } from "../src/app/task-module.ts";
import { formatDuration, parseDuration } from "../src/core/duration.ts";
import { StoreMissingError } from "../src/core/errors.ts";
import type { AnyWorkflowDefinition } from "../src/workflow/definition.ts";
import { WorkflowRuntime, type WorkflowRunDetail } from "../src/workflow/runtime.ts";
import {
  type StoreFlags,
  UsageError,
  fail,
  iso,
  jsonArg,
  overridesFrom,
  parseJsonFlag,
  printJson,
  printTable,
  storeArgs,
  withClient,
} from "./shared.ts";
import { requireDurable, type StoreAccess } from "./store-access.ts";

const STATUSES: WorkflowStatus[] = ["running", "suspended", "completed", "failed", "cancelled"];

/** Runs `fn` with a workflow runtime on the configured stores (a client: it executes nothing). */
function withRuntime<T>(
  args: StoreFlags,
  fn: (runtime: WorkflowRuntime) => Promise<T>,
  options: {
    workflows?: AnyWorkflowDefinition[];
    queue?: string;
    eventRetention?: number;
    access?: StoreAccess;
  } = {},
): Promise<T> {
  return withClient(
    args,
    async (client) => {
      const store = (await client.connection(client.config.workflowStoreUrl)).workflowStore();
      const runtime = new WorkflowRuntime({
        store,
        stem: client.stem,
        workflows: options.workflows,
        queue: options.queue ?? client.config.defaultQueue,
        eventRetention: options.eventRetention,
      });
      return fn(runtime);
    },
    options.access,
  );
}

/** Where a run waits: its topic, or its wake time. */
function waitingOn(run: WorkflowRun): string {
  if (run.status !== "suspended") return "";
  if (run.waitTopic)
    return `event ${run.waitTopic}${run.resumeAt ? ` (until ${iso(run.resumeAt)})` : ""}`;
  if (run.resumeAt) return `until ${iso(run.resumeAt)}`;
  return "resume";
}

function short(value: unknown, max = 60): string {
  const text = value === undefined ? "" : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function parsePayload(value: string | undefined): unknown {
  if (value === undefined) return null;
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new UsageError(`--payload is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Without --tasks, the name is checked against the workflows live workers serve (from
 * their heartbeats): a name none of them knows is refused, rather than queued to fail.
 * With no live worker serving workflows there is nothing to check against: the run waits.
 */
async function checkServed(args: StoreFlags, name: string): Promise<void> {
  const beats = await withClient(args, (client) => client.backend.listHeartbeats()).catch(
    (error) => {
      if (error instanceof StoreMissingError) return [];
      throw error;
    },
  );
  const served = new Set(
    beats.flatMap((b) => (Array.isArray(b.extras?.workflows) ? b.extras.workflows : [])),
  );
  if (served.has(name)) return;
  if (served.size > 0)
    throw new UsageError(
      `no live worker serves workflow "${name}" (they serve: ${[...served].sort().join(", ")}); check the name, or pass --tasks FILE`,
    );
  process.stderr.write(
    `no live worker serves workflows yet: the run waits for one that serves "${name}" (pass --tasks FILE to check the name now)\n`,
  );
}

const start = defineCommand({
  meta: {
    name: "start",
    description: "Start a workflow run (a worker serving the workflow executes it)",
  },
  args: {
    ...storeArgs,
    ...jsonArg,
    name: { type: "positional", description: "Workflow name", required: true },
    params: { type: "string", description: "Params as a JSON object" },
    tasks: {
      type: "string",
      alias: "t",
      description: "Module exporting the workflows: the name is checked against it",
    },
    queue: {
      type: "string",
      alias: "q",
      description: "Queue for the run's tasks (default: the default queue)",
    },
    "max-run-duration": {
      type: "string",
      description: "Cancel the run once it has existed this long (e.g. 15m)",
    },
    "max-suspend-duration": {
      type: "string",
      description: "Cancel the run once it has been suspended this long",
    },
  },
  run: async ({ args }) => {
    const params = parseJsonFlag(args.params, "params") ?? {};
    requireDurable(overridesFrom(args), ["broker", "workflow store"], "the run started here");
    const workflows = args.tasks ? (await loadTaskModule(args.tasks)).workflows : undefined;
    if (workflows && !workflows.some((w) => w.name === args.name)) {
      throw new UsageError(
        `${args.tasks} has no workflow "${args.name}" (it exports: ${workflows.map((w) => w.name).join(", ") || "none"})`,
      );
    }
    if (!workflows) await checkServed(args, args.name);
    const maxRun = args["max-run-duration"];
    const maxSuspend = args["max-suspend-duration"];
    if (maxRun) parseDuration(maxRun, "--max-run-duration");
    if (maxSuspend) parseDuration(maxSuspend, "--max-suspend-duration");
    await withRuntime(
      args,
      async (runtime) => {
        const runId = await runtime.startWorkflow(args.name, {
          params,
          queue: args.queue,
          cancellationPolicy:
            maxRun || maxSuspend
              ? { maxRunDuration: maxRun, maxSuspendDuration: maxSuspend }
              : undefined,
        });
        if (args.json)
          printJson({ runId, workflow: args.name, queue: args.queue ?? runtime.queue });
        else process.stdout.write(`${runId}\n`);
      },
      { workflows, queue: args.queue, access: "write" },
    );
  },
});

const list = defineCommand({
  meta: { name: "list", description: "List workflow runs, newest first" },
  args: {
    ...storeArgs,
    ...jsonArg,
    status: { type: "string", description: `Only runs in this status (${STATUSES.join(", ")})` },
    workflow: { type: "string", description: "Only runs of this workflow" },
    limit: { type: "string", alias: "n", default: "50", description: "At most this many runs" },
  },
  run: async ({ args }) => {
    if (args.status !== undefined && !STATUSES.includes(args.status as WorkflowStatus)) {
      throw new UsageError(`--status must be one of ${STATUSES.join(", ")}, got "${args.status}"`);
    }
    const limit = Number(args.limit);
    if (!Number.isInteger(limit) || limit < 1)
      throw new UsageError(`--limit must be a positive integer, got "${args.limit}"`);
    await withRuntime(args, async (runtime) => {
      const runs = await runtime.listRuns({
        status: args.status as WorkflowStatus | undefined,
        workflow: args.workflow,
        limit,
      });
      if (args.json) return printJson(runs);
      if (runs.length === 0) return void process.stderr.write("no workflow runs\n");
      printTable(
        [
          { name: "run", shorten: "middle" },
          "workflow",
          "status",
          { name: "step", optional: 2 },
          "waiting on",
          { name: "created", shorten: "never", optional: 1 },
          { name: "updated", shorten: "never", optional: 3 },
        ],
        runs.map((r) => [
          r.id,
          r.workflow,
          r.status,
          r.currentStep,
          waitingOn(r),
          iso(r.createdAt),
          iso(r.updatedAt),
        ]),
      );
    });
  },
});

function printDetail({ run, steps, watcher }: WorkflowRunDetail): void {
  const rows: [string, string][] = [
    ["run", run.id],
    ["workflow", run.workflow],
    ["status", run.status],
    [
      "params",
      JSON.stringify(
        Object.fromEntries(Object.entries(run.params).filter(([k]) => !k.startsWith("__stem."))),
      ),
    ],
  ];
  if (run.currentStep) rows.push(["step", run.currentStep]);
  const waiting = waitingOn(run);
  if (waiting) rows.push(["waiting on", waiting]);
  if (watcher) rows.push(["watcher", `step ${watcher.stepName} since ${iso(watcher.createdAt)}`]);
  if (run.status === "completed") rows.push(["result", JSON.stringify(run.result)]);
  if (run.lastError) rows.push(["last error", `${run.lastError.type}: ${run.lastError.error}`]);
  if (run.cancellationData) {
    const { reason, cancelledAt, ...details } = run.cancellationData;
    rows.push([
      "cancelled",
      `${reason} at ${iso(cancelledAt as number)}${Object.keys(details).length ? ` ${JSON.stringify(details)}` : ""}`,
    ]);
  }
  if (run.cancellationPolicy) {
    const limits = Object.entries(run.cancellationPolicy).map(
      ([k, ms]) => `${k} ${formatDuration(ms as number)}`,
    );
    rows.push(["policy", limits.join(", ")]);
  }
  if (run.ownerId) rows.push(["lease", `${run.ownerId} until ${iso(run.leaseExpiresAt)}`]);
  rows.push(["created", iso(run.createdAt)], ["updated", iso(run.updatedAt)]);
  printTable(["field", { name: "value", shorten: "wrap" }], rows);
  if (steps.length === 0) return void process.stdout.write("no completed steps\n");
  printTable(
    ["#", "step", "result", { name: "completed", shorten: "never", optional: 1 }],
    steps.map((s) => [s.position, s.name, short(s.value), iso(s.completedAt)]),
  );
}

const show = defineCommand({
  meta: {
    name: "show",
    description: "Show a run: status, steps with results, what it waits on, why it was cancelled",
  },
  args: {
    ...storeArgs,
    ...jsonArg,
    run: { type: "positional", description: "Run id", required: true },
  },
  run: ({ args }) =>
    withRuntime(args, async (runtime) => {
      const detail = await runtime.describe(args.run);
      if (args.json) printJson(detail);
      else printDetail(detail);
    }),
});

const emit = defineCommand({
  meta: {
    name: "emit",
    description:
      "Emit an event: every run waiting on the topic resumes once with the payload; if none waits, the event is kept (24h by default) for the next run to wait on the topic",
  },
  args: {
    ...storeArgs,
    ...jsonArg,
    topic: { type: "positional", description: "Event topic", required: true },
    payload: { type: "string", description: "Payload as JSON (default null)" },
    keep: {
      type: "string",
      default: "24h",
      description: "How long to keep the event if no run waits on the topic (0: do not keep)",
    },
  },
  run: async ({ args }) => {
    const payload = parsePayload(args.payload);
    const keepMs = parseDuration(args.keep, "--keep");
    await withRuntime(
      args,
      async (runtime) => {
        const resumed = await runtime.emit(args.topic, payload);
        const kept = resumed.length === 0 && keepMs > 0;
        if (args.json) return printJson({ topic: args.topic, resumed, kept });
        process.stdout.write(
          resumed.length
            ? `resumed ${resumed.length} run(s): ${resumed.join(", ")}\n`
            : kept
              ? `no run is waiting on ${args.topic}; the event is kept for ${formatDuration(keepMs)} for the next run to wait on it\n`
              : `no run is waiting on ${args.topic}\n`,
        );
      },
      { eventRetention: keepMs },
    );
  },
});

const prune = defineCommand({
  meta: {
    name: "prune",
    description:
      "Delete completed, failed and cancelled runs (with their checkpoints) not updated for a while",
  },
  args: {
    ...storeArgs,
    ...jsonArg,
    "older-than": {
      type: "string",
      required: true,
      description: "Delete finished runs last updated longer ago than this (e.g. 7d, 12h)",
    },
    "dry-run": {
      type: "boolean",
      default: false,
      description: "Only count the runs that would be deleted",
    },
  },
  run: async ({ args }) => {
    const olderThan = parseDuration(args["older-than"], "--older-than");
    const dryRun = Boolean(args["dry-run"]);
    await withRuntime(args, async (runtime) => {
      const count = await runtime.pruneRuns(olderThan, { dryRun });
      // count: runs deleted, or with --dry-run, runs that would be.
      if (args.json) return printJson({ count, dryRun, olderThanMs: olderThan });
      const age = formatDuration(olderThan);
      process.stdout.write(
        dryRun
          ? `would prune ${count} finished run(s) not updated for ${age}\n`
          : `pruned ${count} finished run(s) not updated for ${age}\n`,
      );
    });
  },
});

const cancel = defineCommand({
  meta: { name: "cancel", description: "Cancel a run; the reason is kept and shown by wf show" },
  args: {
    ...storeArgs,
    ...jsonArg,
    run: { type: "positional", description: "Run id", required: true },
    reason: {
      type: "string",
      default: "cancelled from the CLI",
      description: "Why (recorded with the run)",
    },
  },
  run: ({ args }) =>
    withRuntime(args, async (runtime) => {
      const cancelled = await runtime.cancel(args.run, args.reason);
      if (args.json) printJson({ runId: args.run, cancelled });
      else if (cancelled) process.stdout.write(`cancelled ${args.run}\n`);
      else process.stderr.write(`run ${args.run} had already finished\n`);
      if (!cancelled) fail();
    }),
});

const rewind = defineCommand({
  meta: { name: "rewind", description: "Rewind a run to a step and execute it again from there" },
  args: {
    ...storeArgs,
    ...jsonArg,
    run: { type: "positional", description: "Run id", required: true },
    step: { type: "positional", description: "Step name (without #iteration)", required: true },
  },
  run: ({ args }) =>
    withRuntime(args, async (runtime) => {
      await runtime.rewind(args.run, args.step);
      if (args.json) printJson({ runId: args.run, step: args.step, rewound: true });
      else process.stdout.write(`rewound ${args.run} to step ${args.step}\n`);
    }),
});

export const wfCommand = defineCommand({
  meta: {
    name: "wf",
    description: "Durable workflows: start, list, show, emit events, cancel, rewind and prune runs",
  },
  subCommands: { start, list, show, emit, cancel, rewind, prune },
});

withExamples(start, [
  `stem wf start orders.checkout --params '{"order":42}' -t ./tasks.ts`,
  "stem wf start reports.monthly --max-run-duration 1h",
]);
withExamples(list, ["stem wf list --status suspended", "stem wf list -n 10 --json"]);
withExamples(show, ["stem wf show 0199e5c3-1b2e-7f40-8a11-5c6d7e8f9a0b"]);
withExamples(emit, [
  `stem wf emit orders.approved --payload '{"by":"ana"}'`,
  "stem wf emit orders.approved --keep 0",
]);
withExamples(cancel, [
  "stem wf cancel 0199e5c3-1b2e-7f40-8a11-5c6d7e8f9a0b --reason 'customer left'",
]);
withExamples(rewind, ["stem wf rewind 0199e5c3-1b2e-7f40-8a11-5c6d7e8f9a0b approve"]);
withExamples(prune, [
  "stem wf prune --older-than 7d --dry-run",
  "stem wf prune --older-than 30d --json",
]);
withExamples(wfCommand, ["stem wf start orders.checkout", "stem wf list"]);
