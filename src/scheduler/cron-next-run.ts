/**
 * The next run of a cron expression in an IANA time zone, with Vixie cron's DST rules.
 */
import { type CompiledCron, compileCron } from "./cron-expression.ts";
import { checked } from "./field-issues.ts";
import { instantsOfWallTime, isUtc, nextOffsetChange, offsetAt } from "./time-zones.ts";

/**
 * The first run of `expression` strictly after `after` (epoch ms), evaluated on the wall
 * clock of `zone` (an IANA name; UTC when omitted). Null when the expression never fires
 * again. Throws StemError("invalid_argument") for an invalid expression.
 *
 * Daylight-saving transitions follow Vixie cron (the cron of most Linux systems):
 * - A **fixed-time** job — no `*`, `?` or step in its minute and hour fields, so
 *   `30 2 * * *` and `0 9,17 * * *` are fixed — runs once on both transition days.
 *   When clocks spring forward over its time it runs immediately after the jump, at the
 *   first instant that exists (a 02:30 job in America/New_York runs at 03:00 EDT on
 *   2025-03-09; in Europe/London a 01:30 job runs at 02:00 BST on 2025-03-30). When
 *   clocks fall back over its time it runs at the first occurrence only.
 * - A **wildcard** job (`0 * * * *`, `*\/15 2 * * *`, `0 *\/2 * * *`) follows the wall clock:
 *   times the clock skips do not run, and times it repeats run at both occurrences, so an
 *   hourly job runs 23 times on a spring-forward day and 25 times on a fall-back day.
 *
 * (Vixie cron treats only fields starting with `*` as wildcards; Stem also counts steps
 * such as `0-30/10`, since they describe a frequency rather than a time of day.)
 *
 * croner alone would instead run the skipped 02:30 job at 03:30 and run wildcard jobs
 * only once in a repeated hour, which is why croner evaluates wall-clock times on a
 * fixed UTC+0 line here and this function maps them to instants.
 */
export function nextCronRun(
  expression: string | CompiledCron,
  zone: string | undefined,
  after: number,
): number | null {
  const cron =
    typeof expression === "string"
      ? checked("cron expression", () => compileCron(expression))
      : expression;
  if (zone === undefined || isUtc(zone)) return wallNext(cron, after);
  return cron.fixedTime ? nextFixedTime(cron, zone, after) : nextWildcard(cron, zone, after);
}

/** The first matching wall time strictly after `wall`, or null. */
function wallNext(cron: CompiledCron, wall: number): number | null {
  return cron.wallClock.nextRun(new Date(wall))?.getTime() ?? null;
}

/**
 * Fixed-time jobs run at the first occurrence of a repeated time and at the jump for a
 * skipped one. That maps wall times to instants in non-decreasing order, so the first
 * matching wall time after `after`'s whose instant is after `after` is the answer.
 */
function nextFixedTime(cron: CompiledCron, zone: string, after: number): number | null {
  let cursor = after + offsetAt(zone, after);
  for (;;) {
    const wall = wallNext(cron, cursor);
    if (wall === null) return null;
    const instants = instantsOfWallTime(zone, wall);
    const at =
      instants.kind === "single"
        ? instants.at
        : instants.kind === "repeated"
          ? instants.first
          : instants.resumesAt;
    // Only a wall time repeated after `after` (a fall-back hour) can map to an earlier instant.
    if (at > after) return at;
    cursor = wall;
  }
}

/**
 * Wildcard jobs run at every instant whose wall time matches. Walks the real timeline
 * one stretch of constant UTC offset at a time: within a stretch, wall time and instant
 * rise together, so its first match is the first matching wall time in it.
 */
function nextWildcard(cron: CompiledCron, zone: string, after: number): number | null {
  let from = after;
  let offset = offsetAt(zone, after);
  let inclusive = false;
  for (;;) {
    const wall = wallNext(cron, from + offset - (inclusive ? 1 : 0));
    if (wall === null) return null;
    const at = wall - offset;
    const change = nextOffsetChange(zone, from, at);
    if (change === null) return at;
    // The offset changes before that instant: continue in the next stretch.
    from = change;
    offset = offsetAt(zone, change);
    inclusive = true;
  }
}
