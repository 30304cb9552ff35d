import { defineCommand } from "citty";
import { withExamples } from "./output/help.ts";
import { parseDuration } from "../src/core/duration.ts";
import { logger } from "../src/core/logger.ts";
import { loadTaskModule } from "../src/app/task-module.ts";
import { serveWorkflows } from "../src/workflow/serve.ts";
import { persistPause } from "../src/worker/revocations.ts";
import { revokeEntries } from "../src/worker/revoke-entries.ts";
import { sendControl } from "../src/worker/control-client.ts";
import { startupSignals } from "./startup-signals.ts";
import { isLost } from "../src/worker/liveness.ts";
import type { ControlCommand, ControlReply } from "../src/worker/control-protocol.ts";
import {
  type StoreFlags,
  UsageError,
  repeatedFlag,
  fail,
  iso,
  jsonArg,
  note,
  openClient,
  printJson,
  printTable,
  storeArgs,
  withClient,
} from "./shared.ts";
import { keepServingOnUnhandledRejection } from "./rejections.ts";

const controlArgs = {
  ...storeArgs,
  ...jsonArg,
  worker: { type: "string", description: "Only this worker id (comma-separated for several)" },
  timeout: {
    type: "string",
    default: "2s",
    description:
      "Longest wait for replies (done as soon as every worker alive by its heartbeat replied)",
  },
} as const;

type ControlArgs = StoreFlags & { worker?: string; timeout: string; json?: boolean };

async function control(
  args: ControlArgs,
  type: ControlCommand,
  payload: Record<string, unknown> = {},
  show: (replies: ControlReply[]) => void = (replies) =>
    printTable(
      [{ name: "worker", shorten: "middle" }, "status", "reply"],
      replies.map((r) => [r.workerId, r.status, r.error ?? JSON.stringify(r.payload)]),
    ),
  noReply = "no worker replied",
): Promise<ControlReply[]> {
  const timeoutMs = parseDuration(args.timeout, "--timeout");
  return withClient(args, async (client) => {
    // Every worker alive by its heartbeat is expected to answer: done once they all have.
    const now = Date.now();
    const expected = (await client.backend.listHeartbeats())
      .filter((hb) => !isLost(hb, now))
      .map((hb) => hb.workerId);
    const replies = await sendControl(client.controlBus, type, {
      workers: args.worker?.split(",").filter(Boolean),
      expected,
      payload,
      timeoutMs,
    });
    if (args.json) printJson(replies);
    else if (replies.length === 0) {
      if (noReply) process.stderr.write(`${noReply}\n`);
    } else show(replies);
    if (replies.length === 0 || replies.some((r) => r.status !== "ok")) fail();
    return replies;
  });
}

const ping = defineCommand({
  meta: { name: "ping", description: "Ping live workers" },
  args: controlArgs,
  run: ({ args }) =>
    control(args, "ping", {}, (replies) =>
      printTable(
        [{ name: "worker", shorten: "middle" }, "queues", "in flight"],
        replies.map((r) => [r.workerId, String(r.payload.queues), r.payload.inflight as number]),
      ),
    ),
});

const stats = defineCommand({
  meta: { name: "stats", description: "Counters and settings of live workers" },
  args: controlArgs,
  run: ({ args }) =>
    control(args, "stats", {}, (replies) =>
      printTable(
        [
          { name: "worker", shorten: "middle" },
          { name: "host", optional: 2 },
          { name: "pid", optional: 3 },
          "queues",
          "paused",
          { name: "concurrency", optional: 1 },
          "in flight",
          "processed",
          "failed",
          { name: "started", shorten: "never", optional: 4 },
        ],
        replies.map((r) => {
          const p = r.payload as Record<string, unknown>;
          return [
            r.workerId,
            p.host as string,
            p.pid as number,
            String(p.queues),
            String(p.pausedQueues),
            p.concurrency as number,
            p.inflight as number,
            p.processed as number,
            p.failed as number,
            iso(p.startedAt as number),
          ];
        }),
      ),
    ),
});

const inspect = defineCommand({
  meta: { name: "inspect", description: "Tasks running on live workers, with their runtime" },
  args: controlArgs,
  run: ({ args }) =>
    control(args, "inspect", {}, (replies) => {
      const rows = replies.flatMap((r) =>
        (
          r.payload.active as {
            id: string;
            name: string;
            queue: string;
            attempt: number;
            runtimeMs: number;
          }[]
        ).map((t) => [r.workerId, t.id, t.name, t.queue, t.attempt, `${t.runtimeMs} ms`]),
      );
      if (rows.length === 0)
        return note(`no task running on ${replies.length} worker(s) that replied\n`);
      printTable(
        [
          { name: "worker", shorten: "middle" },
          { name: "task id", shorten: "middle" },
          "name",
          { name: "queue", optional: 1 },
          "attempt",
          "runtime",
        ],
        rows,
      );
    }),
});

const revoke = defineCommand({
  meta: {
    name: "revoke",
    description: "Revoke tasks: skipped when delivered; --terminate stops them if running",
  },
  args: {
    ...controlArgs,
    id: {
      type: "positional",
      description: "Task id (comma-separated for several)",
      required: true,
    },
    terminate: {
      type: "boolean",
      description:
        "Stop the task if it is running (kills a thread-isolated handler; an inline one is only signalled)",
    },
    reason: { type: "string", description: "Recorded with the revocation" },
    "expires-in": {
      type: "string",
      description: "Forget the revocation after this long (e.g. 1h; default 7d)",
    },
  },
  run: async ({ args }) => {
    const now = Date.now();
    const ids = String(args.id).split(",").filter(Boolean);
    const expiresIn = args["expires-in"]
      ? parseDuration(args["expires-in"], "--expires-in")
      : undefined;
    const entries = revokeEntries(
      ids,
      {
        terminate: Boolean(args.terminate),
        reason: args.reason ?? "revoked from the CLI",
        requestedBy: "stem-cli",
        expiresAt: expiresIn ? now + expiresIn : undefined,
      },
      now,
    );
    // Persisted first: workers that are down or miss the message still skip the task.
    await withClient(args, (client) => client.revokeStore.upsertAll(entries), "write");
    const replies = await control(args, "revoke", { revocations: entries }, (rs) =>
      printTable(
        ["worker", "terminated"],
        rs.map((r) => [r.workerId, String(r.payload.terminated ?? "")]),
      ),
    );
    // The revocation is stored even when no worker is listening right now.
    if (replies.length === 0) process.exitCode = 0;
    if (!args.json) process.stderr.write(`revoked ${ids.join(", ")}\n`);
  },
});

/** "paused queue default for workers that start later; 0 live workers replied". */
function pauseSummary(verb: "pause" | "resume", queues: string[], replies: ControlReply[]): string {
  const what = `${verb}d queue${queues.length > 1 ? "s" : ""} ${queues.join(", ")}`;
  const live = `${replies.length} live worker${replies.length === 1 ? "" : "s"} replied`;
  return replies.length === 0
    ? `${what} for workers that start later; ${live}`
    : `${what}; ${live}`;
}

function queueArgs(description: string) {
  return {
    ...controlArgs,
    queue: { type: "string", alias: "q", description, required: true },
  } as const;
}

const pause = defineCommand({
  meta: { name: "pause", description: "Stop fetching from a queue until resumed" },
  args: queueArgs("Queue to pause (comma-separated for several)"),
  run: async ({ args }) => {
    const queues = args.queue.split(",").filter(Boolean);
    await withClient(
      args,
      (client) => persistPause(client.revokeStore, queues, true, Date.now(), "stem-cli"),
      "write",
    );
    const replies = await control(args, "pause", { queues }, undefined, "");
    // The pause is stored either way: workers that start later honour it.
    process.exitCode = 0;
    if (!args.json) process.stderr.write(`${pauseSummary("pause", queues, replies)}\n`);
  },
});

const resume = defineCommand({
  meta: { name: "resume", description: "Resume fetching from a paused queue" },
  args: queueArgs("Queue to resume (comma-separated for several)"),
  run: async ({ args }) => {
    const queues = args.queue.split(",").filter(Boolean);
    await withClient(
      args,
      (client) => persistPause(client.revokeStore, queues, false, Date.now(), "stem-cli"),
      "write",
    );
    const replies = await control(args, "resume", { queues }, undefined, "");
    // The resume is stored either way: workers that start later honour it.
    process.exitCode = 0;
    if (!args.json) process.stderr.write(`${pauseSummary("resume", queues, replies)}\n`);
  },
});

const shutdown = defineCommand({
  meta: {
    name: "shutdown",
    description: "Stop workers: warm waits for running tasks, hard returns them",
  },
  args: {
    ...controlArgs,
    mode: { type: "enum", options: ["warm", "hard"], default: "warm", description: "warm or hard" },
  },
  run: ({ args }) => control(args, "shutdown", { mode: args.mode }),
});

const subCommands = { ping, stats, inspect, revoke, pause, resume, shutdown };

export const workerCommand = defineCommand({
  meta: {
    name: "worker",
    description:
      "Run a worker (stem worker --tasks FILE), or control live ones (ping, stats, inspect, revoke, pause, resume, shutdown)",
  },
  args: {
    ...storeArgs,
    tasks: {
      type: "string",
      alias: "t",
      description: "Module exporting the tasks to run (required to run a worker)",
    },
    queue: {
      type: "string",
      alias: "q",
      description: "Queue to consume (comma-separated or repeated; default: the default queue)",
    },
    concurrency: { type: "string", alias: "c", description: "Tasks run at once (default 10)" },
    prefetch: {
      type: "string",
      description: "Tasks held at once, running or waiting (default: concurrency)",
    },
    isolation: {
      type: "enum",
      options: ["inline", "thread"],
      default: "inline",
      description:
        "Run handlers inline or in threads. Only thread isolation can kill a handler (hard time limit, revoke --terminate); an inline one is only signalled and keeps its slot until it returns",
    },
    "global-concurrency": {
      type: "string",
      description:
        "At most N tasks of a queue running at once across every worker on the store: QUEUE=N (comma-separated or repeated; give every worker of the queue the same limit)",
    },
    "max-deliveries": {
      type: "string",
      description:
        "Deliveries allowed for tasks without their own maxDeliveries; past it a task is dead-lettered unrun (default 3 x (maxRetries + 1))",
    },
    "dead-letter-retention": {
      type: "string",
      description:
        "Delete dead letters older than this (e.g. 7d; 0 keeps them; overrides STEM_DEAD_LETTER_RETENTION; default 30d)",
    },
    hostname: { type: "string", description: "Host name reported in heartbeats" },
    "worker-id": { type: "string", description: "Worker id (default HOST.PID)" },
  },
  subCommands,
  run: async ({ args, rawArgs }) => {
    // citty runs this after a subcommand too; a control command has already done its work.
    if (rawArgs.some((a) => a in subCommands)) return;
    if (!args.tasks)
      throw new UsageError("stem worker needs --tasks FILE (a module exporting your tasks)");
    const retention = args["dead-letter-retention"];
    if (retention !== undefined) parseDuration(retention, "--dead-letter-retention");
    keepServingOnUnhandledRejection("worker");
    const module = await loadTaskModule(args.tasks);
    const integer = (value: string | undefined, flag: string) => {
      if (value === undefined) return undefined;
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1)
        throw new UsageError(`--${flag} must be a positive integer, got "${value}"`);
      return n;
    };
    const queues = repeatedFlag(rawArgs, "queue", "q");
    const queueGlobalConcurrency = queueLimits(repeatedFlag(rawArgs, "global-concurrency"));
    const client = await openClient(args, module.tasks, "write");
    const worker = client.createWorker({
      queues: queues.length ? queues : undefined,
      concurrency: integer(args.concurrency, "concurrency"),
      prefetch: integer(args.prefetch, "prefetch"),
      maxDeliveries: integer(args["max-deliveries"], "max-deliveries"),
      queueGlobalConcurrency,
      deadLetterRetention: retention,
      isolation: args.isolation as "inline" | "thread",
      tasksModule: module.path,
      hostname: args.hostname,
      workerId: args["worker-id"],
      installSignalHandlers: true,
    });
    const workflows = module.workflows.length
      ? await serveWorkflows(client, worker, module.workflows, { isolation: args.isolation })
      : undefined;
    logger.info(`tasks: ${module.tasks.map((t) => t.name).join(", ")}`);
    // Until now a signal ends the process at once (startup-signals.ts); from here on it
    // stops the worker cleanly, also when it comes while the worker starts.
    startupSignals.defer();
    await worker.start();
    const early = startupSignals.release();
    if (early) {
      logger.info(`${early} received while starting: stopping`);
      void worker.shutdown("warm");
    }
    await worker.done;
    await workflows?.stop();
    await client.close();
    // A forced stop (second signal) returned running tasks unfinished: 128 + the signal.
    if (worker.forcedBy) process.exitCode = worker.forcedBy === "SIGINT" ? 130 : 143;
  },
});

/** `--global-concurrency emails=3,reports=1` as `{ emails: 3, reports: 1 }`. */
function queueLimits(values: string[]): Record<string, number> | undefined {
  if (values.length === 0) return undefined;
  const limits: Record<string, number> = {};
  for (const value of values) {
    const match = /^(.+)=(\d+)$/.exec(value);
    const limit = Number(match?.[2]);
    if (!match || !Number.isInteger(limit) || limit < 1)
      throw new UsageError(
        `--global-concurrency takes QUEUE=N with N a positive integer, got "${value}"`,
      );
    limits[match[1]] = limit;
  }
  return limits;
}

withExamples(ping, [
  "stem worker ping",
  "stem worker ping --worker web-1.4242 --timeout 5s --json",
]);
withExamples(stats, ["stem worker stats", "stem worker stats --json"]);
withExamples(inspect, ["stem worker inspect"]);
withExamples(revoke, [
  "stem worker revoke 0199e5c2-7d1a-7c3e-9b4f-2a1d6e8f0c35",
  "stem worker revoke 0199e5c2-7d1a-7c3e-9b4f-2a1d6e8f0c35 --terminate --reason 'stuck'",
]);
withExamples(pause, ["stem worker pause -q emails"]);
withExamples(resume, ["stem worker resume -q emails"]);
withExamples(shutdown, [
  "stem worker shutdown",
  "stem worker shutdown --worker web-1.4242 --mode hard",
]);
withExamples(workerCommand, [
  "stem worker -t ./tasks.ts -q default,emails -c 4",
  "stem worker -t ./tasks.ts -q emails --global-concurrency emails=3",
  "stem worker ping",
]);
