import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Broker, ResultBackend } from "../adapters/contracts.ts";
import type { TaskState } from "../core/states.ts";
import { Stem } from "../core/stem.ts";
import { type ContractFactory, type ContractSubject, uniqueName } from "./harness.ts";

/**
 * `Stem.enqueueOnce` on a broker and result backend of one store (the broker's
 * `publishWithStatusesUnlessStarted` where it has one, else reads and publishes): a task
 * is published under its id unless its status shows it started or finished.
 */
export function enqueueOnceContract(
  name: string,
  factory: ContractFactory<{ backend: ResultBackend; broker: Broker }>,
): void {
  describe(`Enqueue-once contract: ${name}`, () => {
    let ctx: ContractSubject<{ backend: ResultBackend; broker: Broker }>;
    beforeEach(async () => {
      ctx = await factory.create();
    });
    afterEach(async () => {
      await ctx.cleanup();
    });

    test("a task that started or finished is left alone; a queued or new one is published", async () => {
      const { broker, backend } = ctx.subject;
      const stem = new Stem({ broker, backend });
      const queue = uniqueName("once");
      const id = (what: string) => `${queue}-${what}`;
      const call = (what: string) => ({
        name: "t.once",
        args: { what },
        options: { taskId: id(what), queue },
      });
      const stored = async (what: string, state: TaskState) => {
        const now = Date.now();
        await backend.set([
          {
            id: id(what),
            name: "t.once",
            queue,
            state,
            attempt: 1,
            meta: {},
            createdAt: now,
            updatedAt: now,
          },
        ]);
      };
      await stored("finished", "succeeded");
      await stored("running", "running");
      // Its status was stored, then its publish failed.
      await stored("unpublished", "queued");
      // Published already and still queued: the broker refuses it again.
      await stem.enqueueMany([call("waiting")]);

      const calls = ["new", "finished", "running", "unpublished", "waiting"].map(call);
      expect(await stem.enqueueOnce(calls)).toEqual(calls.map((c) => c.options.taskId));

      const deliveries = await broker.fetch([queue], { max: 10, leaseMs: 30_000, consumer: "c" });
      expect(deliveries.map((d) => d.envelope.args.what).sort()).toEqual([
        "new",
        "unpublished",
        "waiting",
      ]);
      const states = await backend.getMany(["new", "finished", "running", "unpublished"].map(id));
      expect(states.map((s) => s?.state)).toEqual(["queued", "succeeded", "running", "queued"]);
    });
  });
}
