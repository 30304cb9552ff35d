import { defineCommand } from "citty";
import { withExamples } from "./output/help.ts";
import { logger } from "../src/core/logger.ts";
import { formatDuration, parseDuration } from "../src/core/duration.ts";
import { attemptNumber } from "../src/core/envelope.ts";
import { StemError } from "../src/core/errors.ts";
import type { DeadLetter } from "../src/adapters/contracts.ts";
import {
  UsageError,
  iso,
  jsonArg,
  printJson,
  printTable,
  storeArgs,
  withClient,
} from "./shared.ts";
import { confirmDeletion } from "./confirm.ts";

function sinceFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t))
    throw new UsageError(`--since must be an ISO time like 2025-01-01T00:00:00Z, got "${value}"`);
  return t;
}

function count(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`--${flag} must be a non-negative integer, got "${value}"`);
  return n;
}

function printEntries(entries: DeadLetter[]): void {
  printTable(
    [
      { name: "task id", shorten: "middle" },
      "name",
      { name: "queue", optional: 2 },
      // The reason is what an operator filters on: never cut it.
      { name: "reason", shorten: "never" },
      { name: "attempts", optional: 3 },
      { name: "dead at", shorten: "never", optional: 1 },
      "error",
    ],
    entries.map((e) => [
      e.envelope.id,
      e.envelope.name,
      e.queue,
      e.reason,
      attemptNumber(e.envelope),
      iso(e.deadAt),
      (e.meta.error as string) ?? "",
    ]),
  );
}

/** How many times the broker delivered the task, as the worker recorded it when dead-lettering. */
function deliveries(entry: DeadLetter): string {
  const n = entry.meta.deliveries;
  return typeof n === "number" ? String(n) : "unknown";
}

const list = defineCommand({
  meta: { name: "list", description: "List dead letters, newest first" },
  args: {
    ...storeArgs,
    ...jsonArg,
    queue: { type: "string", alias: "q", description: "Only this queue" },
    limit: { type: "string", alias: "n", default: "50", description: "At most this many" },
    offset: { type: "string", default: "0", description: "Skip this many" },
    since: { type: "string", description: "Only entries dead-lettered at or after this ISO time" },
  },
  run: ({ args }) =>
    withClient(args, async (client) => {
      const entries = await client.broker.listDeadLetters({
        queue: args.queue,
        limit: count(args.limit, "limit", 50),
        offset: count(args.offset, "offset", 0),
        since: sinceFlag(args.since),
      });
      if (args.json) printJson(entries);
      else if (entries.length === 0) process.stderr.write("no dead letters\n");
      else printEntries(entries);
    }),
});

const show = defineCommand({
  meta: { name: "show", description: "Show one dead letter with its envelope" },
  args: {
    ...storeArgs,
    ...jsonArg,
    id: { type: "positional", description: "Task id", required: true },
  },
  run: ({ args }) =>
    withClient(args, async (client) => {
      const entry = await client.broker.getDeadLetter(args.id);
      if (!entry) throw new StemError("not_found", `no dead letter with task id ${args.id}`);
      if (args.json) return printJson(entry);
      printTable(
        ["field", { name: "value", shorten: "wrap" }],
        [
          ["task id", entry.envelope.id],
          ["name", entry.envelope.name],
          ["queue", entry.queue],
          ["reason", entry.reason],
          ["dead at", iso(entry.deadAt)],
          ["attempts", attemptNumber(entry.envelope)],
          ["deliveries", deliveries(entry)],
          ["args", JSON.stringify(entry.envelope.args)],
          ["headers", JSON.stringify(entry.envelope.headers)],
          ["meta", JSON.stringify(entry.envelope.meta)],
          ["details", JSON.stringify(entry.meta)],
        ],
      );
    }),
});

/** Replays in batches so progress can be shown and a huge queue never loads at once. */
const REPLAY_BATCH = 100;

const retry = defineCommand({
  meta: {
    name: "retry",
    alias: "replay",
    description: "Replay dead letters: one by id, or --all (optionally of one --queue)",
  },
  args: {
    ...storeArgs,
    ...jsonArg,
    id: { type: "positional", description: "Task id (or use --all)", required: false },
    all: { type: "boolean", description: "Replay every dead letter (of --queue, if given)" },
    queue: { type: "string", alias: "q", description: "With --all: only this queue" },
    delay: { type: "string", description: "Make replayed tasks visible after this long (e.g. 5s)" },
    "dry-run": { type: "boolean", description: "Show what would be replayed; change nothing" },
  },
  run: async ({ args }) => {
    if (!args.id && !args.all)
      throw new UsageError("give a task id, or --all to replay every dead letter");
    if (args.id && args.all) throw new UsageError("give either a task id or --all, not both");
    const delayMs = args.delay === undefined ? undefined : parseDuration(args.delay, "--delay");
    await withClient(args, async (client) => {
      const dryRun = Boolean(args["dry-run"]);
      if (args.id) {
        if (!(await client.broker.getDeadLetter(args.id)))
          throw new StemError("not_found", `no dead letter with task id ${args.id}`);
        const result = await client.broker.replayDeadLetters({ ids: [args.id], delayMs, dryRun });
        if (result.skipped.length > 0) {
          throw new StemError(
            "conflict",
            `not replayed: a task with id ${args.id} is queued or running again; the dead letter is kept`,
          );
        }
        if (args.json) printJson(result);
        else process.stdout.write(`${dryRun ? "would replay" : "replayed"} ${args.id}\n`);
        return;
      }
      const total = (await client.broker.stats(args.queue ? [args.queue] : undefined)).reduce(
        (n, s) => n + s.dead,
        0,
      );
      if (dryRun) {
        const entries = await client.broker.listDeadLetters({ queue: args.queue, limit: total });
        if (args.json) printJson({ dryRun: true, entries });
        else {
          printEntries(entries);
          process.stdout.write(`would replay ${entries.length} dead letter(s)\n`);
        }
        return;
      }
      const replayed: string[] = [];
      const skipped: string[] = [];
      for (;;) {
        // Skipped entries stay dead letters, oldest first: page past them.
        const batch = await client.broker.replayDeadLetters({
          queue: args.queue,
          limit: REPLAY_BATCH,
          offset: skipped.length,
          delayMs,
        });
        replayed.push(...batch.entries.map((e) => e.envelope.id));
        skipped.push(...batch.skipped.map((e) => e.envelope.id));
        if (total > REPLAY_BATCH && !args.json) logger.info(`replayed ${replayed.length}/${total}`);
        if (batch.entries.length + batch.skipped.length < REPLAY_BATCH) break;
      }
      if (args.json) printJson({ dryRun: false, replayed, skipped });
      else {
        process.stdout.write(`replayed ${replayed.length} dead letter(s)\n`);
        if (skipped.length > 0)
          process.stdout.write(
            `skipped ${skipped.length} whose task id is queued or running again (kept): ${skipped.join(", ")}\n`,
          );
      }
    });
  },
});

/** Purges in batches so progress can be shown and no store is held busy for long. */
const PURGE_BATCH = 1000;

const purge = defineCommand({
  meta: {
    name: "purge",
    description:
      "Delete dead letters (of --queue, older than --older-than, or all); asks first unless --yes",
  },
  args: {
    ...storeArgs,
    ...jsonArg,
    queue: { type: "string", alias: "q", description: "Only this queue" },
    "older-than": {
      type: "string",
      description: "Only dead letters dead-lettered longer ago than this (e.g. 7d, 12h)",
    },
    "dry-run": { type: "boolean", description: "Only count what would be deleted" },
    yes: {
      type: "boolean",
      alias: "y",
      description: "Do not ask (required when not on a terminal; the question defaults to No)",
    },
  },
  run: async ({ args }) => {
    const olderThan =
      args["older-than"] === undefined
        ? undefined
        : parseDuration(args["older-than"], "--older-than");
    const dryRun = Boolean(args["dry-run"]);
    if (!dryRun && !args.yes && !process.stdin.isTTY)
      throw new UsageError("refusing to purge without --yes when not on a terminal");
    await withClient(args, async (client) => {
      const query = {
        queue: args.queue,
        before: olderThan === undefined ? undefined : Date.now() - olderThan,
      };
      const total = await client.broker.purgeDeadLetters({ ...query, dryRun: true });
      const what = `${total} dead letter(s)${args.queue ? ` of queue ${args.queue}` : ""}${
        olderThan === undefined ? "" : ` older than ${formatDuration(olderThan)}`
      }`;
      if (dryRun) {
        if (args.json) printJson({ dryRun, count: total });
        else process.stdout.write(`would delete ${what}\n`);
        return;
      }
      const question = `Delete ${what}? This cannot be undone.`;
      if (total > 0 && !(await confirmDeletion(question, args.yes))) return;
      let removed = 0;
      for (;;) {
        const batch = await client.broker.purgeDeadLetters({ ...query, limit: PURGE_BATCH });
        removed += batch;
        if (total > PURGE_BATCH && !args.json) logger.info(`deleted ${removed}/${total}`);
        if (batch < PURGE_BATCH) break;
      }
      if (args.json) printJson({ dryRun, count: removed, removed });
      else process.stdout.write(`deleted ${removed} dead letter(s)\n`);
    });
  },
});

export const dlqCommand = defineCommand({
  meta: { name: "dlq", description: "Inspect and replay the dead-letter queue" },
  subCommands: { list, show, retry, purge },
});

withExamples(list, [
  "stem dlq list -q emails -n 20",
  "stem dlq list --since 2025-01-01T00:00:00Z --json",
]);
withExamples(show, ["stem dlq show 0199e5c2-7d1a-7c3e-9b4f-2a1d6e8f0c35"]);
withExamples(retry, [
  "stem dlq retry 0199e5c2-7d1a-7c3e-9b4f-2a1d6e8f0c35",
  "stem dlq retry --all -q emails --dry-run",
]);
withExamples(purge, [
  "stem dlq purge -q emails",
  "stem dlq purge --older-than 7d --dry-run",
  "stem dlq purge --older-than 7d -y",
]);
withExamples(dlqCommand, ["stem dlq list", "stem dlq retry --all"]);
