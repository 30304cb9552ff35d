import { describe, expect, test } from "bun:test";
import { Cron } from "croner";
import { nextCronRun } from "../../src/scheduler/index.ts";

/**
 * An independent oracle for cron runs across DST: walk real time minute by minute and
 * apply Vixie cron's rules directly, using only Intl for the local time.
 */
const MINUTE = 60_000;

const formats = new Map<string, Intl.DateTimeFormat>();

function wallOf(zone: string, t: number): number {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
    });
    formats.set(zone, format);
  }
  const parts = format.formatToParts(new Date(t));
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  return Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"));
}

function oracleRuns(
  expression: string,
  fixedTime: boolean,
  zone: string,
  from: number,
  to: number,
): number[] {
  const pattern = new Cron(expression, { utcOffset: 0, paused: true });
  const matches = (wall: number) => pattern.match(new Date(wall));
  const runs: number[] = [];
  let latestWall = Number.NEGATIVE_INFINITY; // the latest wall time the clock has shown
  for (let t = from - 3 * 60 * MINUTE; t < to; t += MINUTE) {
    const wall = wallOf(zone, t);
    const jumpedFrom = wallOf(zone, t - MINUTE) + MINUTE; // the wall time that should come next
    const repeat = wall <= latestWall; // clocks fell back: this wall time was shown before
    latestWall = Math.max(latestWall, wall);
    if (t < from) continue;
    if (wall > jumpedFrom) {
      // Clocks sprang forward: wall times [jumpedFrom, wall) never happened.
      let skippedMatch = false;
      for (let w = jumpedFrom; w < wall; w += MINUTE) skippedMatch ||= matches(w);
      if ((fixedTime && skippedMatch) || matches(wall)) runs.push(t);
      continue;
    }
    if (matches(wall) && (!repeat || !fixedTime)) runs.push(t);
  }
  return runs;
}

function engineRuns(expression: string, zone: string, from: number, to: number): number[] {
  const runs: number[] = [];
  for (
    let t = nextCronRun(expression, zone, from - 1);
    t !== null && t < to;
    t = nextCronRun(expression, zone, t)
  ) {
    runs.push(t);
  }
  return runs;
}

const cases: Array<[string, boolean]> = [
  ["30 2 * * *", true],
  ["0 1,2 * * *", true],
  ["45 0,1 * * *", true],
  ["0 0 * * *", true],
  ["15 1 * * SUN", true],
  ["0 * * * *", false],
  ["*/20 1,2 * * *", false],
  ["10 */3 * * *", false],
  ["*/25 * * * *", false],
];

const windows: Array<[string, string]> = [
  ["America/New_York", "2025-03-08T20:00:00Z"],
  ["America/New_York", "2025-11-01T20:00:00Z"],
  ["Europe/London", "2025-03-29T20:00:00Z"],
  ["Europe/London", "2025-10-25T20:00:00Z"],
  ["Australia/Lord_Howe", "2025-10-04T00:00:00Z"],
  ["Australia/Lord_Howe", "2025-04-05T00:00:00Z"],
  ["America/Santiago", "2025-09-06T00:00:00Z"],
];

describe("cron runs across DST match an independent minute-by-minute oracle", () => {
  for (const [zone, start] of windows) {
    test(`${zone} from ${start}`, () => {
      const from = Date.parse(start);
      const to = from + 40 * 60 * MINUTE;
      for (const [expression, fixedTime] of cases) {
        const expected = oracleRuns(expression, fixedTime, zone, from, to).map((t) =>
          new Date(t).toISOString(),
        );
        const actual = engineRuns(expression, zone, from, to).map((t) => new Date(t).toISOString());
        expect({ expression, runs: actual }).toEqual({ expression, runs: expected });
      }
    });
  }
});
