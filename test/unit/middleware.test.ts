import { afterEach, describe, expect, test } from "bun:test";
import { defineTask, Stem, StemApp, StemClient, Worker } from "../../src/index.ts";
import type { Middleware } from "../../src/core/middleware.ts";
import { eventually } from "../../src/testing/harness.ts";

let app: StemClient | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function tasks(log: string[]) {
  const greet = defineTask<{ name: string }, string>({
    name: "mw.greet",
    run: (ctx, { name }) => {
      log.push(`handler tenant=${ctx.headers.tenant}`);
      return `hello ${name}`;
    },
  });
  const other = defineTask({ name: "mw.other", run: () => "other ran" });
  return [greet, other];
}

/** A middleware that logs around both stages under `label`. */
function tracing(label: string, log: string[]): Middleware {
  return {
    name: label,
    async enqueue(envelope, next) {
      log.push(`${label} enqueue>`);
      await next(envelope);
      log.push(`${label} <enqueue`);
    },
    async execute(_ctx, next) {
      log.push(`${label} execute>`);
      const result = await next();
      log.push(`${label} <execute`);
      return result;
    },
  };
}

describe("middleware", () => {
  test("runs in registration order around enqueue and execution; can add headers and change results", async () => {
    const log: string[] = [];
    app = await StemApp.inMemory({ tasks: tasks(log) });
    app
      .use(tracing("outer", log))
      .use({
        name: "tenant",
        enqueue: (envelope, next) =>
          next({ ...envelope, headers: { ...envelope.headers, tenant: "acme" } }),
        execute: async (_ctx, next) => `${await next()}!`,
      })
      .use(tracing("inner", log));
    const id = await app.enqueue("mw.greet", { name: "Ada" });
    const result = await app.waitForTask(id, { timeout: "10s" });
    expect(result.value).toBe("hello Ada!");
    // The worker may start the task before the enqueue middleware's code after `next` runs,
    // so each stage's order is checked on its own.
    expect(log.filter((l) => l.includes("enqueue"))).toEqual([
      "outer enqueue>",
      "inner enqueue>",
      "inner <enqueue",
      "outer <enqueue",
    ]);
    expect(log.filter((l) => !l.includes("enqueue"))).toEqual([
      "outer execute>",
      "inner execute>",
      "handler tenant=acme",
      "inner <execute",
      "outer <execute",
    ]);
  });

  test("enqueue's next resolves once the task is published; a batch stays one publish", async () => {
    const log: string[] = [];
    app = await StemClient.inMemory({ tasks: tasks(log) });
    const publishedWhenNextReturned: number[] = [];
    app.use({
      async enqueue(envelope, next) {
        await next(envelope);
        const [stats] = await app!.broker.stats(["default"]);
        publishedWhenNextReturned.push(stats!.pending);
      },
    });
    await app.stem.enqueueMany([
      { name: "mw.other", args: {}, options: {} },
      { name: "mw.other", args: {}, options: {} },
    ]);
    // Both were published before either middleware went on.
    expect(publishedWhenNextReturned).toEqual([2, 2]);
  });

  test("a throwing enqueue middleware refuses the call, naming itself; nothing of the call is published", async () => {
    app = await StemClient.inMemory({ tasks: tasks([]) });
    app.use({
      name: "no-greetings",
      async enqueue(envelope, next) {
        if (envelope.name === "mw.greet") throw new Error("greetings are off");
        await next(envelope);
      },
    });
    await expect(app.enqueue("mw.greet", { name: "x" })).rejects.toThrow(
      'enqueue middleware "no-greetings" failed: greetings are off',
    );
    await expect(
      app.stem.enqueueMany([
        { name: "mw.other", args: {}, options: {} },
        { name: "mw.greet", args: { name: "y" }, options: {} },
      ]),
    ).rejects.toThrow("greetings are off");
    const [stats] = await app.broker.stats(["default"]);
    expect(stats).toMatchObject({ pending: 0, delayed: 0 });
    // Allowed tasks still go through.
    await app.enqueue("mw.other");
    expect((await app.broker.stats(["default"]))[0]).toMatchObject({ pending: 1 });
  });

  test("a throwing execute middleware fails the task with a named source; the worker goes on", async () => {
    const log: string[] = [];
    app = await StemApp.inMemory({ tasks: tasks(log) });
    app.use({
      name: "guard",
      async execute(ctx, next) {
        if (!ctx.headers.tenant) throw new Error("no tenant header");
        return next();
      },
    });
    const refused = await app.enqueue("mw.greet", { name: "x" });
    const failed = await app.waitForTask(refused, { timeout: "10s" });
    expect(failed.state).toBe("failed");
    expect(failed.error).toMatchObject({
      type: "MiddlewareError",
      message: 'execute middleware "guard" failed: no tenant header',
    });
    // The handler never ran, and the task was dead-lettered like any failure.
    expect(log).toEqual([]);
    expect((await app.broker.getDeadLetter(refused))?.reason).toBe("max-retries-exhausted");
    const ok = await app.enqueue("mw.greet", { name: "y" }, { headers: { tenant: "t1" } });
    expect((await app.waitForTask(ok, { timeout: "10s" })).value).toBe("hello y");
  });

  test("a handler's own error passes through middleware unchanged", async () => {
    app = await StemApp.inMemory({
      tasks: [
        defineTask({ name: "mw.boom", run: () => Promise.reject(new TypeError("bad input")) }),
      ],
    });
    app.use({ name: "passthrough", execute: (_ctx, next) => next() });
    const id = await app.enqueue("mw.boom");
    const result = await app.waitForTask(id, { timeout: "10s" });
    expect(result.error).toMatchObject({ type: "TypeError", message: "bad input" });
  });

  test("a middleware that returns without calling next is an error naming it", async () => {
    app = await StemApp.inMemory({ tasks: tasks([]) });
    app.use({ name: "forgetful", execute: async () => "skipped" });
    const id = await app.enqueue("mw.other");
    const result = await app.waitForTask(id, { timeout: "10s" });
    expect(result.error?.message).toBe(
      'execute middleware "forgetful" failed: returned without calling next',
    );
  });

  test("a bare Stem and Worker take middleware too; tasks enqueued by a handler pass the worker's", async () => {
    app = await StemClient.inMemory();
    const seen: string[] = [];
    const parent = defineTask({
      name: "mw.parent",
      run: async (ctx) => void (await ctx.enqueue("mw.child")),
    });
    const child = defineTask({
      name: "mw.child",
      run: (ctx) => void seen.push(`child via=${ctx.headers.via}`),
    });
    const stem = new Stem({ broker: app.broker, backend: app.backend }).use({
      enqueue: (envelope, next) => next({ ...envelope, headers: { via: "producer" } }),
    });
    const worker = new Worker({ broker: app.broker, backend: app.backend, tasks: [parent, child] });
    worker.use({
      name: "worker-mw",
      enqueue: (envelope, next) => next({ ...envelope, headers: { via: "worker" } }),
      execute: async (ctx, next) => {
        seen.push(`${ctx.name} via=${ctx.headers.via}`);
        return next();
      },
    });
    await worker.start();
    try {
      await stem.enqueue("mw.parent");
      await eventually(() => seen.length === 3, 10_000, "the child to run");
      expect(seen).toEqual(["mw.parent via=producer", "mw.child via=worker", "child via=worker"]);
    } finally {
      await worker.shutdown();
    }
  });

  test("use() refuses what is not middleware", async () => {
    app = await StemClient.inMemory({ tasks: tasks([]) });
    expect(() => app!.use({} as Middleware)).toThrow(
      "middleware needs an enqueue or an execute function",
    );
    expect(() => app!.use({ execute: "x" } as never)).toThrow(
      "middleware execute must be a function",
    );
  });
});
