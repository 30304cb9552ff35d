import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { StoreConnection } from "../adapters/contracts.ts";
import { buildEnvelope } from "../core/envelope.ts";
import { Housekeeping } from "../worker/housekeeping.ts";
import { PAUSE_NAMESPACE, REVOKE_NAMESPACE, persistPause } from "../worker/revocations.ts";
import { DEFAULT_REVOCATION_EXPIRY_MS, revokeEntries } from "../worker/revoke-entries.ts";
import { FakeClock } from "./fake-clock.ts";
import { type ContractFactory, type ContractSubject, sleep, uniqueName } from "./harness.ts";

const DAY = 86_400_000;

/**
 * The retention every adapter must honour through the workers' housekeeping: dead letters
 * go after their retention, revocations and queue resumes once expired, a bounded batch
 * per sweep. The subject is a whole connection; the suite's fake clock starts at the real
 * time (stores that stamp entries with the server's clock agree with it) and is advanced
 * past each retention.
 */
export function retentionContract(name: string, factory: ContractFactory<StoreConnection>): void {
  describe(`Retention contract: ${name}`, () => {
    let ctx: ContractSubject<StoreConnection>;
    let store: StoreConnection;
    let clock: FakeClock;
    let queue: string;
    const housekeeping = (options: { deadLetterRetention?: string; batch?: number } = {}) =>
      new Housekeeping({
        broker: store.broker(),
        backend: store.resultBackend(),
        revokeStore: store.revokeStore(),
        lockStore: store.lockStore(),
        clock,
        owner: uniqueName("worker"),
        ...options,
      });
    const deadLetter = async (count: number) => {
      const broker = store.broker();
      await broker.publish(
        Array.from({ length: count }, (_, i) =>
          buildEnvelope({ name: "t.dead", queue, args: { i } }),
        ),
      );
      const deliveries = await broker.fetch([queue], {
        max: count,
        leaseMs: 30_000,
        consumer: "c",
      });
      for (const d of deliveries) await broker.deadLetter(d, "boom");
    };

    beforeEach(async () => {
      ctx = await factory.create();
      store = ctx.subject;
      clock = new FakeClock(Date.now());
      queue = uniqueName("retention");
    });
    afterEach(async () => {
      await ctx.cleanup();
    });

    test("dead letters are kept for 30 days by default, then deleted, a batch per sweep", async () => {
      await deadLetter(3);
      const keeper = housekeeping({ batch: 2 });
      expect(await keeper.sweep()).toMatchObject({ deadLetters: 0 });
      await clock.advance(30 * DAY - 60_000);
      expect(await keeper.sweep()).toMatchObject({ deadLetters: 0 });
      expect((await store.broker().stats([queue]))[0].dead).toBe(3);
      await clock.advance(2 * 60_000);
      expect(await keeper.sweep()).toMatchObject({ deadLetters: 2 });
      expect(await keeper.sweep()).toMatchObject({ deadLetters: 1 });
      expect(await store.broker().listDeadLetters({ queue })).toEqual([]);
    });

    test("a configured dead-letter retention applies; 0 keeps dead letters forever", async () => {
      await deadLetter(1);
      const [older] = await store.broker().listDeadLetters({ queue });
      clock = new FakeClock(older.deadAt + 2 * DAY);
      expect(await housekeeping({ deadLetterRetention: "0" }).sweep()).toMatchObject({
        deadLetters: 0,
      });
      expect(await housekeeping({ deadLetterRetention: "3d" }).sweep()).toMatchObject({
        deadLetters: 0,
      });
      await sleep(5);
      await deadLetter(1);
      const [younger] = await store.broker().listDeadLetters({ queue, limit: 1 });
      expect(younger.deadAt).toBeGreaterThan(older.deadAt);
      // The cutoff falls on the younger one: only the one dead-lettered before it goes.
      clock = new FakeClock(younger.deadAt + DAY);
      expect(await housekeeping({ deadLetterRetention: "1d" }).sweep()).toMatchObject({
        deadLetters: 1,
      });
      expect((await store.broker().listDeadLetters({ queue })).map((d) => d.envelope.id)).toEqual([
        younger.envelope.id,
      ]);
    });

    test("revocations expire after 7 days by default, queue resumes at once; pauses stay", async () => {
      const revokes = store.revokeStore();
      const ids = [uniqueName("task"), uniqueName("task")];
      const request = { terminate: false, reason: "r", requestedBy: "test" };
      const entries = revokeEntries(ids, request, clock.now());
      expect(entries[0].expiresAt).toBe(clock.now() + DEFAULT_REVOCATION_EXPIRY_MS);
      await revokes.upsertAll(entries);
      const [paused, resumed] = [uniqueName("q"), uniqueName("q")];
      await persistPause(revokes, [paused, resumed], true, clock.now());
      await persistPause(revokes, [resumed], false, clock.now() + 1);
      const keeper = housekeeping();
      await clock.advance(1);
      expect(await keeper.sweep()).toMatchObject({ revocations: 1 });
      expect((await revokes.list(PAUSE_NAMESPACE)).map((e) => e.taskId)).toEqual([paused]);
      await clock.advance(DEFAULT_REVOCATION_EXPIRY_MS - 2);
      expect(await keeper.sweep()).toMatchObject({ revocations: 0 });
      expect((await revokes.list(REVOKE_NAMESPACE)).length).toBe(2);
      await clock.advance(1);
      expect(await keeper.sweep()).toMatchObject({ revocations: 2 });
      expect(await revokes.list(REVOKE_NAMESPACE)).toEqual([]);
      expect((await revokes.list(PAUSE_NAMESPACE)).map((e) => e.taskId)).toEqual([paused]);
    });

    test("one housekeeper sweeps at a time: another waits while the lock is held", async () => {
      const first = housekeeping();
      const second = housekeeping();
      expect(await first.tick()).not.toBeNull();
      expect(await second.tick()).toBeNull();
      await first.stop();
      expect(await second.tick()).not.toBeNull();
      await second.stop();
    });
  });
}
