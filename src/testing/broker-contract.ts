import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Broker, Delivery } from "../adapters/contracts.ts";
import { buildEnvelope } from "../core/envelope.ts";
import { brokerEdgeContract } from "./broker-edge-contract.ts";
import { type ContractFactory, type ContractSubject, sleep, uniqueName } from "./harness.ts";

/** Lease used by these tests; short so expiry tests stay quick. */
const LEASE = 400;

/**
 * The Broker contract every adapter must pass. Timings use short real leases; adapters
 * whose delivery relies on polling must still wake within the waits used here.
 */
export function brokerContract(name: string, factory: ContractFactory<Broker>): void {
  describe(`Broker contract: ${name}`, () => {
    let ctx: ContractSubject<Broker>;
    let broker: Broker;
    let queue: string;
    const fetchOne = (q = queue, waitMs = 1000) =>
      broker.fetch([q], { max: 1, leaseMs: LEASE, consumer: "c1", waitMs });

    beforeEach(async () => {
      ctx = await factory.create();
      broker = ctx.subject;
      queue = uniqueName("q");
    });
    afterEach(async () => {
      await ctx.cleanup();
    });

    test("a published task is delivered once and not again after ack", async () => {
      const env = buildEnvelope({ name: "t.a", queue, args: { n: 1 }, headers: { h: "v" } });
      const res = await broker.publish([env]);
      expect(res.accepted).toEqual([env.id]);
      const [d] = await fetchOne();
      expect(d.envelope.id).toBe(env.id);
      expect(d.envelope.args).toEqual({ n: 1 });
      expect(d.envelope.headers).toEqual({ h: "v" });
      expect(d.envelope.attempt).toBe(0);
      expect(d.queue).toBe(queue);
      await broker.ack([d]);
      await sleep(LEASE + 100);
      expect(await fetchOne(queue, 100)).toEqual([]);
      const [stats] = await broker.stats([queue]);
      expect(stats).toMatchObject({ pending: 0, inflight: 0, delayed: 0 });
    });

    test("publishing many in one call delivers them all in order, at most max per fetch", async () => {
      const envs = Array.from({ length: 5 }, (_, i) =>
        buildEnvelope({ name: "t.many", queue, args: { i } }),
      );
      await broker.publish(envs);
      const first = await broker.fetch([queue], { max: 3, leaseMs: LEASE, consumer: "c1" });
      expect(first.map((d) => d.envelope.args.i)).toEqual([0, 1, 2]);
      const rest = await broker.fetch([queue], { max: 10, leaseMs: LEASE, consumer: "c1" });
      expect(rest.map((d) => d.envelope.args.i)).toEqual([3, 4]);
      await broker.ack([...first, ...rest]);
    });

    test("a second task with an id already queued is refused as a duplicate", async () => {
      const env = buildEnvelope({ name: "t.dup", queue });
      await broker.publish([env]);
      const again = await broker.publish([{ ...env, args: { other: true } }]);
      expect(again.duplicates).toEqual([env.id]);
      expect(again.accepted).toEqual([]);
      const [d] = await fetchOne();
      expect(d.envelope.args).toEqual({});
      expect(await fetchOne(queue, 100)).toEqual([]);
    });

    test("a nacked task with requeue is delivered again with attempt + 1", async () => {
      await broker.publish([buildEnvelope({ name: "t.nack", queue })]);
      const [d] = await fetchOne();
      await broker.nack(d);
      const [again] = await fetchOne();
      expect(again.envelope.id).toBe(d.envelope.id);
      expect(again.envelope.attempt).toBe(1);
    });

    test("a nack with countAttempt false and a delay keeps the attempt and waits", async () => {
      await broker.publish([buildEnvelope({ name: "t.defer", queue })]);
      const [d] = await fetchOne();
      await broker.nack(d, { delayMs: 300, countAttempt: false });
      expect(await fetchOne(queue, 100)).toEqual([]);
      const [again] = await fetchOne(queue, 1500);
      expect(again.envelope.attempt).toBe(0);
    });

    test("a nacked task without requeue is dropped", async () => {
      await broker.publish([buildEnvelope({ name: "t.drop", queue })]);
      const [d] = await fetchOne();
      await broker.nack(d, { requeue: false });
      expect(await fetchOne(queue, 200)).toEqual([]);
      const [stats] = await broker.stats([queue]);
      expect(stats.pending + stats.inflight + stats.delayed).toBe(0);
    });

    test("an unacked task is redelivered with attempt + 1 after its lease expires", async () => {
      await broker.publish([buildEnvelope({ name: "t.lease", queue })]);
      const [d] = await fetchOne();
      expect(d.leaseExpiresAt).toBeGreaterThan(Date.now());
      expect(await fetchOne(queue, LEASE / 2)).toEqual([]);
      const [again] = await fetchOne(queue, LEASE * 4);
      expect(again.envelope.id).toBe(d.envelope.id);
      expect(again.envelope.attempt).toBe(1);
      // The first delivery's lease is gone: its ack must not remove the new delivery.
      await broker.ack([d]);
      expect(await broker.extendLease(d, 1000)).toBe(false);
      const [stats] = await broker.stats([queue]);
      expect(stats.inflight).toBe(1);
      await broker.ack([again]);
    });

    test("every delivery is counted, lease-expiry redeliveries and retries alike", async () => {
      await broker.publish([buildEnvelope({ name: "t.count", queue })]);
      const [first] = await fetchOne();
      expect(first.deliveries).toBe(1);
      expect(first.afterLeaseLoss).toBe(false);
      // The lease runs out (the worker died): the next delivery says so.
      const [second] = await fetchOne(queue, LEASE * 4);
      expect(second.deliveries).toBe(2);
      expect(second.afterLeaseLoss).toBe(true);
      await broker.nack(second);
      const [third] = await fetchOne();
      expect(third.deliveries).toBe(3);
      expect(third.afterLeaseLoss).toBe(false);
      await broker.nack(third, { delayMs: 50 });
      const [fourth] = await fetchOne(queue, 2000);
      expect(fourth.deliveries).toBe(4);
      await broker.ack([fourth]);
    });

    test("a release that does not count the attempt gives its delivery back", async () => {
      await broker.publish([buildEnvelope({ name: "t.uncounted", queue })]);
      const [d] = await fetchOne();
      await broker.nack(d, { countAttempt: false });
      const [again] = await fetchOne();
      expect(again.deliveries).toBe(1);
      await broker.nack(again, { countAttempt: false, delayMs: 50 });
      const [later] = await fetchOne(queue, 2000);
      expect(later.deliveries).toBe(1);
      await broker.ack([later]);
    });

    test("an envelope's own visibilityTimeoutMs sets its lease", async () => {
      await broker.publish([buildEnvelope({ name: "t.vis", queue, visibilityTimeoutMs: 150 })]);
      const [d] = await broker.fetch([queue], { max: 1, leaseMs: 60_000, consumer: "c1" });
      expect(d.leaseExpiresAt - Date.now()).toBeLessThan(1000);
      const [again] = await fetchOne(queue, 2000);
      expect(again.envelope.attempt).toBe(1);
    });

    test("extending a lease prevents redelivery", async () => {
      await broker.publish([buildEnvelope({ name: "t.extend", queue })]);
      const [d] = await fetchOne();
      await sleep(LEASE / 2);
      expect(await broker.extendLease(d, LEASE * 3)).toBe(true);
      await sleep(LEASE);
      expect(await fetchOne(queue, 50)).toEqual([]);
      await broker.ack([d]);
    });

    test("a delayed task is not delivered before notBefore", async () => {
      const notBefore = Date.now() + 500;
      await broker.publish([buildEnvelope({ name: "t.delay", queue, notBefore })]);
      const [stats] = await broker.stats([queue]);
      expect(stats).toMatchObject({ pending: 0, delayed: 1 });
      expect(await fetchOne(queue, 200)).toEqual([]);
      const [d] = await fetchOne(queue, 2000);
      expect(Date.now()).toBeGreaterThanOrEqual(notBefore - 5);
      expect(d.envelope.name).toBe("t.delay");
    });

    test("higher priorities are delivered first within a queue", async () => {
      const envs = [1, 9, 5, 9, 0].map((priority, i) =>
        buildEnvelope({ name: "t.prio", queue, priority, args: { i } }),
      );
      await broker.publish(envs);
      const got = await broker.fetch([queue], { max: 5, leaseMs: LEASE, consumer: "c1" });
      expect(got.map((d) => d.envelope.priority)).toEqual([9, 9, 5, 1, 0]);
      expect(got.slice(0, 2).map((d) => d.envelope.args.i)).toEqual([1, 3]);
    });

    test("queues are isolated from each other", async () => {
      const other = uniqueName("q-other");
      await broker.publish([buildEnvelope({ name: "t.iso", queue: other })]);
      expect(await fetchOne(queue, 100)).toEqual([]);
      const [d] = await fetchOne(other);
      expect(d.queue).toBe(other);
      await broker.purge(other);
    });

    test("a waiting fetch wakes when a task is published from another instance", async () => {
      const producer = await ctx.peer();
      const started = Date.now();
      const pending = fetchOne(queue, 3000);
      await sleep(100);
      await producer.publish([buildEnvelope({ name: "t.wake", queue })]);
      const [d] = await pending;
      expect(d.envelope.name).toBe("t.wake");
      expect(Date.now() - started).toBeLessThan(1500);
    });

    test("two consumers on separate instances never receive the same task", async () => {
      const other = await ctx.peer();
      await broker.publish(
        Array.from({ length: 40 }, (_, i) => buildEnvelope({ name: "t.race", queue, args: { i } })),
      );
      const seen: string[] = [];
      const drain = async (b: Broker, consumer: string) => {
        for (;;) {
          const got = await b.fetch([queue], { max: 3, leaseMs: 5000, consumer, waitMs: 50 });
          if (got.length === 0) return;
          seen.push(...got.map((d) => d.envelope.id));
          await b.ack(got);
        }
      };
      await Promise.all([drain(broker, "a"), drain(other, "b")]);
      expect(seen.length).toBe(40);
      expect(new Set(seen).size).toBe(40);
    });

    test("dead letters keep reason and meta, and can be listed, shown and purged", async () => {
      const envs = [0, 1, 2].map((i) => buildEnvelope({ name: "t.dead", queue, args: { i } }));
      await broker.publish(envs);
      const ds = await broker.fetch([queue], { max: 3, leaseMs: LEASE, consumer: "c1" });
      for (const d of ds) {
        await broker.deadLetter(d, "max-retries-exhausted", { error: `boom ${d.envelope.args.i}` });
        await sleep(5);
      }
      const listed = await broker.listDeadLetters({ queue });
      expect(listed.map((e) => e.envelope.args.i)).toEqual([2, 1, 0]);
      expect(listed[0]).toMatchObject({ queue, reason: "max-retries-exhausted" });
      expect(listed[0].meta).toEqual({ error: "boom 2" });
      const page = await broker.listDeadLetters({ queue, limit: 1, offset: 1 });
      expect(page.map((e) => e.envelope.args.i)).toEqual([1]);
      const since = await broker.listDeadLetters({ queue, since: listed[0].deadAt });
      expect(since.map((e) => e.envelope.args.i)).toEqual([2]);
      const one = await broker.getDeadLetter(envs[1].id);
      expect(one?.envelope.id).toBe(envs[1].id);
      expect(await broker.getDeadLetter("no-such-id")).toBeNull();
      const [stats] = await broker.stats([queue]);
      expect(stats).toMatchObject({ dead: 3, pending: 0, inflight: 0 });
      expect(await broker.purgeDeadLetters({ queue })).toBe(3);
      expect(await broker.listDeadLetters({ queue })).toEqual([]);
    });

    test("dead letters before a time can be listed, counted (dry run) and purged, oldest first", async () => {
      await broker.publish(
        [0, 1, 2].map((i) => buildEnvelope({ name: "t.old", queue, args: { i } })),
      );
      for (const d of await broker.fetch([queue], { max: 3, leaseMs: LEASE, consumer: "c1" })) {
        await broker.deadLetter(d, "boom");
        await sleep(5);
      }
      const [newest, middle] = await broker.listDeadLetters({ queue });
      const before = newest.deadAt;
      const older = await broker.listDeadLetters({ queue, before });
      expect(older.map((e) => e.envelope.args.i)).toEqual([1, 0]);
      expect(await broker.purgeDeadLetters({ queue, before, dryRun: true })).toBe(2);
      expect(await broker.purgeDeadLetters({ before, dryRun: true, limit: 1 })).toBe(1);
      expect((await broker.listDeadLetters({ queue })).length).toBe(3);
      expect(await broker.purgeDeadLetters({ queue, before, limit: 1 })).toBe(1);
      expect((await broker.listDeadLetters({ queue })).map((e) => e.envelope.args.i)).toEqual([
        2, 1,
      ]);
      expect(await broker.purgeDeadLetters({ queue, before: middle.deadAt + 1 })).toBe(1);
      expect((await broker.listDeadLetters({ queue })).map((e) => e.envelope.args.i)).toEqual([2]);
    });

    test("replaying a dead letter re-delivers it with attempts and deliveries reset and the replay counted", async () => {
      const env = buildEnvelope({ name: "t.replay", queue, maxRetries: 2 });
      await broker.publish([env]);
      let [d] = await fetchOne();
      await broker.nack(d);
      [d] = await fetchOne();
      expect(d.envelope.attempt).toBe(1);
      await broker.deadLetter(d, "boom");
      const dry = await broker.replayDeadLetters({ queue, dryRun: true });
      expect(dry.dryRun).toBe(true);
      expect(dry.entries.map((e) => e.envelope.id)).toEqual([env.id]);
      expect(await broker.getDeadLetter(env.id)).not.toBeNull();
      expect(await fetchOne(queue, 100)).toEqual([]);
      const real = await broker.replayDeadLetters({ queue });
      expect(real.dryRun).toBe(false);
      expect(real.entries.map((e) => e.envelope.id)).toEqual([env.id]);
      expect(await broker.getDeadLetter(env.id)).toBeNull();
      const [again] = await fetchOne();
      expect(again.envelope.id).toBe(env.id);
      expect(again.envelope.attempt).toBe(0);
      expect(again.deliveries).toBe(1);
      expect(again.envelope.meta["stem.replay.count"]).toBe(1);
    });

    test("a replay with a delay is not visible before the delay", async () => {
      await broker.publish([buildEnvelope({ name: "t.replay-delay", queue })]);
      const [d] = await fetchOne();
      await broker.deadLetter(d, "boom");
      await broker.replayDeadLetters({ ids: [d.envelope.id], delayMs: 400 });
      expect(await fetchOne(queue, 150)).toEqual([]);
      const [again] = await fetchOne(queue, 2000);
      expect(again.envelope.id).toBe(d.envelope.id);
    });

    test("stats count pending, in-flight and delayed tasks per queue", async () => {
      await broker.publish([
        buildEnvelope({ name: "t.s", queue }),
        buildEnvelope({ name: "t.s", queue }),
        buildEnvelope({ name: "t.s", queue }),
        buildEnvelope({ name: "t.s", queue, notBefore: Date.now() + 60_000 }),
      ]);
      const leased: Delivery[] = await broker.fetch([queue], {
        max: 1,
        leaseMs: 10_000,
        consumer: "c1",
      });
      expect(leased.length).toBe(1);
      const [stats] = await broker.stats([queue]);
      expect(stats).toEqual({ queue, pending: 2, inflight: 1, delayed: 1, dead: 0 });
      const all = await broker.stats();
      expect(all.find((s) => s.queue === queue)).toEqual(stats);
    });

    test("purging a queue removes its pending and delayed tasks", async () => {
      await broker.publish([
        buildEnvelope({ name: "t.p", queue }),
        buildEnvelope({ name: "t.p", queue, notBefore: Date.now() + 60_000 }),
      ]);
      expect(await broker.purge(queue)).toBe(2);
      expect(await fetchOne(queue, 100)).toEqual([]);
      const [stats] = await broker.stats([queue]);
      expect(stats).toMatchObject({ pending: 0, delayed: 0 });
    });
  });
  brokerEdgeContract(name, factory);
}
