/**
 * `stem schedule explain`: an entry's next due times with the reasons a person needs —
 * local and UTC time, where DST or the calendar bends the rule, solar days without the
 * event, why the runs end — and what the missed-run policy would do if Beat restarted now.
 *
 * The due times come from nextRuns (what Beat computes); the notes are read off that
 * computation (see explain-cron.ts), and the restart from decideMissedRuns.
 */
import { formatDuration, parseDuration } from "../core/duration.ts";
import type { ScheduleEntry } from "../core/schedule.ts";
import { describeSpec } from "./describe.ts";
import { cronRuleNotes, cronRunNotes, wallClockCron } from "./explain-cron.ts";
import {
  explainMissedRuns,
  type MissedRunExplanation,
  type RestartEntry,
} from "./explain-restart.ts";
import { DEFAULT_LOCK_TTL_MS, defaultMissedRunGrace } from "./missed-runs.ts";
import { nextRunAt, nextRuns } from "./next-run.ts";
import { SOLAR_SEARCH_DAYS, type SolarSkip } from "./solar-next-run.ts";
import { isUtc, offsetAt, toWallTime } from "./time-zones.ts";
import { instantMs } from "./value-checks.ts";
import { localIso, offsetText } from "./wall-format.ts";

/** An entry to explain: a stored entry, or just a spec (and time zone) for an ad-hoc one. */
export type ExplainableEntry = RestartEntry & Partial<Pick<ScheduleEntry, "id" | "jitter">>;

/** Options for explainSchedule. */
export interface ExplainOptions {
  /** Explain as of this time (epoch ms); default now. */
  now?: number;
  /** How many due times; default 10. */
  count?: number;
  /** Beat's missed-run grace in ms; default Beat's (twice its default lock TTL). */
  graceMs?: number;
  /** False for an ad-hoc spec (no stored run state); default true when the entry has an id. */
  stored?: boolean;
}

/** One due time and why it falls where it does. */
export interface ExplainedRun {
  at: number;
  /** The due time on the entry's wall clock with its offset, `2026-03-08T03:00:00-04:00`. */
  local: string;
  notes: string[];
}

/** Everything `stem schedule explain` shows. */
export interface ScheduleExplanation {
  id?: string;
  description: string;
  /** The zone the entry runs in (`UTC` when it has none). */
  timezone: string;
  now: number;
  /** Notes on the rule as a whole (day-of-month/day-of-week, months without the day). */
  rules: string[];
  runs: ExplainedRun[];
  /** Why there are fewer runs than asked for, or notes after the last one (solar days skipped). */
  end: string[];
  /** `each run is delayed by a random 0–10s (jitter)`, when the entry has jitter. */
  jitter?: string;
  missedRuns: MissedRunExplanation;
}

/** Explains when `entry` runs next and why; see ScheduleExplanation. The entry must be valid. */
export function explainSchedule(
  entry: ExplainableEntry,
  options: ExplainOptions = {},
): ScheduleExplanation {
  const now = options.now ?? Date.now();
  const count = options.count ?? 10;
  const stored = options.stored ?? entry.id !== undefined;
  const zone = entry.timezone;
  const skips: SolarSkip[] = [];
  const onSkip = (skip: SolarSkip) => {
    if (!skips.some((s) => s.from === skip.from && s.event === skip.event)) skips.push(skip);
  };
  // A stored, enabled entry runs next at its stored due time (when still ahead), as Beat does.
  const storedNext =
    stored && entry.enabled !== false && entry.nextRunAt !== undefined && entry.nextRunAt > now
      ? entry.nextRunAt
      : undefined;
  // Solar days without the event before the stored due time are found by searching from now.
  if (storedNext !== undefined) nextRunAt(entry, now, { onSkip });
  const times =
    storedNext === undefined
      ? nextRuns(entry, now, count, { onSkip })
      : [
          storedNext,
          ...nextRuns({ ...entry, lastRunAt: storedNext }, storedNext, count - 1, { onSkip }),
        ];

  const cron = wallClockCron(entry.spec);
  const runs: ExplainedRun[] = times.map((at, i) => {
    const previous = i === 0 ? now : times[i - 1];
    const notes = cron ? cronRunNotes(cron, zone, previous, at) : [];
    if (entry.spec.kind === "interval") notes.push(...intervalNotes(zone, previous, at));
    for (const skip of skips) {
      if (dayStart(skip.to) < at && dayStart(skip.to) >= (i === 0 ? -Infinity : previous)) {
        notes.push(`skipped: ${skip.message}`);
      }
    }
    return { at, local: localIso(zone, at), notes };
  });

  const last = times.at(-1);
  const end = skips
    .filter((s) => last === undefined || dayStart(s.to) >= last)
    .map((s) => `skipped: ${s.message}`);
  if (times.length < count) end.push(endReason(entry, last ?? now, last !== undefined));

  return {
    id: entry.id,
    description: describeSpec(entry.spec, zone),
    timezone: zone ?? "UTC",
    now,
    rules: cron ? cronRuleNotes(cron, toWallTime(zone, now)) : [],
    runs,
    end,
    jitter:
      entry.jitter === undefined
        ? undefined
        : `each run is delayed by a random 0–${formatDuration(parseDuration(entry.jitter))} (jitter)`,
    missedRuns: explainMissedRuns(
      entry,
      now,
      options.graceMs ?? defaultMissedRunGrace(DEFAULT_LOCK_TTL_MS),
      stored,
      times[0],
    ),
  };
}

function dayStart(date: string): number {
  return Date.parse(`${date}T00:00:00Z`);
}

/** Interval runs are spaced in real time: across a DST change their local time moves. */
function intervalNotes(zone: string | undefined, previous: number, at: number): string[] {
  if (zone === undefined || isUtc(zone)) return [];
  const before = offsetAt(zone, previous);
  const after = offsetAt(zone, at);
  if (before === after) return [];
  return [
    `clocks change before this run (${offsetText(before)} → ${offsetText(after)}): intervals ` +
      `run in real time, so the local time of the runs moves by ${formatDuration(Math.abs(after - before))}`,
  ];
}

/** Why an entry has no run after `after` (its last run, or now when it has none). */
function endReason(entry: ExplainableEntry, after: number, hadRuns: boolean): string {
  const state = hadRuns ? { ...entry, lastRunAt: after } : entry;
  const spec = entry.spec;
  if (entry.runOnce && state.lastRunAt !== undefined) {
    return hadRuns
      ? "no more runs: runOnce, so it runs once"
      : "no more runs: runOnce, and it has run";
  }
  if (
    entry.expireAt !== undefined &&
    nextRunAt({ ...state, expireAt: undefined }, after) !== null
  ) {
    return `no more runs: it expires at ${new Date(entry.expireAt).toISOString()} (expireAt)`;
  }
  switch (spec.kind) {
    case "clocked":
      return state.lastRunAt !== undefined
        ? `no more runs: a clocked entry runs once, at ${new Date(instantMs(spec.runAt)).toISOString()}`
        : `no more runs: its time ${new Date(instantMs(spec.runAt)).toISOString()} has passed`;
    case "interval":
      return spec.endAt === undefined
        ? "no more runs"
        : `no more runs: endAt ${new Date(instantMs(spec.endAt)).toISOString()} ends it`;
    case "solar":
      return `no more runs: no ${spec.event === "noon" ? "solar noon" : spec.event} within ${SOLAR_SEARCH_DAYS} days at this place`;
    default:
      return "no more runs";
  }
}

/** The explanation with times as ISO strings, for `--json`. */
export function explanationJson(e: ScheduleExplanation) {
  const iso = (t: number) => new Date(t).toISOString();
  const restart = e.missedRuns.restart;
  return {
    ...e,
    now: iso(e.now),
    runs: e.runs.map((r) => ({ ...r, at: iso(r.at) })),
    missedRuns: {
      ...e.missedRuns,
      restart: { ...restart, fires: restart.fires.map(iso), skipped: restart.skipped.map(iso) },
    },
  };
}
