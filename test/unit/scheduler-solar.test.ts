import { describe, expect, test } from "bun:test";
import type { ScheduleSpec, SolarSpec } from "../../src/core/schedule.ts";
import { nextRunAt, nextRuns, nextSolarRun, type SolarSkip } from "../../src/scheduler/index.ts";

const at = (iso: string) => Date.parse(iso);
const MINUTE = 60_000;
const LONDON = { latitude: 51.5074, longitude: -0.1278 };
const NEW_YORK = { latitude: 40.7128, longitude: -74.006 };
const TROMSO = { latitude: 69.6496, longitude: 18.956 };
/**
 * suncalc's transit formula carries a fixed 0.0009-day (78 s) term, so its times run
 * about 70–80 s later than NOAA's; both stay within 2 minutes of published tables.
 */
const NOAA_TOLERANCE = 2 * MINUTE;

/**
 * Sunrise, solar noon and sunset (UTC epoch ms) on a UTC date, by the NOAA solar
 * calculator's equations — written here independently of suncalc to cross-check it.
 */
function noaa(date: string, latitude: number, longitude: number) {
  const rad = Math.PI / 180;
  const dayStart = at(`${date}T00:00:00Z`);
  const times = (approxNoonMs: number) => {
    const jd = approxNoonMs / 86_400_000 + 2440587.5;
    const t = (jd - 2451545) / 36525;
    const l0 = (280.46646 + t * (36000.76983 + t * 0.0003032)) % 360;
    const m = 357.52911 + t * (35999.05029 - 0.0001537 * t);
    const e = 0.016708634 - t * (0.000042037 + 0.0000001267 * t);
    const c =
      Math.sin(m * rad) * (1.914602 - t * (0.004817 + 0.000014 * t)) +
      Math.sin(2 * m * rad) * (0.019993 - 0.000101 * t) +
      Math.sin(3 * m * rad) * 0.000289;
    const omega = 125.04 - 1934.136 * t;
    const lambda = l0 + c - 0.00569 - 0.00478 * Math.sin(omega * rad);
    const eps0 = 23 + (26 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60) / 60;
    const eps = eps0 + 0.00256 * Math.cos(omega * rad);
    const decl = Math.asin(Math.sin(eps * rad) * Math.sin(lambda * rad));
    const y = Math.tan((eps / 2) * rad) ** 2;
    const eqTime =
      (4 / rad) *
      (y * Math.sin(2 * l0 * rad) -
        2 * e * Math.sin(m * rad) +
        4 * e * y * Math.sin(m * rad) * Math.cos(2 * l0 * rad) -
        0.5 * y * y * Math.sin(4 * l0 * rad) -
        1.25 * e * e * Math.sin(2 * m * rad));
    const cosHa =
      Math.cos(90.833 * rad) / (Math.cos(latitude * rad) * Math.cos(decl)) -
      Math.tan(latitude * rad) * Math.tan(decl);
    const ha = Math.acos(cosHa) / rad;
    const noonMin = 720 - 4 * longitude - eqTime;
    return {
      sunrise: dayStart + (noonMin - 4 * ha) * MINUTE,
      noon: dayStart + noonMin * MINUTE,
      sunset: dayStart + (noonMin + 4 * ha) * MINUTE,
    };
  };
  // Evaluate the sun's position at that day's solar noon (two passes converge).
  const first = times(dayStart + (720 - 4 * longitude) * MINUTE);
  return times(first.noon);
}

const solar = (
  event: SolarSpec["event"],
  place: { latitude: number; longitude: number },
  offset?: string,
) => ({
  spec: { kind: "solar", event, ...place, ...(offset ? { offset } : {}) } as ScheduleSpec,
});

describe("solar next run", () => {
  test("London sunrise on 2025-06-21 is about 04:43 BST (published tables)", () => {
    const t = nextRunAt(solar("sunrise", LONDON), at("2025-06-21T00:00:00Z"))!;
    expect(Math.abs(t - at("2025-06-21T03:43:00Z"))).toBeLessThan(2 * MINUTE);
    expect(
      Math.abs(t - noaa("2025-06-21", LONDON.latitude, LONDON.longitude).sunrise),
    ).toBeLessThan(NOAA_TOLERANCE);
  });

  test("London sunset on 2025-06-21 is about 21:21 BST, solar noon about 13:02 BST", () => {
    const sunset = nextRunAt(solar("sunset", LONDON), at("2025-06-21T00:00:00Z"))!;
    expect(Math.abs(sunset - at("2025-06-21T20:21:00Z"))).toBeLessThan(2 * MINUTE);
    expect(
      Math.abs(sunset - noaa("2025-06-21", LONDON.latitude, LONDON.longitude).sunset),
    ).toBeLessThan(NOAA_TOLERANCE);
    const noon = nextRunAt(solar("noon", LONDON), at("2025-06-21T00:00:00Z"))!;
    expect(Math.abs(noon - at("2025-06-21T12:02:00Z"))).toBeLessThan(2 * MINUTE);
    expect(
      Math.abs(noon - noaa("2025-06-21", LONDON.latitude, LONDON.longitude).noon),
    ).toBeLessThan(NOAA_TOLERANCE);
  });

  test("New York sunrise on 2025-12-21 is about 07:16 EST, sunset about 16:32 EST", () => {
    const sunrise = nextRunAt(solar("sunrise", NEW_YORK), at("2025-12-21T05:00:00Z"))!;
    expect(Math.abs(sunrise - at("2025-12-21T12:16:00Z"))).toBeLessThan(2 * MINUTE);
    const reference = noaa("2025-12-21", NEW_YORK.latitude, NEW_YORK.longitude);
    expect(Math.abs(sunrise - reference.sunrise)).toBeLessThan(NOAA_TOLERANCE);
    const sunset = nextRunAt(solar("sunset", NEW_YORK), at("2025-12-21T05:00:00Z"))!;
    expect(Math.abs(sunset - at("2025-12-21T21:32:00Z"))).toBeLessThan(2 * MINUTE);
    expect(Math.abs(sunset - reference.sunset)).toBeLessThan(NOAA_TOLERANCE);
  });

  test("the next event is strictly after `after`: once today's has passed, it is tomorrow's", () => {
    const today = nextRunAt(solar("sunrise", LONDON), at("2025-06-21T00:00:00Z"))!;
    const tomorrow = nextRunAt(solar("sunrise", LONDON), today)!;
    expect(tomorrow - today).toBeGreaterThan(23 * 60 * MINUTE);
    expect(tomorrow - today).toBeLessThan(25 * 60 * MINUTE);
    expect(
      Math.abs(tomorrow - noaa("2025-06-22", LONDON.latitude, LONDON.longitude).sunrise),
    ).toBeLessThan(NOAA_TOLERANCE);
  });

  test("offsets shift the event, and may be negative", () => {
    const from = at("2025-06-21T00:00:00Z");
    const plain = nextRunAt(solar("sunset", LONDON), from)!;
    expect(nextRunAt(solar("sunset", LONDON, "30m"), from)).toBe(plain + 30 * MINUTE);
    expect(nextRunAt(solar("sunset", LONDON, "-30m"), from)).toBe(plain - 30 * MINUTE);
    // Just after sunset-30m has passed, the next one is tomorrow's.
    const next = nextRunAt(solar("sunset", LONDON, "-30m"), plain - 30 * MINUTE)!;
    expect(next - plain).toBeGreaterThan(23 * 60 * MINUTE);
  });

  test("a list of daily runs for a dry run", () => {
    const runs = nextRuns(solar("sunrise", NEW_YORK), at("2025-12-20T00:00:00Z"), 3);
    expect(runs).toHaveLength(3);
    for (const [i, date] of ["2025-12-20", "2025-12-21", "2025-12-22"].entries()) {
      expect(
        Math.abs(runs[i] - noaa(date, NEW_YORK.latitude, NEW_YORK.longitude).sunrise),
      ).toBeLessThan(NOAA_TOLERANCE);
    }
  });
});

describe("solar events that do not happen (polar day and night)", () => {
  test("Tromsø in mid-June has no sunset: the days are skipped with a reason", () => {
    const skips: SolarSkip[] = [];
    const from = at("2025-06-15T00:00:00Z");
    const next = nextRunAt(solar("sunset", TROMSO), from, { onSkip: (s) => skips.push(s) });
    expect(next).not.toBeNull();
    // The midnight sun lasts until late July.
    expect(next!).toBeGreaterThan(at("2025-07-20T00:00:00Z"));
    expect(next!).toBeLessThan(at("2025-08-01T00:00:00Z"));
    expect(skips).toHaveLength(1);
    const [skip] = skips;
    expect(skip.reason).toBe("polar day");
    expect(skip.event).toBe("sunset");
    expect(skip.from).toBe("2025-06-15");
    expect(skip.days).toBeGreaterThan(30);
    expect(skip.message).toContain("no sunset at lat 69.6496, lon 18.956 from 2025-06-15 to ");
    expect(skip.message).toContain("polar day");
  });

  test("Tromsø in mid-December has no sunrise: polar night", () => {
    const run = nextSolarRun(
      { kind: "solar", event: "sunrise", ...TROMSO },
      at("2025-12-15T00:00:00Z"),
    );
    expect(run.at).not.toBeNull();
    expect(run.at!).toBeGreaterThan(at("2026-01-05T00:00:00Z"));
    expect(run.at!).toBeLessThan(at("2026-01-25T00:00:00Z"));
    expect(run.skipped.map((s) => s.reason)).toEqual(["polar night"]);
  });

  test("solar noon happens every day, even in polar night", () => {
    const run = nextSolarRun(
      { kind: "solar", event: "noon", ...TROMSO },
      at("2025-12-15T00:00:00Z"),
    );
    expect(run.skipped).toEqual([]);
    expect(run.at!).toBeLessThan(at("2025-12-16T00:00:00Z"));
  });

  test("ordinary latitudes skip nothing", () => {
    const skips: SolarSkip[] = [];
    nextRuns(solar("sunrise", LONDON), at("2025-01-01T00:00:00Z"), 30, {
      onSkip: (s) => skips.push(s),
    });
    expect(skips).toEqual([]);
  });
});
