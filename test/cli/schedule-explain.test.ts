/**
 * `stem schedule apply` of a file in the original Stem's shape, and `stem schedule explain`
 * for a stored entry and an ad-hoc spec, driven through the built binary on the embedded
 * default store of a fresh folder.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ensureBinary, stem, workspace } from "./binary.ts";

/** Field names of the original Stem: name, taskName, spec, jitterMs, everyMs, run_at. */
const ORIGINAL = `[
  {"name": "nightly", "taskName": "reports.generate",
   "spec": {"kind": "cron", "expression": "30 2 * * *"}, "timezone": "America/New_York"},
  {"name": "cleanup", "taskName": "maintenance.cleanup",
   "spec": {"kind": "interval", "everyMs": 300000}, "jitterMs": 10000},
  {"name": "once", "taskName": "billing.reconcile",
   "spec": {"kind": "clocked", "run_at": "2099-02-01T00:00:00Z"}}
]
`;

const DAY = 86_400_000;

describe("stem schedule explain, and files from the original Stem", () => {
  let ws: ReturnType<typeof workspace>;

  beforeAll(async () => {
    await ensureBinary();
    ws = workspace({ "original.json": ORIGINAL });
  }, 120_000);

  afterAll(() => ws?.cleanup());

  test("apply accepts a file in the original's shape and stores canonical entries", async () => {
    const applied = await stem(ws.dir, ["schedule", "apply", "original.json"]);
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain("created 3, updated 0, unchanged 0");
    const list = await stem(ws.dir, ["schedule", "list", "--json"]);
    const entries = JSON.parse(list.stdout) as {
      id: string;
      taskName: string;
      spec: unknown;
      jitter?: unknown;
    }[];
    expect(entries.map((e) => [e.id, e.taskName, e.spec])).toEqual([
      ["cleanup", "maintenance.cleanup", { kind: "interval", every: 300000 }],
      ["nightly", "reports.generate", { kind: "cron", expression: "30 2 * * *" }],
      ["once", "billing.reconcile", { kind: "clocked", runAt: "2099-02-01T00:00:00Z" }],
    ]);
    expect(entries[0].jitter).toBe(10000);
  });

  test("explain ID --json: due times and what a restart after an outage would do", async () => {
    const show = await stem(ws.dir, ["schedule", "show", "nightly", "--json"]);
    const nextRunAt = JSON.parse(show.stdout).entry.nextRunAt as number;
    // Three days after the stored due time, with no Beat running meanwhile.
    const from = new Date(nextRunAt + 3 * DAY + 60_000).toISOString();
    const r = await stem(ws.dir, ["schedule", "explain", "nightly", "--from", from, "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const e = JSON.parse(r.stdout);
    expect(e.id).toBe("nightly");
    expect(e.timezone).toBe("America/New_York");
    expect(e.runs).toHaveLength(10);
    expect(e.runs[0].local).toMatch(/T02:30:00-0[45]:00$|T03:00:00-04:00$/);
    expect(e.missedRuns.graceMs).toBe(20_000);
    const restart = e.missedRuns.restart;
    expect(restart.action).toBe("skip");
    expect(restart.skippedCount).toBe(3);
    expect(restart.skipped[0]).toBe(new Date(nextRunAt).toISOString());
    expect(Date.parse(restart.fires[0])).toBeLessThanOrEqual(Date.parse(from));
    expect(restart.message).toContain("fires once, for the latest missed due time");

    // A grace longer than the outage turns it into a catch-up, as `stem beat --missed-run-grace 4d` would.
    const wide = await stem(ws.dir, [
      ...["schedule", "explain", "nightly", "--from", from, "--json"],
      ...["--missed-run-grace", "4d"],
    ]);
    expect(JSON.parse(wide.stdout).missedRuns.restart.action).toBe("catch-up");
    expect(JSON.parse(wide.stdout).missedRuns.restart.fires).toHaveLength(4);
  });

  test("explain ID as text names the policy, the restart and the jitter", async () => {
    const r = await stem(ws.dir, ["schedule", "explain", "cleanup", "--next", "2"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('schedule "cleanup": every 5m');
    expect(r.stdout).toContain("each run is delayed by a random 0–10s (jitter)");
    expect(r.stdout).toContain("missed runs: grace 20s");
    expect(r.stdout).toContain("restart now: not overdue: next due at");
  });

  test("explain --spec with --tz, as JSON and as text", async () => {
    const args = ["schedule", "explain", "--spec", "30 2 * * *", "--tz", "America/New_York"];
    const at = ["--from", "2026-03-07T00:00:00Z", "--next", "3"];
    const r = await stem(ws.dir, [...args, ...at, "--json"]);
    expect(r.code).toBe(0);
    const e = JSON.parse(r.stdout);
    expect(e.runs.map((x: { at: string; local: string }) => [x.at, x.local])).toEqual([
      ["2026-03-07T07:30:00.000Z", "2026-03-07T02:30:00-05:00"],
      ["2026-03-08T07:00:00.000Z", "2026-03-08T03:00:00-04:00"],
      ["2026-03-09T06:30:00.000Z", "2026-03-09T02:30:00-04:00"],
    ]);
    expect(e.runs[1].notes).toEqual([
      "02:30 does not exist on 2026-03-08 in America/New_York (clocks jump from 02:00 to 03:00): runs at 03:00",
    ]);
    expect(e.missedRuns.restart.action).toBe("no-state");

    // Wide enough that the note stays on one line of its cell.
    const text = await stem(ws.dir, [...args, ...at], { COLUMNS: "200" });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("02:30 does not exist on 2026-03-08 in America/New_York");

    const spec = await stem(ws.dir, [
      ...["schedule", "explain", "--spec", '{"kind":"cron","expression":"0 9 31 * *"}'],
      ...["--from", "2026-01-01T00:00:00Z", "--next", "2", "--json"],
    ]);
    expect(JSON.parse(spec.stdout).rules).toEqual([
      "day-of-month 31 skips months without it: Feb, Apr, Jun, Sep, Nov",
    ]);
  });

  test("bad input is a usage error naming the problem", async () => {
    const tz = await stem(ws.dir, ["schedule", "explain", "nightly", "--tz", "Europe/London"]);
    expect(tz.code).toBe(2);
    expect(tz.stderr).toContain("--tz applies to --spec");
    const next = await stem(ws.dir, ["schedule", "explain", "--spec", "every:5m", "--next", "0"]);
    expect(next.code).toBe(2);
    expect(next.stderr).toContain("--next must be an integer from 1 to 1000");
    const missing = await stem(ws.dir, ["schedule", "explain", "nope"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no schedule entry "nope"');
  });
});
