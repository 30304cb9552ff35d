/**
 * Chord failure policy and timeout on the in-memory client with a fake clock: a partial
 * chord runs its callback with the results there are; a chord whose members have not all
 * settled by its timeout fails with reason `chord-timeout` and never runs its callback,
 * even when the late member settles afterwards; the timeout check of a chord that
 * finished in time changes nothing.
 */
import { afterEach, describe, expect, test } from "bun:test";
import {
  Canvas,
  CanvasError,
  chord,
  defineTask,
  FakeClock,
  FixedRetryStrategy,
  Stem,
  StemClient,
  StemError,
  TaskRegistry,
  task,
} from "../../src/index.ts";
import { injectFaults } from "../../src/testing/faults.ts";
import { eventually } from "../../src/testing/harness.ts";

const callbackRuns: unknown[] = [];
/** Releases the tasks that wait on it. */
let release: () => void = () => {};
let released = new Promise<void>((r) => {
  release = r;
});

const add = defineTask<{ a: number; b: number }>({
  name: "p.add",
  run: (_ctx, { a, b }) => a + b,
});
const boom = defineTask({
  name: "p.boom",
  run: () => {
    throw new RangeError("member failed");
  },
});
/** Settles only when the test releases it. */
const hang = defineTask<{ value: number }>({
  name: "p.hang",
  run: async (_ctx, { value }) => {
    await released;
    return value;
  },
});
const collect = defineTask<{ results: unknown[]; failures?: unknown[] }>({
  name: "p.collect",
  run: (_ctx, args) => {
    callbackRuns.push(args);
    return { results: args.results, failures: args.failures ?? [] };
  },
});

const opened: StemClient[] = [];
afterEach(async () => {
  release();
  for (const c of opened.splice(0)) await c.close();
  callbackRuns.length = 0;
  released = new Promise<void>((r) => {
    release = r;
  });
});

async function setup() {
  const clock = new FakeClock(Date.now());
  const client = await StemClient.inMemory({ tasks: [add, boom, hang, collect], clock });
  opened.push(client);
  await client.createWorker({ concurrency: 8 }).start();
  return { client, clock };
}

async function failure(promise: Promise<unknown>): Promise<CanvasError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CanvasError);
    return error as CanvasError;
  }
  throw new Error("expected the canvas to fail");
}

describe("chord failure policy", () => {
  test('"partial" runs the callback with null for failed members and their errors in args.failures', async () => {
    const { client } = await setup();
    const handle = await client.canvas.chord(
      [task("p.add", { a: 1, b: 1 }), task("p.boom"), task("p.add", { a: 2, b: 2 })],
      task("p.collect"),
      { onMemberFailure: "partial" },
    );
    const members = await handle.members();
    const result = (await handle.get({ timeout: "5s" })) as {
      results: unknown[];
      failures: { index: number; id: string; error: { type: string; message: string } }[];
    };
    expect(result.results).toEqual([2, null, 4]);
    expect(result.failures).toEqual([
      {
        index: 1,
        id: members[1].id,
        error: expect.objectContaining({ type: "RangeError", message: "member failed" }),
      },
    ]);
    expect(callbackRuns).toHaveLength(1);
    expect(await handle.status()).toMatchObject({ state: "succeeded", completed: 3 });
  });

  test('the default ("fail") fails the chord with the member\'s error and never runs the callback', async () => {
    const { client } = await setup();
    const handle = await client.canvas.chord(
      [task("p.add", { a: 1, b: 1 }), task("p.boom")],
      task("p.collect"),
    );
    const error = await failure(handle.get({ timeout: "5s" }));
    expect(error.memberError.message).toBe("member failed");
    expect(callbackRuns).toHaveLength(0);
  });

  test("a bad policy or timeout is refused at start, naming the option", async () => {
    const { client } = await setup();
    const members = [task("p.add", { a: 1, b: 1 })];
    await expect(
      client.canvas.chord(members, task("p.collect"), { onMemberFailure: "ignore" as never }),
    ).rejects.toThrow(/onMemberFailure must be "fail" or "partial"/);
    await expect(
      client.canvas.chord(members, task("p.collect"), { timeout: "soon" }),
    ).rejects.toBeInstanceOf(StemError);
    await expect(client.canvas.chord(members, task("p.collect"), { timeout: 0 })).rejects.toThrow(
      /timeout must be positive/,
    );
  });
});

describe("chord timeout", () => {
  test("members not settled by the timeout fail the chord with chord-timeout; a late member starts nothing", async () => {
    const { client, clock } = await setup();
    const handle = await client.canvas.chord(
      [task("p.add", { a: 1, b: 1 }), task("p.hang", { value: 5 })],
      task("p.collect"),
      { timeout: "1m" },
    );
    const [, late, callback] = await handle.members();
    await eventually(async () => (await handle.status()).completed === 1);
    expect((await client.getTaskStatus(handle.id))?.meta.timeoutAt).toBe(clock.now() + 60_000);
    await clock.advance(60_000);
    const error = await failure(handle.get({ timeout: "5s" }));
    expect(error.memberError.type).toBe("ChordTimeout");
    expect(error.memberError.message).toContain("1 of 2 members had not settled");
    const record = await client.getTaskStatus(handle.id);
    expect(record).toMatchObject({ state: "failed" });
    expect(record?.meta).toMatchObject({ reason: "chord-timeout", missing: [late.id] });
    const check = await client.waitForTask(`${handle.id}:timeout`, { timeout: "5s" });
    expect(check.value).toEqual({ chordId: handle.id, timedOut: true });
    expect((await client.getTaskStatus(callback.id))?.meta.reason).toBe("chord-timeout");
    // The late member settles now: it is recorded, and the callback still never runs.
    release();
    await client.waitForTask(late.id, { timeout: "5s" });
    await eventually(async () => (await handle.status()).completed === 2);
    expect(callbackRuns).toHaveLength(0);
    expect((await client.getTaskStatus(handle.id))?.state).toBe("failed");
    expect((await client.getTaskStatus(callback.id))?.state).toBe("revoked");
  });

  test("the timeout check of a chord that finished in time changes nothing", async () => {
    const { client, clock } = await setup();
    const handle = await client.canvas.chord(
      [task("p.add", { a: 1, b: 1 }), task("p.add", { a: 2, b: 3 })],
      task("p.collect"),
      { timeout: "1m" },
    );
    expect(await handle.get({ timeout: "5s" })).toEqual({ results: [2, 5], failures: [] });
    await clock.advance(60_000);
    const check = await client.waitForTask(`${handle.id}:timeout`, { timeout: "5s" });
    expect(check.value).toEqual({ chordId: handle.id, timedOut: false });
    expect((await client.getTaskStatus(handle.id))?.state).toBe("succeeded");
    expect(callbackRuns).toHaveLength(1);
  });

  test("a check whose store call fails is retried and still times the chord out", async () => {
    const clock = new FakeClock(Date.now());
    const tasks = [add, hang, collect];
    const client = await StemClient.inMemory({ tasks, clock });
    opened.push(client);
    // The workers' check runs on a canvas whose result backend fails its first claim.
    const faulty = injectFaults(client.backend, { method: "claimChord", nth: 1 });
    const canvas = new Canvas(new Stem({ broker: client.broker, backend: faulty.store }), clock);
    await client
      .createWorker({
        tasks: new TaskRegistry([...tasks, canvas.timeoutTask]),
        retryStrategy: new FixedRetryStrategy(1000),
      })
      .start();
    const handle = await client.canvas.chord([task("p.hang", { value: 1 })], task("p.collect"), {
      timeout: "1m",
    });
    await eventually(async () => (await client.stem.broker.stats(["default"]))[0].inflight === 1);
    await clock.advance(60_000);
    const checkId = `${handle.id}:timeout`;
    await eventually(async () => (await client.getTaskStatus(checkId))?.state === "retrying");
    expect(faulty.injected()).toBe(1);
    await clock.advance(1000);
    const error = await failure(handle.get({ timeout: "5s" }));
    expect(error.memberError.type).toBe("ChordTimeout");
    expect((await client.waitForTask(checkId, { timeout: "5s" })).value).toEqual({
      chordId: handle.id,
      timedOut: true,
    });
  });

  test("a chord timing out inside a chain aborts the chain with the timeout error", async () => {
    const { client, clock } = await setup();
    const handle = await client.canvas.chain([
      chord([task("p.hang", { value: 1 })], task("p.collect"), { timeout: "30s" }),
      task("p.add", { a: 1, b: 1 }),
    ]);
    await eventually(async () => (await client.stem.broker.stats(["default"]))[0].inflight === 1);
    await clock.advance(30_000);
    const error = await failure(handle.get({ timeout: "5s" }));
    expect(error.memberError.type).toBe("ChordTimeout");
    const members = await handle.members();
    expect(members.map((m) => m.state)).toEqual(["failed", "revoked"]);
  });
});
