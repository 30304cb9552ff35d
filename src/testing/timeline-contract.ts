import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Broker, Delivery, ResultBackend } from "../adapters/contracts.ts";
import { buildEnvelope } from "../core/envelope.ts";
import type { TaskStatus } from "../core/states.ts";
import { TIMELINE_CAP, type TimelineEntry } from "../core/timeline.ts";
import { type ContractFactory, type ContractSubject, uniqueName } from "./harness.ts";

function status(id: string, timeline: TimelineEntry[], fields: Partial<TaskStatus> = {}) {
  const now = Date.now();
  return {
    id,
    name: "t.timeline",
    queue: "default",
    state: "running",
    attempt: 1,
    meta: {},
    createdAt: now,
    updatedAt: now,
    timeline,
    ...fields,
  } satisfies TaskStatus;
}

const at = (n: number) => 1_700_000_000_000 + n;

/**
 * Task timelines, on every result backend: each status write appends its entries to the
 * task's kept history, in the same write as the status (the backend's `set`, and the
 * broker's combined publish and ack where it has them).
 */
export function timelineContract(
  name: string,
  factory: ContractFactory<{ backend: ResultBackend; broker: Broker }>,
): void {
  describe(`Task timeline contract: ${name}`, () => {
    let ctx: ContractSubject<{ backend: ResultBackend; broker: Broker }>;
    let backend: ResultBackend;
    beforeEach(async () => {
      ctx = await factory.create();
      backend = ctx.subject.backend;
    });
    afterEach(async () => {
      await ctx.cleanup();
    });

    test("each write appends its entries to the ones kept; the status itself is replaced", async () => {
      const id = uniqueName("tl");
      await backend.set([status(id, [{ event: "queued", at: at(1), by: "producer h" }])]);
      await backend.set([
        status(id, [{ event: "started", at: at(2), worker: "w1", attempt: 1 }], {
          state: "running",
        }),
      ]);
      await backend.set([status(id, [], { state: "succeeded", result: 1 })]);
      const got = await backend.get(id);
      expect(got?.state).toBe("succeeded");
      expect(got?.timeline).toEqual([
        { event: "queued", at: at(1), by: "producer h" },
        { event: "started", at: at(2), worker: "w1", attempt: 1 },
      ]);
      expect((await backend.getMany([id]))[0]?.timeline).toHaveLength(2);
    });

    test("two statuses of one task in one batch both keep their entries, in order", async () => {
      const id = uniqueName("tl");
      await backend.set([
        status(id, [{ event: "started", at: at(1) }]),
        status(id, [{ event: "succeeded", at: at(2) }], { state: "succeeded" }),
      ]);
      const got = await backend.get(id);
      expect(got?.state).toBe("succeeded");
      expect(got?.timeline?.map((e) => e.event)).toEqual(["started", "succeeded"]);
    });

    test("consecutive progress entries collapse into the latest", async () => {
      const id = uniqueName("tl");
      await backend.set([status(id, [{ event: "started", at: at(1) }])]);
      for (const percent of [10, 50, 90])
        await backend.set([status(id, [{ event: "progress", at: at(percent), percent }])]);
      await backend.set([status(id, [{ event: "succeeded", at: at(100) }])]);
      const events = (await backend.get(id))?.timeline?.map((e) => [e.event, e.percent]);
      expect(events).toEqual([
        ["started", undefined],
        ["progress", 90],
        ["succeeded", undefined],
      ]);
    });

    test(`past ${TIMELINE_CAP} entries the first is kept with the latest`, async () => {
      const id = uniqueName("tl");
      await backend.set([status(id, [{ event: "queued", at: at(0) }])]);
      for (let i = 1; i <= TIMELINE_CAP + 5; i++)
        await backend.set([status(id, [{ event: "retried", at: at(i), attempt: i }])]);
      const timeline = (await backend.get(id))?.timeline ?? [];
      expect(timeline).toHaveLength(TIMELINE_CAP);
      expect(timeline[0].event).toBe("queued");
      expect(timeline[1].attempt).toBe(7);
      expect(timeline.at(-1)?.attempt).toBe(TIMELINE_CAP + 5);
    });

    test("a status written without entries has no timeline", async () => {
      const id = uniqueName("tl");
      const { timeline: _, ...plain } = status(id, []);
      await backend.set([plain]);
      expect((await backend.get(id))?.timeline).toBeUndefined();
    });

    test("the broker's combined publish and ack append like set", async () => {
      const { broker } = ctx.subject;
      const queue = uniqueName("tlq");
      const envelope = buildEnvelope({ name: "t.timeline", queue });
      const base = status(envelope.id, [], { queue, state: "queued" });
      const publish = broker.publishWithStatuses?.(backend);
      const queued = { ...base, timeline: [{ event: "queued" as const, at: at(1) }] };
      if (publish) await publish([queued], [envelope]);
      else {
        await backend.set([queued]);
        await broker.publish([envelope]);
      }
      const [delivery] = await broker.fetch([queue], { max: 1, leaseMs: 30_000, consumer: "w" });
      const done = {
        ...base,
        state: "succeeded" as const,
        timeline: [{ event: "succeeded" as const, at: at(2) }],
      };
      const ack = broker.ackWithStatuses?.(backend);
      if (ack) await ack([done], [delivery as Delivery]);
      else {
        await backend.set([done]);
        await broker.ack([delivery as Delivery]);
      }
      const got = await backend.get(envelope.id);
      expect(got?.state).toBe("succeeded");
      expect(got?.timeline?.map((e) => e.event)).toEqual(["queued", "succeeded"]);
    });
  });
}
