/**
 * Rate-limited tasks on a fake clock: a task denied a token goes back to the broker until
 * its turn, holding no prefetch slot, keeping its order, and spending no attempt.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { defineTask, FakeClock, StemClient } from "../../src/index.ts";
import { eventually } from "../../src/testing/harness.ts";

const opened: StemClient[] = [];
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close();
});

describe("rate-limited tasks", () => {
  test("a 1/m burst waits in the broker, one turn a minute, in order, while other tasks run", async () => {
    const clock = new FakeClock();
    const ran: string[] = [];
    const limited = defineTask<{ n: number }>({
      name: "limited",
      options: { rateLimit: "1/m", maxRetries: 1 },
      run: (_ctx, { n }) => void ran.push(`limited ${n}`),
    });
    const other = defineTask({ name: "other", run: () => void ran.push("other") });
    const client = await StemClient.inMemory({ tasks: [limited, other], clock });
    opened.push(client);
    const ids = await client.stem.enqueueMany([
      ...Array.from({ length: 8 }, (_, n) => ({ name: "limited", args: { n }, options: {} })),
      { name: "other", args: {}, options: {} },
    ]);
    const worker = client.createWorker({ concurrency: 2, prefetch: 2 });
    await worker.start();
    // No time passes: the other task is not stuck behind the seven waiting for tokens.
    await eventually(() => ran.includes("other"), 5000, "the other task to run");
    expect(ran).toEqual(["limited 0", "other"]);
    const [stats] = await eventually(async () => {
      const s = await client.broker.stats(["default"]);
      return s[0].delayed === 7 && worker.stats().inflight === 0 ? s : undefined;
    });
    expect(stats).toMatchObject({ pending: 0, inflight: 0, delayed: 7 });

    for (let n = 1; n < 8; n++) {
      await clock.advance(59_000);
      expect(ran).not.toContain(`limited ${n}`);
      await clock.advance(1_000);
      await eventually(async () => {
        await clock.advance(1);
        return ran.includes(`limited ${n}`);
      }, 5000);
    }
    expect(ran.filter((r) => r !== "other")).toEqual(
      Array.from({ length: 8 }, (_, n) => `limited ${n}`),
    );
    // Waiting for a token is not an attempt: every task ran on its first.
    const statuses = await Promise.all(ids.map((id) => client.getTaskStatus(id)));
    expect(new Set(statuses.map((s) => s?.state))).toEqual(new Set(["succeeded"]));
    expect(new Set(statuses.map((s) => s?.attempt))).toEqual(new Set([statuses[0]!.attempt]));
  });
});
