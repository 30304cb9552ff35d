/**
 * `stem schedule apply|list|show|enable|disable|remove|dry-run|explain`: schedule entries in the
 * schedule store — STEM_SCHEDULE_STORE_URL (or --schedule-store), else the default
 * connection's store (the embedded SQLite file when nothing is configured). Readers take
 * `--schedules FILE|DIR` to show the entries those files define (the file store Beat runs
 * with `stem beat --schedules`), with their run state from the store.
 */
import { defineCommand } from "citty";
import { openMemory } from "../src/adapters/memory/index.ts";
import { redactUrl } from "../src/adapters/url.ts";
import { formatDuration, parseDuration } from "../src/core/duration.ts";
import { StemError, StoreMissingError } from "../src/core/errors.ts";
import type { ScheduleEntry } from "../src/core/schedule.ts";
import { type ApplyItem, applySchedules, setScheduleEnabled } from "../src/scheduler/apply.ts";
import { describeSpec } from "../src/scheduler/describe.ts";
import { loadScheduleFiles } from "../src/scheduler/load-schedule-files.ts";
import { nextRuns, type SchedulableEntry } from "../src/scheduler/next-run.ts";
import { parseSpec } from "../src/scheduler/spec-validation.ts";
import { toWallTime } from "../src/scheduler/time-zones.ts";
import { isIanaTimeZone } from "../src/scheduler/value-checks.ts";
import { acceptsMorePositionals } from "./args-check.ts";
import { confirmDeletion } from "./confirm.ts";
import { withExamples } from "./output/help.ts";
import { explainCommand } from "./schedule-explain.ts";
import {
  schedulePaths,
  scheduleStoreUrl,
  schedulesArg,
  withScheduleStore,
} from "./schedule-store.ts";
import {
  iso,
  jsonArg,
  overridesFrom,
  printJson,
  printTable,
  storeArgs,
  UsageError,
} from "./shared.ts";
import { requireDurable } from "./store-access.ts";

/** Every positional argument (citty keeps the extra ones in `_`). */
function positionals(args: { _?: unknown }): string[] {
  return Array.isArray(args._) ? args._.map(String) : [];
}

function duration(ms: number | undefined): string {
  return ms === undefined ? "" : `${ms} ms`;
}

function notFound(id: string): StemError {
  return new StemError("not_found", `no schedule entry "${id}"`);
}

function listRow(e: ScheduleEntry): (string | number)[] {
  return [
    e.id,
    e.taskName,
    e.queue ?? "",
    describeSpec(e.spec, e.timezone),
    e.enabled ? iso(e.nextRunAt) || "(no more runs)" : "",
    iso(e.lastRunAt),
    e.totalRunCount,
    e.enabled ? "yes" : "no",
  ];
}

const apply = defineCommand({
  meta: {
    name: "apply",
    description:
      "Validate schedule files (YAML or JSON) and store their entries, keeping each entry's run state; nothing is applied if any entry is bad",
  },
  args: {
    ...storeArgs,
    ...jsonArg,
    file: { type: "positional", description: "Schedule files or directories", required: true },
    "dry-run": {
      type: "boolean",
      description: "Show what would be created, updated or left unchanged",
    },
    yes: {
      type: "boolean",
      description: "Accepted for scripts written for other Stem versions; apply never asks",
    },
  },
  run: async ({ args }) => {
    const files = positionals(args);
    // Every entry of every file is checked before anything is written.
    const entries = await loadScheduleFiles(files);
    const dryRun = Boolean(args["dry-run"]);
    if (!dryRun)
      requireDurable(overridesFrom(args), ["schedule store"], "the entries applied here");
    const items = await withScheduleStore(
      args,
      [],
      (store) => applySchedules(store, entries, { dryRun }),
      dryRun ? "read" : "write",
    ).catch(async (error) => {
      // A dry run against a store not created yet: every entry would be created.
      if (!(dryRun && error instanceof StoreMissingError)) throw error;
      const empty = openMemory();
      try {
        return await applySchedules(empty.scheduleStore(), entries, { dryRun });
      } finally {
        await empty.close();
      }
    });
    if (args.json) return printJson({ dryRun, items: items.map(itemJson) });
    printTable(
      ["id", dryRun ? "would" : "action", "changed", { name: "next run", shorten: "never" }],
      items.map((i) => [i.id, i.action, i.changed.join(", "), iso(i.entry.nextRunAt)]),
    );
    const count = (action: string) => items.filter((i) => i.action === action).length;
    process.stdout.write(
      dryRun
        ? `dry run: ${count("create")} to create, ${count("update")} to update, ${count("unchanged")} unchanged; nothing written\n`
        : `created ${count("create")}, updated ${count("update")}, unchanged ${count("unchanged")} in ${redactUrl(scheduleStoreUrl(args))}\n`,
    );
  },
});

// Takes several files: `stem schedule apply a.yaml b.yaml`.
acceptsMorePositionals(apply);

function itemJson(item: ApplyItem) {
  return { id: item.id, action: item.action, changed: item.changed, entry: item.entry };
}

const list = defineCommand({
  meta: {
    name: "list",
    description: "List schedule entries: schedule, next and last run, runs, enabled",
  },
  args: { ...storeArgs, ...jsonArg, ...schedulesArg },
  run: ({ args, rawArgs }) =>
    withScheduleStore(args, schedulePaths(rawArgs), async (store) => {
      const entries = await store.list();
      if (args.json)
        return printJson(
          entries.map((e) => ({ ...e, description: describeSpec(e.spec, e.timezone) })),
        );
      if (entries.length === 0) {
        process.stderr.write("no schedule entries\n");
        return;
      }
      printTable(
        [
          "id",
          "task",
          { name: "queue", optional: 2 },
          "schedule",
          { name: "next run", shorten: "never" },
          { name: "last run", shorten: "never", optional: 3 },
          { name: "runs", optional: 1 },
          "enabled",
        ],
        entries.map(listRow),
      );
    }),
});

const show = defineCommand({
  meta: { name: "show", description: "Show one schedule entry with its recent runs" },
  args: {
    ...storeArgs,
    ...jsonArg,
    ...schedulesArg,
    id: { type: "positional", description: "Entry id", required: true },
    history: { type: "string", default: "10", description: "How many recent runs to show" },
  },
  run: ({ args, rawArgs }) =>
    withScheduleStore(args, schedulePaths(rawArgs), async (store) => {
      const limit = Number(args.history);
      if (!Number.isInteger(limit) || limit < 0) {
        throw new UsageError(`--history must be a non-negative integer, got "${args.history}"`);
      }
      const entry = await store.get(args.id);
      if (!entry) throw notFound(args.id);
      const history = limit === 0 ? [] : await store.history(args.id, limit);
      if (args.json)
        return printJson({
          entry: { ...entry, description: describeSpec(entry.spec, entry.timezone) },
          history,
        });
      printTable(
        ["field", { name: "value", shorten: "wrap" }],
        [
          ["id", entry.id],
          ["task", entry.taskName],
          ["queue", entry.queue ?? "(routing default)"],
          ["schedule", describeSpec(entry.spec, entry.timezone)],
          ["spec", JSON.stringify(entry.spec)],
          ["enabled", entry.enabled ? "yes" : "no"],
          ["next run", iso(entry.nextRunAt) || "(none)"],
          ["last run", iso(entry.lastRunAt)],
          ["runs", entry.totalRunCount],
          ["drift", duration(entry.drift)],
          ["jitter", entry.jitter === undefined ? "" : formatDuration(parseDuration(entry.jitter))],
          ["expires", iso(entry.expireAt)],
          ["last error", entry.lastError ?? ""],
          ["args", JSON.stringify(entry.args)],
          ["kwargs", JSON.stringify(entry.kwargs)],
          ["meta", JSON.stringify(entry.meta)],
          ["version", entry.version],
        ],
      );
      if (history.length > 0) {
        process.stdout.write("recent runs:\n");
        printTable(
          [
            { name: "due", shorten: "never" },
            { name: "executed", shorten: "never", optional: 2 },
            "drift",
            { name: "jitter", optional: 1 },
            "result",
          ],
          history.map((r) => [
            iso(r.scheduledFor),
            iso(r.executedAt),
            duration(r.driftMs),
            duration(r.jitterMs),
            r.success ? "ok" : `failed: ${r.error ?? ""}`,
          ]),
        );
      }
    }),
});

function toggle(enabled: boolean) {
  const command = defineCommand({
    meta: {
      name: enabled ? "enable" : "disable",
      description: enabled
        ? "Enable an entry (runs missed while disabled are not fired)"
        : "Disable an entry; running Beats stop firing it",
    },
    args: {
      ...storeArgs,
      ...jsonArg,
      id: { type: "positional", description: "Entry id", required: true },
    },
    run: ({ args }) =>
      withScheduleStore(args, [], async (store) => {
        const entry = await setScheduleEnabled(store, args.id, enabled);
        if (!entry) throw notFound(args.id);
        if (args.json) return printJson(entry);
        const next = enabled && entry.nextRunAt ? `; next run ${iso(entry.nextRunAt)}` : "";
        process.stdout.write(`${enabled ? "enabled" : "disabled"} ${args.id}${next}\n`);
      }),
  });
  return withExamples(command, [`stem schedule ${enabled ? "enable" : "disable"} midnight-report`]);
}

const remove = defineCommand({
  meta: {
    name: "remove",
    description: "Delete an entry and its run history; asks first on a terminal unless --yes",
  },
  args: {
    ...storeArgs,
    ...jsonArg,
    id: { type: "positional", description: "Entry id", required: true },
    yes: {
      type: "boolean",
      description: "Do not ask (required when not on a terminal; the question defaults to No)",
    },
  },
  run: ({ args }) =>
    withScheduleStore(args, [], async (store) => {
      if (!args.yes && !process.stdin.isTTY)
        throw new UsageError("refusing to remove without --yes when not on a terminal");
      const entry = await store.get(args.id);
      if (!entry) throw notFound(args.id);
      const question = `Delete 1 schedule entry, ${args.id} (${describeSpec(entry.spec, entry.timezone)}, run ${entry.totalRunCount} time(s)), and its run history?`;
      if (!(await confirmDeletion(question, args.yes))) return;
      if (!(await store.remove(args.id))) throw notFound(args.id);
      if (args.json) return printJson({ removed: args.id });
      process.stdout.write(`removed ${args.id}\n`);
    }),
});

function localTime(zone: string, t: number): string {
  return `${new Date(toWallTime(zone, t)).toISOString().slice(0, 19).replace("T", " ")} ${zone}`;
}

const dryRun = defineCommand({
  meta: {
    name: "dry-run",
    description:
      "Preview the next due times of a spec (--spec) or a stored entry (ID), honouring time zones",
  },
  args: {
    ...storeArgs,
    ...jsonArg,
    ...schedulesArg,
    id: { type: "positional", description: "Entry id (or use --spec)", required: false },
    spec: {
      type: "string",
      description: `A spec as JSON ('{"kind":"cron","expression":"0 9 * * MON-FRI"}') or a string ("every:5m", "30 2 * * *")`,
    },
    count: { type: "string", default: "5", description: "How many due times" },
    from: { type: "string", description: "Start from this ISO time (default now)" },
    timezone: { type: "string", description: "IANA time zone (default: the entry's, else UTC)" },
  },
  run: async ({ args, rawArgs }) => {
    if (!args.id && !args.spec) throw new UsageError("give an entry id or --spec");
    if (args.id && args.spec) throw new UsageError("give either an entry id or --spec, not both");
    const count = Number(args.count);
    if (!Number.isInteger(count) || count < 1 || count > 10_000) {
      throw new UsageError(`--count must be an integer from 1 to 10000, got "${args.count}"`);
    }
    const from = args.from === undefined ? Date.now() : Date.parse(args.from);
    if (Number.isNaN(from))
      throw new UsageError(
        `--from must be an ISO time like 2025-03-09T00:00:00Z, got "${args.from}"`,
      );
    if (args.timezone !== undefined && !isIanaTimeZone(args.timezone)) {
      throw new UsageError(
        `--timezone "${args.timezone}" is not an IANA time zone (like Europe/London)`,
      );
    }
    let entry: SchedulableEntry & { jitter?: ScheduleEntry["jitter"] };
    if (args.spec) {
      entry = { spec: parseSpec(args.spec, "--spec"), timezone: args.timezone };
    } else {
      const stored = await withScheduleStore(args, schedulePaths(rawArgs), (store) =>
        store.get(args.id as string),
      );
      if (!stored) throw notFound(args.id as string);
      entry = { ...stored, timezone: args.timezone ?? stored.timezone };
    }
    const runs = nextRuns(entry, from, count);
    const zone = entry.timezone;
    if (args.json) {
      return printJson({
        spec: entry.spec,
        description: describeSpec(entry.spec, zone),
        timezone: zone ?? "UTC",
        from: new Date(from).toISOString(),
        runs: runs.map((t) => new Date(t).toISOString()),
      });
    }
    process.stdout.write(
      `${describeSpec(entry.spec, zone)}, from ${new Date(from).toISOString()}:\n`,
    );
    if (runs.length === 0) {
      process.stdout.write("no runs\n");
      return;
    }
    printTable(
      zone ? ["#", "UTC", "local"] : ["#", "UTC"],
      runs.map((t, i) =>
        zone
          ? [i + 1, new Date(t).toISOString(), localTime(zone, t)]
          : [i + 1, new Date(t).toISOString()],
      ),
    );
    if (entry.jitter !== undefined) {
      process.stdout.write(
        `each run is delayed by a random 0–${formatDuration(parseDuration(entry.jitter))} (jitter)\n`,
      );
    }
  },
});

export { schedulePaths, scheduleStoreUrl, schedulesArg, withScheduleStore };

export const scheduleCommand = defineCommand({
  meta: { name: "schedule", description: "Manage Beat's schedule entries" },
  subCommands: {
    apply,
    list,
    show,
    enable: toggle(true),
    disable: toggle(false),
    remove,
    "dry-run": dryRun,
    explain: explainCommand,
  },
});

withExamples(apply, [
  "stem schedule apply schedules/example.yaml --dry-run",
  "stem schedule apply schedules/",
]);
withExamples(list, ["stem schedule list", "stem schedule list --schedules schedules/ --json"]);
withExamples(show, ["stem schedule show midnight-report --history 20"]);
withExamples(dryRun, [
  "stem schedule dry-run midnight-report --count 10",
  `stem schedule dry-run --spec "0 9 * * MON-FRI" --timezone Europe/London`,
]);
withExamples(remove, ["stem schedule remove midnight-report"]);
withExamples(scheduleCommand, ["stem schedule apply schedules/example.yaml", "stem schedule list"]);
