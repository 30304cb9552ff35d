/**
 * Canvas on the in-memory client: chains pass results forward, groups keep the order
 * given, chords run their callback once with the ordered results, failures stop what
 * should stop and carry the member's error, and shapes nest.
 */
import { afterEach, describe, expect, test } from "bun:test";
import {
  CanvasError,
  chain,
  chord,
  defineTask,
  group,
  StemClient,
  StemError,
  task,
  type Worker,
} from "../../src/index.ts";
import { eventually, sleep } from "../../src/testing/harness.ts";

const finished: unknown[] = [];
const runs = new Map<string, number>();
const count = (name: string) => runs.set(name, (runs.get(name) ?? 0) + 1);

const add = defineTask<{ a: number; b: number }>({
  name: "t.add",
  run: (_ctx, { a, b }) => {
    count("t.add");
    return a + b;
  },
});
const times = defineTask<{ value: number; by: number }>({
  name: "t.times",
  run: (_ctx, { value, by }) => {
    count("t.times");
    return value * by;
  },
});
const file = defineTask({ name: "t.file", run: () => ({ file: "img-small.png", size: 1 }) });
const show = defineTask({
  name: "t.show",
  run: (ctx) => ({ previous: ctx.previousResult ?? null, args: ctx.args }),
});
const nap = defineTask<{ ms: number; value: unknown }>({
  name: "t.nap",
  run: async (_ctx, { ms, value }) => {
    await sleep(ms);
    finished.push(value);
    return value;
  },
});
const boom = defineTask<{ message: string }>({
  name: "t.boom",
  run: (_ctx, { message }) => {
    count("t.boom");
    throw new RangeError(message);
  },
});
const collect = defineTask<{ results: unknown[] }>({
  name: "t.collect",
  run: (ctx, { results }) => {
    count("t.collect");
    return { results, previous: ctx.previousResult };
  },
});
const sum = defineTask<{ results: number[] }>({
  name: "t.sum",
  run: (_ctx, { results }) => results.reduce((n, v) => n + v, 0),
});
const where = defineTask({
  name: "t.where",
  run: (ctx) => ({ group: ctx.headers["stem-group-id"], index: ctx.meta["stem.group.index"] }),
});

const tasks = [add, times, file, show, nap, boom, collect, sum, where];
const opened: StemClient[] = [];
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close();
  finished.length = 0;
  runs.clear();
});

async function setup(concurrency = 8): Promise<{ client: StemClient; worker: Worker }> {
  const client = await StemClient.inMemory({ tasks });
  opened.push(client);
  const worker = client.createWorker({ concurrency });
  await worker.start();
  return { client, worker };
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

describe("chain", () => {
  test("each step receives the previous result, as ctx.previousResult and as args when asked", async () => {
    const { client } = await setup();
    const handle = await client.canvas.chain([
      task("t.add", { a: 1, b: 2 }),
      task("t.times", { by: 10 }, { previousAs: "value" }),
      task("t.show", { tag: "x" }, { mergePrevious: true }),
    ]);
    expect(await handle.get({ timeout: "5s" })).toEqual({
      previous: 30,
      args: { previous: 30, tag: "x" },
    });
    const record = await client.getTaskStatus(handle.id);
    expect(record?.name).toBe("stem.chain");
    expect(record?.state).toBe("succeeded");
    expect(record?.meta.members).toHaveLength(3);
    const members = await handle.members();
    expect(members.map((m) => [m.name, m.state, m.result])).toEqual([
      ["t.add", "succeeded", 3],
      ["t.times", "succeeded", 30],
      ["t.show", "succeeded", { previous: 30, args: { previous: 30, tag: "x" } }],
    ]);
    expect((await handle.status()).completed).toBe(3);
  });

  test("mergePrevious merges an object result under the step's own args", async () => {
    const { client } = await setup();
    const handle = await client.canvas.chain([
      task("t.file"),
      task("t.show", { size: 2 }, { mergePrevious: true }),
    ]);
    const result = (await handle.get({ timeout: "5s" })) as { args: unknown };
    expect(result.args).toEqual({ file: "img-small.png", size: 2 });
  });

  test("a failing step stops the chain: later steps are marked not run, the error is attached", async () => {
    const { client } = await setup();
    const handle = await client.canvas.chain([
      task("t.add", { a: 1, b: 1 }),
      task("t.boom", { message: "disk full" }),
      task("t.times", { by: 2 }, { previousAs: "value" }),
      group([task("t.add", { a: 0, b: 0 })]),
    ]);
    const error = await failure(handle.get({ timeout: "5s" }));
    const members = await handle.members();
    expect(error.code).toBe("task_failed");
    expect(error.kind).toBe("chain");
    expect(error.memberId).toBe(members[1].id);
    expect(error.memberError).toMatchObject({ type: "RangeError", message: "disk full" });
    expect(members.map((m) => m.state)).toEqual(["succeeded", "failed", "revoked", "revoked"]);
    expect(members[2].status?.meta.reason).toBe("chain-aborted");
    expect(members[3].status?.meta.reason).toBe("chain-aborted");
    const record = await client.getTaskStatus(handle.id);
    expect(record?.state).toBe("failed");
    expect(record?.error?.message).toBe("disk full");
    expect(record?.meta.notRun).toEqual([members[2].id, members[3].id]);
    await sleep(100);
    expect(runs.get("t.times")).toBeUndefined();
    expect(runs.get("t.add")).toBe(1);
  });
});

describe("group", () => {
  test("results come back in the order given although members finish in reverse", async () => {
    const { client } = await setup();
    const handle = await client.canvas.group([
      task("t.nap", { ms: 300, value: "first" }),
      task("t.nap", { ms: 200, value: "second" }),
      task("t.nap", { ms: 100, value: "third" }),
      task("t.nap", { ms: 0, value: "fourth" }),
    ]);
    expect(await handle.get({ timeout: "5s" })).toEqual(["first", "second", "third", "fourth"]);
    expect(finished).toEqual(["fourth", "third", "second", "first"]);
    const status = await handle.status();
    expect(status).toMatchObject({ kind: "group", state: "succeeded", completed: 4, total: 4 });
    expect(status.record.name).toBe("stem.group");
  });

  test("members carry the group id header and their index", async () => {
    const { client } = await setup();
    const handle = await client.canvas.group([task("t.where"), task("t.where")]);
    expect(await handle.get({ timeout: "5s" })).toEqual([
      { group: handle.id, index: 0 },
      { group: handle.id, index: 1 },
    ]);
  });

  test("a failing member fails the group once every member is final, with its error", async () => {
    const { client } = await setup();
    const handle = await client.canvas.group([
      task("t.nap", { ms: 150, value: "slow" }),
      task("t.boom", { message: "bad input" }),
      task("t.add", { a: 2, b: 2 }),
    ]);
    const error = await failure(handle.get({ timeout: "5s" }));
    const members = await handle.members();
    expect(error.memberId).toBe(members[1].id);
    expect(error.memberError.message).toBe("bad input");
    expect(members.map((m) => m.state)).toEqual(["succeeded", "failed", "succeeded"]);
    expect(await handle.status()).toMatchObject({
      state: "failed",
      completed: 3,
      failedMember: members[1].id,
    });
  });

  test("a revoked member fails its group", async () => {
    const { client, worker } = await setup();
    const handle = await client.canvas.group([
      task("t.add", { a: 1, b: 1 }),
      task("t.add", { a: 2, b: 2 }, { taskId: "revoke-me", delay: "300ms" }),
    ]);
    worker.revoke([
      {
        namespace: "stem",
        taskId: "revoke-me",
        version: 1,
        issuedAt: Date.now(),
        terminate: false,
        reason: "not needed",
      },
    ]);
    const error = await failure(handle.get({ timeout: "5s" }));
    expect(error.memberId).toBe("revoke-me");
    expect(error.memberError.type).toBe("TaskRevoked");
    expect(error.memberError.message).toContain("not needed");
  });
});

describe("chord", () => {
  test("the callback runs once with the ordered results", async () => {
    const { client } = await setup();
    const handle = await client.canvas.chord(
      [
        task("t.nap", { ms: 200, value: "a" }),
        task("t.nap", { ms: 0, value: "b" }),
        task("t.nap", { ms: 100, value: "c" }),
      ],
      task("t.collect"),
    );
    expect(await handle.get({ timeout: "5s" })).toEqual({
      results: ["a", "b", "c"],
      previous: ["a", "b", "c"],
    });
    expect(runs.get("t.collect")).toBe(1);
    const members = await handle.members();
    expect(members.map((m) => [m.role, m.state])).toEqual([
      ["member", "succeeded"],
      ["member", "succeeded"],
      ["member", "succeeded"],
      ["callback", "succeeded"],
    ]);
    const record = await client.getTaskStatus(handle.id);
    expect(record).toMatchObject({ name: "stem.chord", state: "succeeded" });
    const callback = await client.getTaskStatus(members[3].id);
    expect(callback?.name).toBe("t.collect");
  });

  test("a failing member means the callback never runs and the chord carries the error", async () => {
    const { client } = await setup();
    const handle = await client.canvas.chord(
      [task("t.add", { a: 1, b: 1 }), task("t.boom", { message: "no data" })],
      task("t.collect"),
    );
    const error = await failure(handle.get({ timeout: "5s" }));
    const members = await handle.members();
    expect(error.kind).toBe("chord");
    expect(error.memberId).toBe(members[1].id);
    expect(error.memberError).toMatchObject({ type: "RangeError", message: "no data" });
    expect(members[2]).toMatchObject({ role: "callback", state: "revoked" });
    expect(members[2].status?.meta.reason).toBe("chord-aborted");
    await sleep(100);
    expect(runs.get("t.collect")).toBeUndefined();
  });

  test("a failing callback fails the chord", async () => {
    const { client } = await setup();
    const handle = await client.canvas.chord(
      [task("t.add", { a: 1, b: 1 })],
      task("t.boom", { message: "late" }),
    );
    const error = await failure(handle.get({ timeout: "5s" }));
    expect(error.memberError.message).toBe("late");
    expect(error.memberId).toBe((await handle.members())[1].id);
  });
});

describe("nesting", () => {
  test("a group inside a chain gets the previous result and passes on its ordered results", async () => {
    const { client } = await setup();
    const handle = await client.canvas.chain([
      task("t.add", { a: 1, b: 2 }),
      group([
        task("t.times", { by: 2 }, { previousAs: "value" }),
        task("t.times", { by: 3 }, { previousAs: "value" }),
      ]),
      task("t.sum", {}, { previousAs: "results" }),
    ]);
    expect(await handle.get({ timeout: "5s" })).toBe(15);
    const [, inner] = await handle.members();
    expect(inner).toMatchObject({
      kind: "group",
      name: "stem.group",
      state: "succeeded",
      result: [6, 9],
    });
  });

  test("a chain inside a group completes its member with the chain's last result", async () => {
    const { client } = await setup();
    const handle = await client.canvas.group([
      chain([
        task("t.nap", { ms: 150, value: 4 }),
        task("t.times", { by: 10 }, { previousAs: "value" }),
      ]),
      task("t.add", { a: 5, b: 5 }),
      chain([task("t.add", { a: 1, b: 0 }), task("t.show")]),
    ]);
    expect(await handle.get({ timeout: "5s" })).toEqual([40, 10, { previous: 1, args: {} }]);
  });

  test("a chord whose callback is a chain", async () => {
    const { client } = await setup();
    const handle = await client.canvas.chord(
      [task("t.add", { a: 1, b: 2 }), task("t.add", { a: 3, b: 4 })],
      chain([task("t.sum"), task("t.times", { by: 2 }, { previousAs: "value" })]),
    );
    expect(await handle.get({ timeout: "5s" })).toBe(20);
  });

  test("a chord inside a chain inside a group, three levels deep", async () => {
    const { client } = await setup();
    const handle = await client.canvas.group([
      chain([
        task("t.add", { a: 1, b: 1 }),
        chord(
          [
            task("t.times", { by: 5 }, { previousAs: "value" }),
            task("t.times", { by: 7 }, { previousAs: "value" }),
          ],
          task("t.sum"),
        ),
      ]),
      task("t.add", { a: 0, b: 1 }),
    ]);
    expect(await handle.get({ timeout: "5s" })).toEqual([24, 1]);
  });

  test("a failure deep inside fails every enclosing canvas with the failing task's error", async () => {
    const { client } = await setup();
    const handle = await client.canvas.chain([
      group([
        task("t.add", { a: 1, b: 1 }),
        chain([task("t.add", { a: 1, b: 1 }), task("t.boom", { message: "deep" })]),
      ]),
      task("t.collect"),
    ]);
    const error = await failure(handle.get({ timeout: "5s" }));
    expect(error.memberError.message).toBe("deep");
    const [inner, after] = await handle.members();
    expect(inner.state).toBe("failed");
    expect(after.state).toBe("revoked");
    const innerGroup = client.canvas.handle(inner.id);
    const [, innerChain] = await innerGroup.members();
    const deepest = await client.canvas.handle(innerChain.id).members();
    expect(error.memberId).toBe(deepest[1].id);
    await sleep(100);
    expect(runs.get("t.collect")).toBeUndefined();
  });
});

describe("starting a canvas", () => {
  test("unknown task names and empty compositions are refused before anything is stored", async () => {
    const client = await StemClient.inMemory({ tasks });
    opened.push(client);
    const unknown = client.canvas.chain([task("t.add", { a: 1, b: 1 }), group([task("t.nope")])]);
    await expect(unknown).rejects.toThrow(/unknown task "t.nope"/);
    await expect(client.canvas.group([])).rejects.toThrow(/needs at least one signature/);
    await expect(client.canvas.chord([task("t.add")], undefined as never)).rejects.toThrow(
      /needs a callback/,
    );
    const [stats] = await client.broker.stats(["default"]);
    expect(stats?.pending ?? 0).toBe(0);
    expect(await client.backend.list()).toEqual([]);
  });

  test("a canvas id that is already taken is refused", async () => {
    const { client } = await setup();
    const first = await client.canvas.group([task("t.add", { a: 1, b: 1 })], { id: "my-group" });
    expect(first.id).toBe("my-group");
    await first.get({ timeout: "5s" });
    const again = client.canvas.group([task("t.add", { a: 1, b: 1 })], { id: "my-group" });
    await expect(again).rejects.toBeInstanceOf(StemError);
  });

  test("a handle made from an id reads the canvas from the backend", async () => {
    const { client } = await setup();
    const started = await client.canvas.chord([task("t.add", { a: 2, b: 3 })], task("t.sum"));
    const handle = client.canvas.handle(started.id);
    expect(await handle.get({ timeout: "5s" })).toBe(5);
    expect(await handle.kind()).toBe("chord");
    await expect(client.canvas.handle("missing").get()).rejects.toThrow(
      /no canvas with id missing/,
    );
  });

  test("get() times out on a canvas nobody runs", async () => {
    const client = await StemClient.inMemory({ tasks });
    opened.push(client);
    const handle = await client.canvas.chain([task("t.add", { a: 1, b: 1 })]);
    await expect(handle.get({ timeout: 100 })).rejects.toThrow(
      /did not finish within 100 ms \(state: queued\)/,
    );
    expect((await handle.members())[0].state).toBe("queued");
  });
});

describe("at-least-once delivery", () => {
  /** Runs the canvas hook by hand on a delivery, as a worker would, without acking it. */
  async function settleByHand(client: StemClient, result: unknown) {
    const [delivery] = await client.broker.fetch(["default"], {
      max: 1,
      leaseMs: 30_000,
      consumer: "t",
    });
    const now = Date.now();
    const status = {
      id: delivery.envelope.id,
      name: delivery.envelope.name,
      queue: "default",
      state: "succeeded" as const,
      result,
      attempt: 0,
      meta: {},
      createdAt: now,
      updatedAt: now,
    };
    return { delivery, status, settle: () => client.canvas.settledHook(delivery.envelope, status) };
  }

  test("a chain step whose hook runs twice enqueues the next step once", async () => {
    const client = await StemClient.inMemory({ tasks });
    opened.push(client);
    await client.canvas.chain([
      task("t.add", { a: 1, b: 1 }),
      task("t.times", { by: 2 }, { previousAs: "value" }),
    ]);
    const first = await settleByHand(client, 2);
    await first.settle();
    await first.settle();
    await client.broker.ack([first.delivery]);
    const [stats] = await client.broker.stats(["default"]);
    expect(stats.pending).toBe(1);
  });

  test("a chord member redelivered after claiming the chord starts the callback it claimed", async () => {
    const client = await StemClient.inMemory({ tasks });
    opened.push(client);
    const handle = await client.canvas.chord([task("t.add", { a: 1, b: 1 })], task("t.sum"));
    const member = await settleByHand(client, 2);
    // The first run recorded the member and won the claim, then died before enqueueing.
    await client.backend.addGroupResult(handle.id, 0, member.status);
    expect(await client.backend.claimChord(handle.id, member.status.id)).toBe(true);
    await member.settle();
    await member.settle();
    const [stats] = await client.broker.stats(["default"]);
    expect(stats.pending + stats.inflight).toBe(2);
    const worker = client.createWorker();
    await worker.start();
    expect(await handle.get({ timeout: "5s" })).toBe(2);
  });

  test("a member that loses the claim does not start the callback", async () => {
    const client = await StemClient.inMemory({ tasks });
    opened.push(client);
    const handle = await client.canvas.chord([task("t.add", { a: 1, b: 1 })], task("t.sum"));
    const member = await settleByHand(client, 2);
    await client.backend.claimChord(handle.id, "someone-else");
    await member.settle();
    const [stats] = await client.broker.stats(["default"]);
    expect(stats.pending).toBe(0);
    await eventually(async () => (await client.backend.getGroup(handle.id))?.completed === 1);
  });
});
