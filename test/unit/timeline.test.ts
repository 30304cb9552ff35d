/** Timeline helpers: who queued a task, the append rules, entries in words. */
import { describe, expect, test } from "bun:test";
import { Headers, MetaKeys, buildEnvelope } from "../../src/core/envelope.ts";
import {
  type TimelineEntry,
  appendTimeline,
  latestWithTimelines,
  queuedBy,
  queuedEntry,
} from "../../src/core/timeline.ts";
import { describeEntry, timelineRows } from "../../src/observability/timeline-text.ts";
import type { TaskStatus } from "../../src/core/states.ts";

describe("queuedBy", () => {
  test("names Beat, a workflow run, a chord, a group, a parent task, else the producer", () => {
    const by = (fields: Parameters<typeof buildEnvelope>[0]) => queuedBy(buildEnvelope(fields));
    expect(by({ name: "t", headers: { [Headers.scheduleId]: "nightly" } })).toBe(
      "beat entry nightly",
    );
    expect(by({ name: "t", meta: { "stem.workflow.runId": "r1" } })).toBe("workflow run r1");
    expect(by({ name: "t", headers: { [Headers.chordId]: "c1" } })).toBe("chord c1");
    expect(by({ name: "t", headers: { [Headers.groupId]: "g1" } })).toBe("group g1");
    expect(by({ name: "t", meta: { [MetaKeys.parentTaskId]: "p1" } })).toBe("task p1");
    expect(by({ name: "t" })).toMatch(new RegExp(`^producer .+ \\(pid ${process.pid}\\)$`));
  });

  test("the queued entry keeps the priority, due time, uniqueness key and expiry", () => {
    const envelope = buildEnvelope({
      name: "t",
      priority: 7,
      notBefore: 2000,
      meta: { [MetaKeys.uniqueKey]: "k", [MetaKeys.expiresAt]: 3000 },
    });
    expect(queuedEntry(envelope, 1000)).toMatchObject({
      event: "queued",
      at: 1000,
      priority: 7,
      dueAt: 2000,
      uniqueKey: "k",
      expiresAt: 3000,
    });
  });
});

describe("appendTimeline", () => {
  const e = (event: TimelineEntry["event"], at: number, more = {}): TimelineEntry => ({
    event,
    at,
    ...more,
  });

  test("progress collapses only when consecutive", () => {
    const out = appendTimeline(
      [e("started", 1), e("progress", 2, { percent: 10 })],
      [e("progress", 3, { percent: 20 }), e("retried", 4), e("progress", 5, { percent: 5 })],
    );
    expect(out.map((x) => [x.event, x.percent])).toEqual([
      ["started", undefined],
      ["progress", 20],
      ["retried", undefined],
      ["progress", 5],
    ]);
  });

  test("over the cap the first entry stays with the latest", () => {
    const out = appendTimeline(
      [e("queued", 0)],
      Array.from({ length: 10 }, (_, i) => e("retried", i + 1)),
      4,
    );
    expect(out.map((x) => x.at)).toEqual([0, 8, 9, 10]);
  });

  test("a batch with two statuses of one task keeps both's entries, the later status winning", () => {
    const base = { name: "t", queue: "q", attempt: 1, meta: {}, createdAt: 0, updatedAt: 0 };
    const [merged] = latestWithTimelines([
      { ...base, id: "a", state: "running", timeline: [e("started", 1)] },
      { ...base, id: "a", state: "succeeded", timeline: [e("succeeded", 2)] },
    ] satisfies TaskStatus[]);
    expect(merged.state).toBe("succeeded");
    expect(merged.timeline?.map((x) => x.event)).toEqual(["started", "succeeded"]);
  });
});

describe("timeline in words", () => {
  test("a lost lease names the worker that ran the delivery before", () => {
    const timeline: TimelineEntry[] = [
      { event: "queued", at: 1, by: "beat entry nightly" },
      { event: "started", at: 2, worker: "w1", attempt: 1, leaseMs: 30_000 },
      { event: "lease-lost", at: 40_000 },
      { event: "rate-limited", at: 40_001, worker: "w2", reason: "1 per 1m for t", dueAt: 60_000 },
    ];
    expect(describeEntry(timeline, 1)).toBe("started on w1 (attempt 1), lease 30s");
    expect(describeEntry(timeline, 2)).toBe(
      "the previous delivery's lease ran out (worker w1 went silent): redelivered",
    );
    expect(timelineRows(timeline)[3]).toEqual({
      at: 40_001,
      event: "rate-limited",
      detail:
        "no rate-limit token (1 per 1m for t) on w2: back in the queue until 1970-01-01T00:01:00.000Z",
    });
  });
});
