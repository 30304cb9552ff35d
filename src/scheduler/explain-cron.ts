/**
 * Why a cron or calendar entry runs when it does: the notes `stem schedule explain` adds
 * to its due times. Every note is read off the real computation — the wall times the
 * compiled expression matches, and how time-zones.ts maps them to instants (the mapping
 * nextCronRun uses) — never from a second implementation of the rules.
 */
import type { ScheduleSpec } from "../core/schedule.ts";
import { calendarToCron } from "./calendar-cron.ts";
import { type CompiledCron, compileCron } from "./cron-expression.ts";
import { instantsOfWallTime, isUtc, nextOffsetChange, offsetAt } from "./time-zones.ts";
import { clockTime, offsetText, wallDate } from "./wall-format.ts";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
/** Most skipped wall times looked at between two runs (a per-second job across a DST gap). */
const GAP_SCAN_LIMIT = 100;
/** Months scanned for ones that lack the day of month: four years, so one leap year. */
const MONTH_SCAN = 48;

/** The day fields of a compiled expression, as written after alias expansion. */
interface DayFields {
  /** The expression without its seconds field: minute hour dom month dow. */
  minute: string;
  hour: string;
  dom: string;
  month: string;
  dow: string;
  seconds?: string;
}

/** The compiled expression a wall-clock spec runs on (cron, or calendar compiled to cron). */
export function wallClockCron(spec: ScheduleSpec): CompiledCron | undefined {
  if (spec.kind === "cron") return compileCron(spec.expression);
  if (spec.kind === "calendar") return compileCron(calendarToCron(spec));
  return undefined;
}

function fieldsOf(cron: CompiledCron): DayFields {
  const parts = cron.expanded.split(" ");
  const seconds = parts.length === 6 ? parts.shift() : undefined;
  const [minute, hour, dom, month, dow] = parts;
  return { minute, hour, dom, month, dow, seconds };
}

function restricted(field: string): boolean {
  return field !== "*" && field !== "?";
}

/** An expression with some day fields replaced (to ask croner which part matched). */
function variant(f: DayFields, change: Partial<DayFields>): CompiledCron {
  const g = { ...f, ...change };
  const text = [g.seconds, g.minute, g.hour, g.dom, g.month, g.dow].filter((x) => x !== undefined);
  return compileCron(text.join(" "));
}

/** Matches midnight on the 1st of the months the expression's month field allows. */
function monthProbe(f: DayFields): CompiledCron {
  return variant(f, { seconds: undefined, minute: "0", hour: "0", dom: "*", dow: "*" });
}

/** True when the expression's month field allows month `m` (0-based) of `year`, yet no day of it matches its day-of-month field. */
function monthLacksDay(f: DayFields, year: number, m: number): boolean {
  const start = Date.UTC(year, m, 1);
  if (!monthProbe(f).wallClock.match(new Date(start))) return false;
  const day = variant(f, { seconds: undefined, minute: "0", hour: "0", month: "*", dow: "*" });
  const next = day.wallClock.nextRun(new Date(start - 1))?.getTime();
  return next === undefined || next >= Date.UTC(year, m + 1, 1);
}

/**
 * Notes on the rule as a whole: how day-of-month and day-of-week combine, and which
 * months the day-of-month field skips (`day-of-month 31 skips months without it: Feb,
 * Apr, Jun, Sep, Nov`), found by asking the expression about the next four years.
 */
export function cronRuleNotes(cron: CompiledCron, wallFrom: number): string[] {
  const f = fieldsOf(cron);
  const notes: string[] = [];
  if (restricted(f.dom) && f.dow.startsWith("+")) {
    notes.push(
      `monthdays and weekdays both given: runs only on days that match both (Celery's crontab)`,
    );
  } else if (restricted(f.dom) && restricted(f.dow)) {
    notes.push(
      `DOM and DOW both restricted: runs when either matches (Vixie cron): day-of-month ${f.dom} or day-of-week ${f.dow}`,
    );
  }
  if (restricted(f.dom) && !restricted(f.dow)) {
    const start = new Date(wallFrom);
    const lacking = new Map<number, number>();
    const allowed = new Map<number, number>();
    const monthAllowed = monthProbe(f);
    for (let i = 0; i < MONTH_SCAN; i++) {
      const year = start.getUTCFullYear() + Math.floor((start.getUTCMonth() + i) / 12);
      const m = (start.getUTCMonth() + i) % 12;
      if (!monthAllowed.wallClock.match(new Date(Date.UTC(year, m, 1)))) continue;
      allowed.set(m, (allowed.get(m) ?? 0) + 1);
      if (monthLacksDay(f, year, m)) lacking.set(m, (lacking.get(m) ?? 0) + 1);
    }
    const names = [...lacking.keys()]
      .sort((a, b) => a - b)
      .map((m) =>
        lacking.get(m) === allowed.get(m) ? MONTHS[m] : `${MONTHS[m]} outside leap years`,
      );
    if (names.length > 0) {
      notes.push(`day-of-month ${f.dom} skips months without it: ${names.join(", ")}`);
    }
  }
  return notes;
}

/**
 * Notes on one run at instant `at`, the run before it (or the start of the preview)
 * being `previous`: a DST gap it was moved past or that swallowed runs, a repeated hour,
 * which of day-of-month / day-of-week matched, and months with no run since `previous`.
 */
export function cronRunNotes(
  cron: CompiledCron,
  zone: string | undefined,
  previous: number,
  at: number,
): string[] {
  const utc = zone === undefined || isUtc(zone);
  const wallOf = (t: number) => (utc ? t : t + offsetAt(zone as string, t));
  const wall = wallOf(at);
  const notes = utc ? [] : dstNotes(cron, zone as string, wallOf(previous), wall, at);
  notes.push(...dayNotes(cron, wallOf(previous), wall));
  return notes;
}

function dstNotes(
  cron: CompiledCron,
  zone: string,
  previousWall: number,
  wall: number,
  at: number,
): string[] {
  const notes: string[] = [];
  // Wall times the rule asked for between the two runs that were not run: the clocks skipped them.
  const skipped: number[] = [];
  let jump: { from: number; to: number; resumesAt: number } | undefined;
  let m = cron.wallClock.nextRun(new Date(previousWall))?.getTime();
  for (let i = 0; m !== undefined && m < wall && i < GAP_SCAN_LIMIT; i++) {
    const instants = instantsOfWallTime(zone, m);
    if (instants.kind === "skipped") {
      skipped.push(m);
      const t = instants.resumesAt;
      jump ??= { from: t + offsetAt(zone, t - 1), to: t + offsetAt(zone, t), resumesAt: t };
    }
    m = cron.wallClock.nextRun(new Date(m))?.getTime();
  }
  if (jump && skipped.length > 0) {
    const day = `on ${wallDate(skipped[0])} in ${zone} (clocks jump from ${clockTime(jump.from)} to ${clockTime(jump.to)})`;
    if (cron.fixedTime && at === jump.resumesAt) {
      notes.push(`${clockTime(skipped[0])} does not exist ${day}: runs at ${clockTime(wall)}`);
    } else {
      const shown = skipped.slice(0, 3).map(clockTime).join(", ");
      const more = skipped.length > 3 ? ` and ${skipped.length - 3} more` : "";
      const verb = skipped.length === 1 ? "does" : "do";
      notes.push(`${shown}${more} ${verb} not exist ${day}: not run`);
    }
  }
  const instants = instantsOfWallTime(zone, wall);
  if (instants.kind === "repeated") {
    const change = nextOffsetChange(zone, instants.first, instants.second) ?? instants.second;
    const back = `(clocks go back from ${clockTime(change + offsetAt(zone, change - 1))} to ${clockTime(change + offsetAt(zone, change))})`;
    const head = `${clockTime(wall)} happens twice on ${wallDate(wall)} in ${zone} ${back}`;
    const which = at === instants.first ? "first" : "second";
    const offset = offsetText(offsetAt(zone, at));
    notes.push(
      cron.fixedTime
        ? `${head}: runs once, at the first (${offset})`
        : `${head}: runs at both; this is the ${which} (${offset})`,
    );
  }
  return notes;
}

function dayNotes(cron: CompiledCron, previousWall: number, wall: number): string[] {
  const f = fieldsOf(cron);
  const notes: string[] = [];
  if (restricted(f.dom) && restricted(f.dow) && !f.dow.startsWith("+")) {
    const date = new Date(wall);
    const byDom = variant(f, { dow: "*" }).wallClock.match(date);
    const byDow = variant(f, { dom: "*" }).wallClock.match(date);
    const dom = `day-of-month ${date.getUTCDate()}`;
    const dow = `day-of-week ${WEEKDAYS[date.getUTCDay()]}`;
    notes.push(
      byDom && byDow ? `matches ${dom} and ${dow}` : byDom ? `matches ${dom}` : `matches ${dow}`,
    );
  }
  if (restricted(f.dom) && !restricted(f.dow)) {
    const lacking: string[] = [];
    const from = new Date(previousWall);
    const to = new Date(wall);
    let year = from.getUTCFullYear();
    let m = from.getUTCMonth() + 1;
    for (let i = 0; i < 12 * 50; i++, m++) {
      if (m === 12) {
        m = 0;
        year++;
      }
      if (year > to.getUTCFullYear() || (year === to.getUTCFullYear() && m >= to.getUTCMonth()))
        break;
      if (monthLacksDay(f, year, m)) lacking.push(`${MONTHS[m]} ${year}`);
    }
    if (lacking.length > 0) {
      const pronoun = lacking.length === 1 ? "it" : "them";
      notes.push(`no run in ${lacking.join(", ")}: no day-of-month ${f.dom} in ${pronoun}`);
    }
  }
  return notes;
}
