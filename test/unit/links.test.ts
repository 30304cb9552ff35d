/**
 * Task callbacks (`link` / `linkError`) on the in-memory client: a success callback gets
 * the result the way a chain step does, an error callback gets the failure once the task
 * fails for good (not on a retry), neither runs for an expired task, and bad callbacks
 * are refused at enqueue, naming the option.
 */

import { afterEach, describe, expect, test } from "bun:test";
import {
  defineTask,
  FixedRetryStrategy,
  Stem,
  StemClient,
  StemError,
  task,
  UnrecoverableError,
} from "../../src/index.ts";
import { eventually, sleep } from "../../src/testing/harness.ts";
import { runExample } from "../fixtures/examples.ts";

/** What each callback run saw, by task id. */
const seen = new Map<string, { args: Record<string, unknown>; previous: unknown }[]>();
const record = (id: string, args: Record<string, unknown>, previous: unknown) =>
  seen.set(id, [...(seen.get(id) ?? []), { args, previous }]);

const add = defineTask<{ a: number; b: number }>({
  name: "l.add",
  run: (_ctx, { a, b }) => a + b,
});
const flaky = defineTask({
  name: "l.flaky",
  options: { maxRetries: 2 },
  run: () => {
    throw new RangeError("always broken");
  },
});
const declined = defineTask({
  name: "l.declined",
  options: { maxRetries: 5 },
  run: () => {
    throw new UnrecoverableError("card declined");
  },
});
const note = defineTask({
  name: "l.note",
  run: (ctx) => {
    record(ctx.id, ctx.args, ctx.previousResult);
    return "noted";
  },
});
const quiet = defineTask({ name: "l.quiet", options: { ignoreResult: true }, run: () => null });

const tasks = [add, flaky, declined, note, quiet];
const opened: StemClient[] = [];
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close();
  seen.clear();
});

async function setup(): Promise<StemClient> {
  const client = await StemClient.inMemory({ tasks });
  opened.push(client);
  const worker = client.createWorker({ retryStrategy: new FixedRetryStrategy("10ms") });
  await worker.start();
  return client;
}

/** Waits until the task `id` has finished and returns its status. */
async function finished(client: StemClient, id: string) {
  const result = await client.waitForTask(id, { timeout: "5s" });
  return result.status;
}

describe("link", () => {
  test("a success callback gets the result as ctx.previousResult, and in its args when asked", async () => {
    const client = await setup();
    const id = await add.enqueue(
      client,
      { a: 2, b: 3 },
      {
        link: [
          note.call({ tag: "plain" }),
          task("l.note", { tag: "as-arg" }, { previousAs: "sum" }),
        ],
        linkError: note.call({ tag: "error" }),
      },
    );
    const status = await finished(client, id);
    expect(status.state).toBe("succeeded");
    expect(status.meta.callbacks).toEqual([`${id}:link:0`, `${id}:link:1`]);
    const [first, second] = await Promise.all(
      [`${id}:link:0`, `${id}:link:1`].map((c) => client.waitForTask(c, { timeout: "5s" })),
    );
    expect(first.value).toBe("noted");
    expect(second.state).toBe("succeeded");
    expect(seen.get(`${id}:link:0`)).toEqual([{ args: { tag: "plain" }, previous: 5 }]);
    expect(seen.get(`${id}:link:1`)).toEqual([{ args: { tag: "as-arg", sum: 5 }, previous: 5 }]);
    // The error callback never started.
    expect(await client.getTaskStatus(`${id}:link-error:0`)).toBeNull();
  });

  test("the fluent builder adds callbacks, and a callback's own taskId wins", async () => {
    const client = await setup();
    const id = await add
      .with({ a: 1, b: 1 })
      .link(note.call({ n: 1 }, { taskId: "my-callback" }))
      .link(note.call({ n: 2 }))
      .enqueueWith(client);
    expect((await finished(client, id)).meta.callbacks).toEqual(["my-callback", `${id}:link:1`]);
    await finished(client, "my-callback");
    expect(seen.get("my-callback")).toEqual([{ args: { n: 1 }, previous: 2 }]);
  });

  test("a callback's own callbacks run after it, each with its predecessor's result", async () => {
    const client = await setup();
    const id = await add.enqueue(
      client,
      { a: 4, b: 4 },
      { link: note.call({ step: 1 }, { link: note.call({ step: 2 }) }) },
    );
    const callback = `${id}:link:0`;
    await finished(client, `${callback}:link:0`);
    expect(seen.get(callback)).toEqual([{ args: { step: 1 }, previous: 8 }]);
    expect(seen.get(`${callback}:link:0`)).toEqual([{ args: { step: 2 }, previous: "noted" }]);
  });

  test("a chain step's callback runs, and the chain goes on", async () => {
    const client = await setup();
    const handle = await client.canvas.chain([
      task("l.add", { a: 1, b: 2 }, { link: note.call({ from: "step 1" }) }),
      task("l.note", { step: 2 }),
    ]);
    expect(await handle.get({ timeout: "5s" })).toBe("noted");
    const [first] = await handle.members();
    await finished(client, `${first.id}:link:0`);
    expect(seen.get(`${first.id}:link:0`)).toEqual([{ args: { from: "step 1" }, previous: 3 }]);
  });
});

describe("linkError", () => {
  test("runs once, after the last retry, with the failed task's id, name and error", async () => {
    const client = await setup();
    const id = await flaky.enqueue(client, {}, { link: note.call({}), linkError: note.call({}) });
    const status = await finished(client, id);
    expect(status.state).toBe("failed");
    expect(status.attempt).toBe(3);
    const callback = `${id}:link-error:0`;
    expect(status.meta.callbacks).toEqual([callback]);
    await finished(client, callback);
    const runs = seen.get(callback) ?? [];
    expect(runs).toHaveLength(1);
    const failure = runs[0].args.failure as Record<string, unknown>;
    expect(failure).toMatchObject({
      id,
      name: "l.flaky",
      error: { type: "RangeError", message: "always broken" },
    });
    expect((failure.error as { stack?: string }).stack).toContain("always broken");
    expect(runs[0].previous).toBeUndefined();
    expect(await client.getTaskStatus(`${id}:link:0`)).toBeNull();
  });

  test("runs for an UnrecoverableError, which is not retried", async () => {
    const client = await setup();
    const id = await declined.enqueue(client, {}, { linkError: note.call({ why: "declined" }) });
    expect((await finished(client, id)).attempt).toBe(1);
    await finished(client, `${id}:link-error:0`);
    const [run] = seen.get(`${id}:link-error:0`) ?? [];
    expect(run.args).toMatchObject({
      why: "declined",
      failure: { id, error: { type: "UnrecoverableError", message: "card declined" } },
    });
  });

  test("runs for a task dead-lettered as crashed when its deliveries keep being cut off", async () => {
    const client = await StemClient.inMemory({ tasks });
    opened.push(client);
    const id = await add.enqueue(
      client,
      { a: 1, b: 1 },
      { maxDeliveries: 1, visibilityTimeout: 100, linkError: note.call({}) },
    );
    // A worker takes it and dies: nothing acks, and the lease runs out.
    const [doomed] = await client.broker.fetch(["default"], {
      max: 1,
      leaseMs: 100,
      consumer: "doomed",
      waitMs: 3000,
    });
    expect(doomed.envelope.id).toBe(id);
    await client.createWorker().start();
    const status = await finished(client, id);
    expect(status.error?.type).toBe("crashed");
    await finished(client, `${id}:link-error:0`);
    expect(seen.get(`${id}:link-error:0`)?.[0].args.failure).toMatchObject({
      id,
      error: { type: "crashed" },
    });
  });

  test("neither callback runs for a task that expired before it started", async () => {
    const client = await setup();
    const id = await add.enqueue(
      client,
      { a: 1, b: 1 },
      { expires: Date.now() - 1000, link: note.call({}), linkError: note.call({}) },
    );
    const status = await finished(client, id);
    expect(status.state).toBe("revoked");
    expect(status.meta.callbacks).toBeUndefined();
    await sleep(100);
    expect(await client.getTaskStatus(`${id}:link:0`)).toBeNull();
    expect(await client.getTaskStatus(`${id}:link-error:0`)).toBeNull();
  });
});

describe("callbacks the worker cannot start", () => {
  test("are listed in the task's meta.callbackErrors; the others still start", async () => {
    const client = await setup();
    // A producer that registers no tasks cannot check the names; the worker finds out.
    const producer = new Stem({ broker: client.broker, backend: client.backend });
    const id = await producer.enqueue(
      "l.add",
      { a: 1, b: 2 },
      { link: [{ name: "l.nowhere" }, note.call({})] },
    );
    await eventually(
      async () => (await client.getTaskStatus(`${id}:link:1`))?.state === "succeeded",
    );
    const status = await client.getTaskStatus(id);
    expect(status?.meta.callbacks).toEqual([`${id}:link:1`]);
    expect(status?.meta.callbackErrors).toEqual([
      expect.stringContaining(
        `callback ${id}:link:0 (l.nowhere) could not start: unknown task "l.nowhere"`,
      ),
    ]);
  });
});

describe("bad callbacks are refused at enqueue", () => {
  const refusals: [string, Record<string, unknown>, string][] = [
    ["an unknown task", { link: { name: "l.nowhere" } }, 'link: unknown task "l.nowhere"'],
    ["not a call", { link: ["l.note"] }, "link[0] must be a task call"],
    ["no name", { linkError: { args: {} } }, "linkError has no task name"],
    [
      "a chain",
      { link: { kind: "chain", steps: [note.call({})] } },
      "link must be a single task call",
    ],
    ["an ignoreResult task", { link: { name: "l.quiet" } }, "keeps no result (ignoreResult)"],
    [
      "a per-call ignoreResult",
      { link: note.call({}, { ignoreResult: true }) },
      "keeps no result (ignoreResult)",
    ],
    ["a unique callback", { link: note.call({}, { unique: true }) }, "cannot be unique"],
    [
      "a callback with the task's own id",
      { taskId: "same", link: note.call({}, { taskId: "same" }) },
      'the callback id "same" is used twice',
    ],
  ];
  for (const [what, options, message] of refusals) {
    test(what, async () => {
      const client = await setup();
      const enqueue = client.enqueue("l.add", { a: 1, b: 1 }, options);
      await expect(enqueue).rejects.toBeInstanceOf(StemError);
      await expect(client.enqueue("l.add", { a: 1, b: 1 }, options)).rejects.toThrow(message);
    });
  }
});

test("examples/callbacks.ts prints the receipt and the alert", async () => {
  const run = await runExample("callbacks.ts", [], "info");
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout).toBe(
    "receipt: emailed a@example.com a receipt for 1200 cents (charge ch_4242)\n" +
      "alert: paging billing: demo.charge failed after its retries: card 4000-0002 declined\n",
  );
}, 30_000);
