import { afterEach, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import {
  buildEnvelope,
  defineTask,
  type Envelope,
  Headers,
  MetaKeys,
  PayloadSigner,
  signals,
  Stem,
  StemClient,
  StemError,
  task,
} from "../../src/index.ts";
import type { DeadLetterPayload } from "../../src/core/signals.ts";
import { eventually } from "../../src/testing/harness.ts";

const secret = () => randomBytes(32).toString("base64");
const k1 = secret();
const k2 = secret();

const opened: StemClient[] = [];
const disconnect: (() => void)[] = [];
afterEach(async () => {
  for (const off of disconnect.splice(0)) off();
  for (const c of opened.splice(0)) await c.close();
});

function charges() {
  const ran: string[] = [];
  const charge = defineTask<{ customerId: string; amount: number }, string>({
    name: "billing.charge",
    run: (ctx, args) => {
      ran.push(ctx.id);
      return `charged ${args.customerId} ${args.amount}`;
    },
  });
  return { ran, charge };
}

function watchDeadLetters(): DeadLetterPayload[] {
  const seen: DeadLetterPayload[] = [];
  disconnect.push(signals.taskDeadLettered.connect((p) => void seen.push(p)));
  return seen;
}

async function startClient(signer: PayloadSigner | null, tasks = charges()) {
  const client = await StemClient.inMemory({ tasks: [tasks.charge], signer });
  opened.push(client);
  const worker = client.createWorker({ concurrency: 2 });
  await worker.start();
  return { client, worker, ...tasks };
}

describe("signed tasks through a worker", () => {
  test("a producer with an active key signs; the worker verifies and runs the task", async () => {
    const { client, ran } = await startClient(new PayloadSigner({ keys: { k1 }, activeKey: "k1" }));
    const id = await client.enqueue("billing.charge", { customerId: "cust_123", amount: 4200 });
    const result = await client.waitForTask(id, { timeout: "10s" });
    expect(result.state).toBe("succeeded");
    expect(result.value).toBe("charged cust_123 4200");
    expect(ran).toEqual([id]);
  });

  test("unsigned, tampered and unknown-key tasks are never run: dead-lettered with reason signature", async () => {
    const signer = new PayloadSigner({ keys: { k1 }, activeKey: "k1" });
    const { client, ran } = await startClient(signer);
    const deadLettered = watchDeadLetters();
    const args = { customerId: "cust_9", amount: 1 };
    const unsigned = buildEnvelope({ name: "billing.charge", args });
    const tampered = signer.sign(buildEnvelope({ name: "billing.charge", args }));
    tampered.args = { ...args, amount: 1_000_000 };
    const stranger = new PayloadSigner({ keys: { k9: secret() }, activeKey: "k9" }).sign(
      buildEnvelope({ name: "billing.charge", args }),
    );
    await client.broker.publish([unsigned, tampered, stranger]);

    const entries = await eventually(
      async () => {
        const dead = await client.broker.listDeadLetters();
        return dead.length === 3 ? dead : undefined;
      },
      10_000,
      "three dead letters",
    );
    expect(ran).toEqual([]);
    const byId = new Map(entries.map((d) => [d.envelope.id, d]));
    for (const e of [unsigned, tampered, stranger])
      expect(byId.get(e.id)?.reason).toBe("signature");
    expect(String(byId.get(unsigned.id)?.meta?.error)).toMatch(/unsigned/);
    expect(String(byId.get(tampered.id)?.meta?.error)).toMatch(/does not match/);
    expect(String(byId.get(stranger.id)?.meta?.error)).toMatch(/unknown key "k9"/);
    await eventually(() => deadLettered.length === 3, 5000, "taskDeadLettered signals");
    expect(deadLettered.map((d) => d.reason)).toEqual(["signature", "signature", "signature"]);
    expect(new Set(deadLettered.map((d) => d.envelope.id))).toEqual(
      new Set([unsigned.id, tampered.id, stranger.id]),
    );
    const status = await client.getTaskStatus(tampered.id);
    expect(status?.state).toBe("dead");
    expect(status?.error?.type).toBe("signature");
  });

  test("tampering with any field that decides how a task runs dead-letters it with reason signature", async () => {
    const signer = new PayloadSigner({ keys: { k1 }, activeKey: "k1" });
    const ran: string[] = [];
    const refund = defineTask({ name: "billing.refund", run: (ctx) => void ran.push(ctx.id) });
    const tasks = charges();
    const client = await StemClient.inMemory({ tasks: [tasks.charge, refund], signer });
    opened.push(client);
    await client.createWorker({ queues: ["default", "other"] }).start();
    const signed = () =>
      signer.sign(
        buildEnvelope({
          name: "billing.charge",
          args: { customerId: "c", amount: 1 },
          maxRetries: 1,
          visibilityTimeoutMs: 5000,
          meta: { [MetaKeys.hardTimeLimitMs]: 1000 },
        }),
      );
    const tamper: Record<string, (e: Envelope) => void> = {
      args: (e) => void (e.args.amount = 1_000_000),
      name: (e) => void (e.name = "billing.refund"),
      headers: (e) => void (e.headers.tenant = "evil"),
      meta: (e) => void (e.meta[MetaKeys.hardTimeLimitMs] = 3_600_000),
      queue: (e) => void (e.queue = "other"),
      priority: (e) => void (e.priority = 9),
      maxRetries: (e) => void (e.maxRetries = 1000),
      visibilityTimeoutMs: (e) => void (e.visibilityTimeoutMs = 3_600_000),
    };
    const field = new Map<string, string>();
    const envelopes = Object.entries(tamper).map(([name, change]) => {
      const e = signed();
      change(e);
      field.set(e.id, name);
      return e;
    });
    // Only the fields brokers change may differ from what was signed.
    const untouched = { ...signed(), attempt: 2, notBefore: Date.now() - 1, enqueuedAt: 1 };
    await client.broker.publish([...envelopes, untouched]);
    const dead = await eventually(
      async () => {
        const list = await client.broker.listDeadLetters();
        return list.length === envelopes.length ? list : undefined;
      },
      10_000,
      "every tampered task dead-lettered",
    );
    expect(new Set(dead.map((d) => field.get(d.envelope.id)))).toEqual(
      new Set(Object.keys(tamper)),
    );
    for (const d of dead) expect(d.reason).toBe("signature");
    expect((await client.waitForTask(untouched.id, { timeout: "10s" })).state).toBe("succeeded");
    expect(tasks.ran).toEqual([untouched.id]);
    expect(ran).toEqual([]);
  });

  test("key rotation: tasks signed with the old key run while it is listed, and are dead-lettered once removed", async () => {
    // Workers moved to keys k1+k2 (active k2) while an old producer still signs with k1.
    const rotated = new PayloadSigner({ keys: { k1, k2 }, activeKey: "k2" });
    const { client, ran } = await startClient(rotated);
    const oldProducer = new Stem({
      broker: client.broker,
      backend: client.backend,
      beforePublish: [new PayloadSigner({ keys: { k1 }, activeKey: "k1" }).beforePublish],
    });
    const oldId = await oldProducer.enqueue("billing.charge", { customerId: "old", amount: 1 });
    const newId = await client.enqueue("billing.charge", { customerId: "new", amount: 2 });
    expect((await client.waitForTask(oldId, { timeout: "10s" })).state).toBe("succeeded");
    expect((await client.waitForTask(newId, { timeout: "10s" })).state).toBe("succeeded");
    expect(ran.sort()).toEqual([oldId, newId].sort());

    // k1 retired: a worker that lists only k2 refuses what the old producer still signs.
    const retired = await startClient(new PayloadSigner({ keys: { k2 }, activeKey: "k2" }));
    const deadLettered = watchDeadLetters();
    const lateProducer = new Stem({
      broker: retired.client.broker,
      backend: retired.client.backend,
      beforePublish: [new PayloadSigner({ keys: { k1 }, activeKey: "k1" }).beforePublish],
    });
    const lateId = await lateProducer.enqueue("billing.charge", { customerId: "late", amount: 3 });
    const freshId = await retired.client.enqueue("billing.charge", {
      customerId: "fresh",
      amount: 4,
    });
    expect((await retired.client.waitForTask(freshId, { timeout: "10s" })).state).toBe("succeeded");
    const late = await retired.client.waitForTask(lateId, { timeout: "10s" });
    expect(late.state).toBe("dead");
    expect(late.error?.message).toMatch(/unknown key "k1"/);
    expect(retired.ran).toEqual([freshId]);
    expect(deadLettered.find((d) => d.envelope.id === lateId)?.reason).toBe("signature");
  });

  test("a retried signed task still verifies: the attempt count is not signed", async () => {
    const signer = new PayloadSigner({ keys: { k1 }, activeKey: "k1" });
    const attempts: number[] = [];
    const flaky = defineTask({
      name: "signed.flaky",
      options: { maxRetries: 2, retryBackoff: { kind: "fixed", delay: "10ms" } },
      run: (ctx) => {
        attempts.push(ctx.attempt);
        if (ctx.attempt === 1) throw new Error("first try fails");
        return "second try";
      },
    });
    const client = await StemClient.inMemory({ tasks: [flaky], signer });
    opened.push(client);
    await client.createWorker().start();
    const id = await client.enqueue("signed.flaky", {});
    expect(await client.waitForTask(id, { timeout: "10s" })).toMatchObject({
      state: "succeeded",
      value: "second try",
    });
    expect(attempts).toEqual([1, 2]);
  });

  test("a dead letter replayed with its replay count bumped still verifies and runs again", async () => {
    const signer = new PayloadSigner({ keys: { k1 }, activeKey: "k1" });
    let runs = 0;
    const once = defineTask({
      name: "signed.replayed",
      run: () => {
        runs++;
        if (runs === 1) throw new Error("fails until replayed");
        return "ran after replay";
      },
    });
    const client = await StemClient.inMemory({ tasks: [once], signer });
    opened.push(client);
    await client.createWorker().start();
    const deadLettered = watchDeadLetters();
    const id = await client.enqueue("signed.replayed", {});
    expect((await client.waitForTask(id, { timeout: "10s" })).state).toBe("failed");
    const { entries } = await client.broker.replayDeadLetters({ ids: [id] });
    expect(entries).toHaveLength(1);
    await eventually(
      async () => (await client.getTaskStatus(id))?.state === "succeeded",
      10_000,
      "the replayed run",
    );
    expect(runs).toBe(2);
    expect(deadLettered.filter((d) => d.reason === "signature")).toEqual([]);
  });

  test("a child task enqueued from a handler is signed too", async () => {
    const signer = new PayloadSigner({ keys: { k1 }, activeKey: "k1" });
    const seen: Record<string, string>[] = [];
    const child = defineTask({ name: "child", run: (ctx) => void seen.push({ ...ctx.headers }) });
    const parent = defineTask({ name: "parent", run: (ctx) => ctx.enqueue("child", {}) });
    const client = await StemClient.inMemory({ tasks: [parent, child], signer });
    opened.push(client);
    await client.createWorker().start();
    const parentId = await client.enqueue("parent", {});
    const childId = (await client.waitForTask<string>(parentId, { timeout: "10s" })).value!;
    expect((await client.waitForTask(childId, { timeout: "10s" })).state).toBe("succeeded");
    expect(seen[0][Headers.signatureKey]).toBe("k1");
  });

  test("the steps of a canvas chain, enqueued by the worker, are signed and run", async () => {
    const signer = new PayloadSigner({ keys: { k1 }, activeKey: "k1" });
    const keys: string[] = [];
    const steps = ["signed.a", "signed.b"].map((name) =>
      defineTask({
        name,
        run: (ctx) => {
          keys.push(ctx.headers[Headers.signatureKey]);
          return name;
        },
      }),
    );
    const client = await StemClient.inMemory({ tasks: steps, signer });
    opened.push(client);
    await client.createWorker().start();
    const handle = await client.canvas.chain(steps.map((t) => task(t.name)));
    expect(await handle.get({ timeout: "10s" })).toBe("signed.b");
    expect(keys).toEqual(["k1", "k1"]);
  });

  test("signing from STEM_SIGNING_* by default; a misconfiguration fails client creation", async () => {
    const saved = { ...process.env };
    try {
      process.env.STEM_SIGNING_KEYS = `k1:${k1}`;
      process.env.STEM_SIGNING_ACTIVE_KEY = "k1";
      const client = await StemClient.inMemory({});
      opened.push(client);
      expect(client.signer?.activeKey).toBe("k1");
      process.env.STEM_SIGNING_ACTIVE_KEY = "k7";
      const failure = await StemClient.inMemory({}).catch((e) => e);
      expect(failure).toBeInstanceOf(StemError);
      expect(failure.message).toMatch(
        /active key "k7" \(STEM_SIGNING_ACTIVE_KEY\) is not listed in STEM_SIGNING_KEYS/,
      );
      // Explicitly off, whatever the environment says.
      const off = await StemClient.inMemory({ signer: null });
      opened.push(off);
      expect(off.signer).toBeUndefined();
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });
});
