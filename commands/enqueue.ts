import { defineCommand } from "citty";
import { withExamples } from "./output/help.ts";
import { parseDuration } from "../src/core/duration.ts";
import {
  UsageError,
  fail,
  jsonArg,
  openClient,
  overridesFrom,
  parseJsonFlag,
  printJson,
  storeArgs,
  tasksFrom,
} from "./shared.ts";
import { printResult } from "./result.ts";
import { requireDurable } from "./store-access.ts";
import { waitRefused } from "../src/core/ignore-result.ts";
import { linkArgs, linksFrom } from "./link-flags.ts";

export const enqueueCommand = defineCommand({
  meta: {
    name: "enqueue",
    description: "Enqueue a task by name; prints its id (or its result with --wait)",
  },
  args: {
    ...storeArgs,
    ...jsonArg,
    name: { type: "positional", description: "Task name", required: true },
    args: {
      type: "string",
      description:
        "Arguments as a JSON object (the whole task at most STEM_MAX_ENVELOPE_BYTES, default 1 MiB)",
    },
    queue: {
      type: "string",
      alias: "q",
      description: "Queue (default: the task's, else the default queue)",
    },
    priority: { type: "string", description: "0-9, higher first" },
    delay: { type: "string", description: "Run no sooner than this from now (e.g. 30s)" },
    "max-retries": { type: "string", description: "Retries before dead-lettering" },
    "soft-time-limit": {
      type: "string",
      description: "Abort signal after this long (e.g. 30s; overrides the task's)",
    },
    "hard-time-limit": {
      type: "string",
      description: "Fail the attempt after this long (overrides the task's)",
    },
    "max-deliveries": {
      type: "string",
      description: "Deliveries before dead-lettering without running (overrides the task's)",
    },
    "unique-key": {
      type: "string",
      description: "Deduplicate by this key while the first task is pending (needs no --tasks)",
    },
    "unique-for": {
      type: "string",
      description: "Deduplicate (by --unique-key, else name+queue+args) for this long (e.g. 10m)",
    },
    tasks: {
      type: "string",
      alias: "t",
      description: "Tasks module: refuse unknown names and apply task options",
    },
    "ignore-result": {
      type: "boolean",
      description: "Keep no status or result for this task (cannot be combined with --wait)",
    },
    ...linkArgs,
    wait: { type: "boolean", alias: "w", description: "Wait for the result" },
    timeout: { type: "string", default: "30s", description: "With --wait: how long to wait" },
  },
  run: async ({ args, rawArgs }) => {
    const taskArgs = parseJsonFlag(args.args, "args") ?? {};
    const links = linksFrom(rawArgs);
    const priority = args.priority === undefined ? undefined : Number(args.priority);
    if (priority !== undefined && (!Number.isInteger(priority) || priority < 0 || priority > 9)) {
      throw new UsageError(`--priority must be an integer from 0 to 9, got "${args.priority}"`);
    }
    const maxRetries = args["max-retries"] === undefined ? undefined : Number(args["max-retries"]);
    if (maxRetries !== undefined && (!Number.isInteger(maxRetries) || maxRetries < 0)) {
      throw new UsageError(
        `--max-retries must be a non-negative integer, got "${args["max-retries"]}"`,
      );
    }
    const maxDeliveries =
      args["max-deliveries"] === undefined ? undefined : Number(args["max-deliveries"]);
    if (maxDeliveries !== undefined && (!Number.isInteger(maxDeliveries) || maxDeliveries < 1)) {
      throw new UsageError(
        `--max-deliveries must be a positive integer, got "${args["max-deliveries"]}"`,
      );
    }
    const limit = (flag: "soft-time-limit" | "hard-time-limit") =>
      args[flag] === undefined ? undefined : parseDuration(args[flag], `--${flag}`);
    const softTimeLimit = limit("soft-time-limit");
    const hardTimeLimit = limit("hard-time-limit");
    const uniqueKey = args["unique-key"];
    const uniqueFor = args["unique-for"];
    const unique =
      uniqueKey === undefined && uniqueFor === undefined
        ? undefined
        : {
            key: uniqueKey,
            ttl: uniqueFor === undefined ? undefined : parseDuration(uniqueFor, "--unique-for"),
          };
    const delay = args.delay === undefined ? undefined : parseDuration(args.delay, "--delay");
    const timeoutMs = parseDuration(args.timeout, "--timeout");
    if (args.wait && args["ignore-result"]) {
      throw new UsageError(
        "--wait cannot wait for a task enqueued with --ignore-result (it keeps no result)",
      );
    }
    requireDurable(overridesFrom(args), ["broker", "backend"], "the task enqueued here");
    if (args.tasks === undefined && unique === undefined) {
      // Without the tasks module the task's own options are unknown here: say so rather
      // than silently enqueueing a task declared unique without deduplicating it.
      process.stderr.write(
        "stem: note: without --tasks the task's own queue and uniqueness are not known here: it goes to --queue (else the default queue) and is not deduplicated; pass --tasks, or --unique-key/--unique-for\n",
      );
    }
    const client = await openClient(args, await tasksFrom(args.tasks), "write");
    try {
      const options = {
        queue: args.queue,
        priority,
        delay,
        maxRetries,
        ignoreResult: args["ignore-result"] || undefined,
        softTimeLimit,
        hardTimeLimit,
        maxDeliveries,
        unique,
        ...links,
      };
      // Refused before enqueuing: the task would run with nobody able to see its outcome.
      if (args.wait && client.stem.ignoresResult(args.name, options)) {
        throw waitRefused(`task "${args.name}" (task option)`);
      }
      const id = await client.enqueue(args.name, taskArgs, options);
      if (!args.wait) {
        if (args.json) printJson({ id });
        else process.stdout.write(`${id}\n`);
        return;
      }
      const result = await client.waitForTask(id, { timeout: timeoutMs });
      printResult(result.status, Boolean(args.json));
      if (result.state !== "succeeded") fail();
    } finally {
      await client.close();
    }
  },
});

withExamples(enqueueCommand, [
  `stem enqueue email.send --args '{"to":"a@b.c"}'`,
  "stem enqueue reports.build -q reports --delay 10m -w --timeout 15m",
  `stem enqueue invoice.charge --args '{"id":7}' --link invoice.receipt --link-error 'ops.page={"team":"billing"}'`,
]);
