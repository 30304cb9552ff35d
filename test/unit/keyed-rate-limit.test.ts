/**
 * Keyed and group rate limits through a worker on a fake clock: a bucket per tenant key,
 * one bucket for a group's tasks, options checked at definition and registration, and a
 * delivery whose key is missing dead-lettered with a message naming the key spec.
 */
import { afterEach, describe, expect, test } from "bun:test";
import {
  type AnyTaskHandler,
  defineTask,
  FakeClock,
  StemClient,
  TaskRegistry,
} from "../../src/index.ts";
import { eventually } from "../../src/testing/harness.ts";

const opened: StemClient[] = [];
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close();
});

async function start(clock: FakeClock, tasks: AnyTaskHandler[]) {
  const client = await StemClient.inMemory({ tasks, clock });
  opened.push(client);
  await client.createWorker({ concurrency: 4, prefetch: 8 }).start();
  return client;
}

describe("keyed rate limits", () => {
  test("each tenant gets its own 1/m bucket; a second task of one tenant waits its turn", async () => {
    const clock = new FakeClock();
    const ran: string[] = [];
    const report = defineTask<{ tenant: string; n: number }>({
      name: "report",
      options: { rateLimit: "1/m", rateLimitKey: "args.tenant" },
      run: (_ctx, { tenant, n }) => void ran.push(`${tenant}${n}`),
    });
    const client = await start(clock, [report]);
    for (const [tenant, n] of [
      ["a", 1],
      ["b", 1],
      ["a", 2],
      ["c", 1],
    ] as const) {
      await report.enqueue(client, { tenant, n });
    }
    await eventually(() => ran.length === 3, 5000, "one task per tenant to run");
    expect(ran.sort()).toEqual(["a1", "b1", "c1"]);
    await clock.advance(59_000);
    expect(ran).not.toContain("a2");
    await eventually(async () => {
      await clock.advance(1_000);
      return ran.includes("a2");
    }, 5000);
  });

  test("a header key and a function key pick the bucket", async () => {
    const clock = new FakeClock();
    const ran: string[] = [];
    const byHeader = defineTask<{ n: number }>({
      name: "by-header",
      options: { rateLimit: "1/h", rateLimitKey: "headers.x-tenant" },
      run: (_ctx, { n }) => void ran.push(`h${n}`),
    });
    const byFunction = defineTask<{ user: { org: string }; n: number }>({
      name: "by-function",
      options: { rateLimit: "1/h", rateLimitKey: (args) => (args.user as { org: string }).org },
      run: (_ctx, { n }) => void ran.push(`f${n}`),
    });
    const client = await start(clock, [byHeader, byFunction]);
    for (const [n, tenant] of [
      [1, "x"],
      [2, "y"],
      [3, "x"],
    ] as const) {
      await client.enqueue("by-header", { n }, { headers: { "x-tenant": tenant } });
    }
    for (const [n, org] of [
      [1, "o1"],
      [2, "o1"],
      [3, "o2"],
    ] as const) {
      await byFunction.enqueue(client, { user: { org }, n });
    }
    await eventually(() => ran.length === 4, 5000, "one task per key to run");
    expect(ran.sort()).toEqual(["f1", "f3", "h1", "h2"]);
  });

  test("a delivery without its key is dead-lettered, naming the key spec", async () => {
    const clock = new FakeClock();
    const task = defineTask({
      name: "keyless",
      options: { rateLimit: "5/s", rateLimitKey: "args.tenant" },
      run: () => "ran",
    });
    const client = await start(clock, [task]);
    const id = await client.enqueue("keyless", { other: 1 });
    const status = await eventually(async () => {
      const s = await client.getTaskStatus(id);
      return s?.state === "dead" ? s : undefined;
    }, 5000);
    expect(status.error?.type).toBe("rate-limit-key");
    expect(status.error?.message).toContain(
      `task "keyless": rateLimitKey args.tenant gave undefined`,
    );
  });
});

describe("group rate limits", () => {
  test("two task names in one group share its bucket", async () => {
    const clock = new FakeClock();
    const ran: string[] = [];
    const options = { rateLimit: "1/m", rateLimitGroup: "smtp" };
    const welcome = defineTask({
      name: "mail.welcome",
      options,
      run: () => void ran.push("welcome"),
    });
    const digest = defineTask({ name: "mail.digest", options, run: () => void ran.push("digest") });
    const other = defineTask({
      name: "other",
      options: { rateLimit: "1/m" },
      run: () => void ran.push("other"),
    });
    const client = await start(clock, [welcome, digest, other]);
    await client.enqueue("mail.welcome", {});
    await eventually(() => ran.includes("welcome"), 5000);
    await client.enqueue("mail.digest", {});
    await client.enqueue("other", {});
    await eventually(() => ran.includes("other"), 5000, "a task outside the group to run");
    expect(ran).not.toContain("digest");
    await eventually(async () => {
      await clock.advance(1_000);
      return ran.includes("digest");
    }, 5000);
    expect(clock.now()).toBeGreaterThanOrEqual(60_000);
  });
});

describe("rate limit options", () => {
  const define = (options: Record<string, unknown>) => () =>
    defineTask({ name: "t", options, run: () => {} });

  test("bad key specs, groups and fail modes are refused at definition, naming the field", () => {
    expect(define({ rateLimit: "1/s", rateLimitKey: "tenant" })).toThrow(
      `task "t": rateLimitKey "tenant" is not a key spec; use "args.<path>"`,
    );
    expect(define({ rateLimit: "1/s", rateLimitKey: "args." })).toThrow("is not a key spec");
    expect(define({ rateLimit: "1/s", rateLimitKey: 5 })).toThrow(
      "rateLimitKey must be a string or a function",
    );
    expect(define({ rateLimit: "1/s", rateLimitGroup: "two words" })).toThrow(
      "rateLimitGroup must be a non-empty name without spaces",
    );
    expect(define({ rateLimit: "1/s", rateLimitFailMode: "maybe" })).toThrow(
      `rateLimitFailMode must be "open" or "closed", got "maybe"`,
    );
    expect(define({ rateLimitKey: "args.tenant" })).toThrow(
      `task "t": rateLimitKey needs a rateLimit to apply to`,
    );
    expect(define({ rateLimitGroup: "smtp" })).toThrow("rateLimitGroup needs a rateLimit");
  });

  test("two tasks of one group with different rates are refused at registration", () => {
    const a = defineTask({
      name: "a",
      options: { rateLimit: "10/s", rateLimitGroup: "smtp" },
      run: () => {},
    });
    const b = defineTask({
      name: "b",
      options: { rateLimit: "5/s", rateLimitGroup: "smtp" },
      run: () => {},
    });
    const same = defineTask({
      name: "c",
      options: { rateLimit: "600/m", rateLimitGroup: "smtp" },
      run: () => {},
    });
    expect(() => new TaskRegistry([a, b])).toThrow(
      `tasks "a" and "b" share rateLimitGroup "smtp" with different rates (10/s and 5/s)`,
    );
    expect(new TaskRegistry([a, same]).names()).toEqual(["a", "c"]);
  });
});
