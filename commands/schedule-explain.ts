/**
 * `stem schedule explain ID|--spec SPEC`: the next due times of a stored entry or an ad-hoc
 * spec, with why each falls where it does, and what Beat's missed-run policy would do if
 * Beat restarted now. The logic is src/scheduler/explain.ts.
 */
import { defineCommand } from "citty";
import { parseDuration } from "../src/core/duration.ts";
import { StemError } from "../src/core/errors.ts";
import {
  type ExplainableEntry,
  explainSchedule,
  explanationJson,
} from "../src/scheduler/explain.ts";
import { DEFAULT_LOCK_TTL_MS, defaultMissedRunGrace } from "../src/scheduler/missed-runs.ts";
import { parseSpec } from "../src/scheduler/spec-validation.ts";
import { isIanaTimeZone } from "../src/scheduler/value-checks.ts";
import { schedulePaths, schedulesArg, withScheduleStore } from "./schedule-store.ts";
import { withExamples } from "./output/help.ts";
import { jsonArg, printJson, printTable, storeArgs, UsageError } from "./shared.ts";

export const explainCommand = defineCommand({
  meta: {
    name: "explain",
    description:
      "Explain an entry's (ID) or a spec's (--spec) next due times: local and UTC, DST and calendar notes, and what a Beat restart now would do",
  },
  args: {
    ...storeArgs,
    ...jsonArg,
    ...schedulesArg,
    id: { type: "positional", description: "Entry id (or use --spec)", required: false },
    spec: {
      type: "string",
      description: `A spec as schedule files write it: JSON ('{"kind":"cron","expression":"30 2 * * *"}') or a string ("every:5m", "30 2 * * *")`,
    },
    tz: {
      type: "string",
      alias: ["timezone"],
      description: "IANA time zone for --spec (default UTC)",
    },
    next: { type: "string", default: "10", description: "How many due times (1-1000)" },
    from: { type: "string", description: "Explain as of this ISO time (default now)" },
    "missed-run-grace": {
      type: "string",
      description: "Beat's --missed-run-grace (default: twice --lock-ttl)",
    },
    "lock-ttl": { type: "string", description: "Beat's --lock-ttl (default 10s)" },
  },
  run: async ({ args, rawArgs }) => {
    if (!args.id && !args.spec) throw new UsageError("give an entry id or --spec");
    if (args.id && args.spec) throw new UsageError("give either an entry id or --spec, not both");
    if (args.id && args.tz !== undefined) {
      throw new UsageError("--tz applies to --spec; a stored entry runs in its own timezone");
    }
    const count = Number(args.next);
    if (!Number.isInteger(count) || count < 1 || count > 1000) {
      throw new UsageError(`--next must be an integer from 1 to 1000, got "${args.next}"`);
    }
    const now = args.from === undefined ? Date.now() : Date.parse(args.from);
    if (Number.isNaN(now)) {
      throw new UsageError(
        `--from must be an ISO time like 2026-03-08T00:00:00Z, got "${args.from}"`,
      );
    }
    if (args.tz !== undefined && !isIanaTimeZone(args.tz)) {
      throw new UsageError(`--tz "${args.tz}" is not an IANA time zone (like Europe/London)`);
    }
    const lockTtl =
      args["lock-ttl"] === undefined
        ? DEFAULT_LOCK_TTL_MS
        : parseDuration(args["lock-ttl"], "--lock-ttl");
    const graceMs =
      args["missed-run-grace"] === undefined
        ? defaultMissedRunGrace(lockTtl)
        : parseDuration(args["missed-run-grace"], "--missed-run-grace");

    let entry: ExplainableEntry;
    if (args.spec) {
      entry = { spec: parseSpec(args.spec, "--spec"), timezone: args.tz };
    } else {
      const id = args.id as string;
      const stored = await withScheduleStore(args, schedulePaths(rawArgs), (store) =>
        store.get(id),
      );
      if (!stored) throw new StemError("not_found", `no schedule entry "${id}"`);
      entry = stored;
    }
    const e = explainSchedule(entry, { now, count, graceMs, stored: !args.spec });
    if (args.json) return printJson(explanationJson(e));

    const out = (line: string) => process.stdout.write(`${line}\n`);
    out(`${e.id === undefined ? "--spec" : `schedule "${e.id}"`}: ${e.description}`);
    out(`as of ${new Date(e.now).toISOString()}; local times in ${e.timezone}`);
    for (const rule of e.rules) out(`rule: ${rule}`);
    if (e.runs.length > 0) {
      printTable(
        [
          "#",
          { name: "UTC", shorten: "never" },
          { name: "local", shorten: "never" },
          { name: "notes", shorten: "wrap" },
        ],
        e.runs.map((r, i) => [i + 1, new Date(r.at).toISOString(), r.local, r.notes.join("; ")]),
      );
    }
    for (const line of e.end) out(line);
    if (e.jitter) out(e.jitter);
    out(`missed runs: ${e.missedRuns.policy}`);
    out(`restart now: ${e.missedRuns.restart.message}`);
  },
});

withExamples(explainCommand, [
  "stem schedule explain midnight-report --next 20",
  `stem schedule explain --spec "30 2 * * *" --tz America/New_York --json`,
]);
