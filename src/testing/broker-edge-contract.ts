/**
 * Broker edge cases the adapters have drifted on: calls with a stale receipt, replaying a
 * dead letter whose id is queued again, and dead-lettering the same id twice. Part of the
 * Broker contract (brokerContract registers it).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Broker, Delivery } from "../adapters/contracts.ts";
import { buildEnvelope } from "../core/envelope.ts";
import { type ContractFactory, type ContractSubject, sleep, uniqueName } from "./harness.ts";

/** Lease used by these tests; short so a lease can be lost quickly. */
const LEASE = 200;

export function brokerEdgeContract(name: string, factory: ContractFactory<Broker>): void {
  describe(`Broker contract (edge cases): ${name}`, () => {
    let ctx: ContractSubject<Broker>;
    let broker: Broker;
    let queue: string;
    const fetchOne = (waitMs = 1000, leaseMs = LEASE) =>
      broker.fetch([queue], { max: 1, leaseMs, consumer: "c1", waitMs });

    beforeEach(async () => {
      ctx = await factory.create();
      broker = ctx.subject;
      queue = uniqueName("q");
    });
    afterEach(async () => {
      await ctx.cleanup();
    });

    /**
     * A delivery whose lease ran out, and the newer delivery of the same task (with a long
     * lease, so it stays current however slow the store is while the test runs).
     */
    async function staleAndFresh(): Promise<{ stale: Delivery; fresh: Delivery }> {
      await broker.publish([buildEnvelope({ name: "t.stale", queue })]);
      const [stale] = await fetchOne();
      await sleep(LEASE + 50);
      const [fresh] = await fetchOne(LEASE * 10, 60_000);
      expect(fresh.envelope.id).toBe(stale.envelope.id);
      return { stale, fresh };
    }

    test("ack, nack and dead-letter with a stale receipt change nothing", async () => {
      const { stale, fresh } = await staleAndFresh();
      await broker.ack([stale]);
      await broker.nack(stale);
      await broker.nack(stale, { requeue: false });
      await broker.deadLetter(stale, "stale");
      expect(await broker.getDeadLetter(stale.envelope.id)).toBeNull();
      const [stats] = await broker.stats([queue]);
      expect(stats).toMatchObject({ pending: 0, inflight: 1, dead: 0 });
      // The current delivery is untouched: it still acks.
      expect(await broker.extendLease(fresh, 5_000)).toBe(true);
      await broker.ack([fresh]);
      const [after] = await broker.stats([queue]);
      expect(after).toMatchObject({ pending: 0, inflight: 0, dead: 0 });
    });

    test("dead-lettering with a stale receipt keeps an earlier dead letter of that id in another queue", async () => {
      const other = uniqueName("q");
      const env = buildEnvelope({ name: "t.twice", queue: other });
      await broker.publish([env]);
      const [first] = await broker.fetch([other], {
        max: 1,
        leaseMs: 60_000,
        consumer: "c1",
        waitMs: 1000,
      });
      await broker.deadLetter(first, "first");
      // The same id queued again elsewhere, delivered and acked: its receipt is stale.
      await broker.publish([{ ...env, queue }]);
      const [second] = await fetchOne(1000, 60_000);
      await broker.ack([second]);
      await broker.deadLetter(second, "second");
      expect((await broker.getDeadLetter(env.id))?.reason).toBe("first");
    });

    test("a dead letter whose id is queued again is kept on replay and reported as skipped", async () => {
      const env = buildEnvelope({ name: "t.requeued", queue, args: { v: 1 } });
      await broker.publish([env]);
      const [d] = await fetchOne();
      await broker.deadLetter(d, "boom");
      // The same id is published again (a producer retry, a caller-chosen id).
      await broker.publish([{ ...env, args: { v: 2 } }]);
      const result = await broker.replayDeadLetters({ ids: [env.id] });
      expect(result.entries).toEqual([]);
      expect(result.skipped.map((e) => e.envelope.id)).toEqual([env.id]);
      expect(result.skipped[0].reason).toBe("boom");
      expect(await broker.getDeadLetter(env.id)).not.toBeNull();
      // Only the task queued again is delivered, once.
      const [queued] = await fetchOne();
      expect(queued.envelope.args).toEqual({ v: 2 });
      expect(await fetchOne(100)).toEqual([]);
      await broker.ack([queued]);
      // Once that task is gone, the kept dead letter replays.
      const later = await broker.replayDeadLetters({ ids: [env.id] });
      expect(later.entries.map((e) => e.envelope.id)).toEqual([env.id]);
      expect(later.skipped).toEqual([]);
      expect(await broker.getDeadLetter(env.id)).toBeNull();
      const [replayed] = await fetchOne();
      expect(replayed.envelope.args).toEqual({ v: 1 });
    });

    test("a replay of several entries replays the free ones and skips the queued one", async () => {
      const envs = [0, 1, 2].map((i) => buildEnvelope({ name: "t.mixed", queue, args: { i } }));
      await broker.publish(envs);
      const ds = await broker.fetch([queue], { max: 3, leaseMs: LEASE, consumer: "c1" });
      for (const d of ds) await broker.deadLetter(d, "boom");
      await broker.publish([envs[1]]);
      const result = await broker.replayDeadLetters({ queue });
      expect(result.entries.map((e) => e.envelope.id).sort()).toEqual(
        [envs[0].id, envs[2].id].sort(),
      );
      expect(result.skipped.map((e) => e.envelope.id)).toEqual([envs[1].id]);
      expect((await broker.listDeadLetters({ queue })).map((e) => e.envelope.id)).toEqual([
        envs[1].id,
      ]);
    });

    test("dead-lettering the same id twice replaces the first entry", async () => {
      const env = buildEnvelope({ name: "t.twice", queue });
      await broker.publish([env]);
      const [first] = await fetchOne();
      await broker.deadLetter(first, "first", { n: 1 });
      await broker.publish([{ ...env, args: { again: true } }]);
      const [second] = await fetchOne();
      await sleep(5);
      await broker.deadLetter(second, "second", { n: 2 });
      const listed = await broker.listDeadLetters({ queue });
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ reason: "second", meta: { n: 2 } });
      expect(listed[0].envelope.args).toEqual({ again: true });
      const [stats] = await broker.stats([queue]);
      expect(stats.dead).toBe(1);
      const replay = await broker.replayDeadLetters({ queue });
      expect(replay.entries).toHaveLength(1);
      const [again] = await fetchOne();
      expect(again.envelope.args).toEqual({ again: true });
      expect(await fetchOne(100)).toEqual([]);
    });

    test("dead-lettering an id again from another queue moves its entry there", async () => {
      const other = uniqueName("q-other");
      const env = buildEnvelope({ name: "t.moved", queue });
      await broker.publish([env]);
      const [first] = await fetchOne();
      await broker.deadLetter(first, "first");
      await broker.publish([{ ...env, queue: other }]);
      const [second] = await broker.fetch([other], { max: 1, leaseMs: LEASE, consumer: "c1" });
      await broker.deadLetter(second, "second");
      expect(await broker.listDeadLetters({ queue })).toEqual([]);
      const moved = await broker.listDeadLetters({ queue: other });
      expect(moved.map((e) => [e.envelope.id, e.queue, e.reason])).toEqual([
        [env.id, other, "second"],
      ]);
      const stats = await broker.stats([queue, other]);
      expect(stats.map((s) => s.dead)).toEqual([0, 1]);
    });
  });
}
