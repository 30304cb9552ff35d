import { defineCommand } from "citty";
import { logger } from "../src/core/logger.ts";
import { parseDuration } from "../src/core/duration.ts";
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
    ["task id", "name", "queue", "reason", "attempts", "dead at", "error"],
    entries.map((e) => [
      e.envelope.id,
      e.envelope.name,
      e.queue,
      e.reason,
      e.envelope.attempt + 1,
      iso(e.deadAt),
      (e.meta.error as string) ?? "",
    ]),
  );
}

const list = defineCommand({
  meta: { name: "list", description: "List dead letters, newest first" },
  args: {
    ...storeArgs,
    ...jsonArg,
    queue: { type: "string", description: "Only this queue" },
    limit: { type: "string", default: "50", description: "At most this many" },
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
        ["field", "value"],
        [
          ["task id", entry.envelope.id],
          ["name", entry.envelope.name],
          ["queue", entry.queue],
          ["reason", entry.reason],
          ["dead at", iso(entry.deadAt)],
          ["attempts", entry.envelope.attempt + 1],
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
    description: "Replay dead letters: one by id, or --all (optionally of one --queue)",
  },
  args: {
    ...storeArgs,
    ...jsonArg,
    id: { type: "positional", description: "Task id (or use --all)", required: false },
    all: { type: "boolean", description: "Replay every dead letter (of --queue, if given)" },
    queue: { type: "string", description: "With --all: only this queue" },
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
      for (;;) {
        const { entries } = await client.broker.replayDeadLetters({
          queue: args.queue,
          limit: REPLAY_BATCH,
          delayMs,
        });
        replayed.push(...entries.map((e) => e.envelope.id));
        if (total > REPLAY_BATCH && !args.json) logger.info(`replayed ${replayed.length}/${total}`);
        if (entries.length < REPLAY_BATCH) break;
      }
      if (args.json) printJson({ dryRun: false, replayed });
      else process.stdout.write(`replayed ${replayed.length} dead letter(s)\n`);
    });
  },
});

const purge = defineCommand({
  meta: {
    name: "purge",
    description: "Delete dead letters (of --queue, or all); asks first unless --yes",
  },
  args: {
    ...storeArgs,
    ...jsonArg,
    queue: { type: "string", description: "Only this queue" },
    yes: {
      type: "boolean",
      description: "Do not ask (required when not on a terminal; the question defaults to No)",
    },
  },
  run: async ({ args }) => {
    if (!args.yes && !process.stdin.isTTY)
      throw new UsageError("refusing to purge without --yes when not on a terminal");
    await withClient(args, async (client) => {
      const queues = args.queue ? [args.queue] : undefined;
      const total = (await client.broker.stats(queues)).reduce((n, s) => n + s.dead, 0);
      const what = `${total} dead letter(s)${args.queue ? ` of queue ${args.queue}` : ""}`;
      const question = `Delete ${what}? This cannot be undone.`;
      if (total > 0 && !(await confirmDeletion(question, args.yes))) return;
      const removed = await client.broker.purgeDeadLetters({ queue: args.queue });
      if (args.json) printJson({ removed });
      else process.stdout.write(`deleted ${removed} dead letter(s)\n`);
    });
  },
});

export const dlqCommand = defineCommand({
  meta: { name: "dlq", description: "Inspect and replay the dead-letter queue" },
  subCommands: { list, show, retry, replay: retry, purge },
});
