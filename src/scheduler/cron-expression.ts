/**
 * Cron expressions: checking, alias expansion, and compiling to a croner pattern that
 * evaluates wall-clock times. Time zones and DST are applied on top, in cron-next-run.ts.
 */
import { Cron } from "croner";
import { FieldProblem, show } from "./field-issues.ts";

const ALIASES: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

/** A checked cron expression, ready to evaluate. */
export interface CompiledCron {
  /** The expression as written. */
  source: string;
  /** Aliases expanded, fields separated by single spaces. */
  expanded: string;
  /**
   * The pattern on a fixed UTC+0 line, so its run times are wall-clock times
   * ("local time as if it were UTC"); cron-next-run.ts maps them to instants.
   */
  wallClock: Cron;
  /**
   * Vixie cron's distinction for DST: a fixed-time job has neither a wildcard (`*`, `?`)
   * nor a step (`/`) in its minute and hour fields (`30 2 * * *`, `0 9,17 * * *`);
   * every other job is a wildcard job (`0 * * * *`, `*\/15 2 * * *`).
   */
  fixedTime: boolean;
}

const cache = new Map<string, CompiledCron>();
const CACHE_LIMIT = 1000;
// Any expression that matches some date matches one within 28 years of any start (the
// Gregorian weekday/leap-year cycle), so this finds the never-matching ones (30 February).
const PROBE_FROM = new Date(Date.UTC(2000, 0, 1));

/**
 * Checks and compiles a cron expression: five fields (minute hour day-of-month month
 * day-of-week), or six with leading seconds; names JAN..DEC and SUN..SAT; ranges, lists
 * and steps; aliases @yearly @annually @monthly @weekly @daily @midnight @hourly. Day of
 * month and day of week are combined with OR when both are restricted (Vixie cron).
 * Throws a FieldProblem describing what is wrong.
 */
export function compileCron(expression: string): CompiledCron {
  const cached = cache.get(expression);
  if (cached) return cached;
  const compiled = compile(expression);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(expression, compiled);
  return compiled;
}

function compile(expression: string): CompiledCron {
  if (typeof expression !== "string") {
    throw new FieldProblem(`${show(expression)} is not a cron expression (expected a string)`);
  }
  const text = expression.trim();
  if (text === "")
    throw new FieldProblem("is empty (expected a cron expression such as 0 9 * * *)");
  let expanded = text.replace(/\s+/g, " ");
  if (expanded.startsWith("@")) {
    const alias = ALIASES[expanded.toLowerCase()];
    if (!alias) {
      throw new FieldProblem(
        `${show(expression)} is not a cron expression (known aliases: ${Object.keys(ALIASES).join(" ")})`,
      );
    }
    expanded = alias;
  }
  const fields = expanded.split(" ");
  if (fields.length !== 5 && fields.length !== 6) {
    throw new FieldProblem(
      `${show(expression)} is not a cron expression (expected 5 fields, or 6 with leading seconds; got ${fields.length})`,
    );
  }
  let wallClock: Cron;
  try {
    wallClock = new Cron(expanded, {
      utcOffset: 0,
      // OR of day-of-month and day-of-week when both are restricted, as Vixie cron does.
      // (croner 10 replaced the deprecated `legacyMode: true` with `domAndDow: false`.)
      domAndDow: false,
      mode: "5-or-6-parts",
      paused: true,
    });
  } catch (error) {
    const reason =
      error instanceof Error ? error.message.replace(/^CronPattern:\s*/, "") : String(error);
    throw new FieldProblem(`${show(expression)} is not a valid cron expression (${reason})`);
  }
  if (wallClock.nextRun(PROBE_FROM) === null) {
    throw new FieldProblem(`${show(expression)} never matches a real date`);
  }
  const [minute, hour] = fields.length === 6 ? [fields[1], fields[2]] : [fields[0], fields[1]];
  const wild = /[*?/]/;
  return {
    source: expression,
    expanded,
    wallClock,
    fixedTime: !wild.test(minute) && !wild.test(hour),
  };
}
