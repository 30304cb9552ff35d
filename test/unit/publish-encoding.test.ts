/** The producer hands its size check's envelope JSON to the broker, unless a signal may change it. */
import { afterEach, expect, test } from "bun:test";
import { type Envelope, encodeEnvelope } from "../../src/core/envelope.ts";
import { Stem } from "../../src/core/stem.ts";
import { StemClient, signals } from "../../src/index.ts";

let client: StemClient | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

async function fetchOne(c: StemClient) {
  const [delivery] = await c.broker.fetch(["default"], { max: 1, leaseMs: 5000, consumer: "t" });
  return delivery.envelope;
}

test("what is stored is the envelope as enqueued, args and meta included", async () => {
  client = await StemClient.fromUrl("sqlite::memory:");
  const id = await client.enqueue("t.encoded", { n: 1, s: "é" }, { meta: { m: true } });
  const stored = await fetchOne(client);
  expect(stored.id).toBe(id);
  expect(stored.args).toEqual({ n: 1, s: "é" });
  expect(stored.meta.m).toBe(true);
});

test("a beforeTaskPublish listener's change to an envelope is what the broker stores", async () => {
  client = await StemClient.fromUrl("sqlite::memory:");
  const disconnect = signals.beforeTaskPublish.connect(({ envelope }) => {
    envelope.headers.traced = "yes";
  });
  try {
    await client.enqueue("t.changed", {});
    expect((await fetchOne(client)).headers.traced).toBe("yes");
  } finally {
    disconnect();
  }
});

test("the broker gets each envelope's own JSON, also when calls go out in separate groups", async () => {
  client = await StemClient.inMemory();
  const seen: { envelopes: Envelope[]; encoded?: readonly string[] }[] = [];
  const broker = client.broker;
  const spy = new Proxy(broker, {
    get(target, key, receiver) {
      if (key !== "publish") return Reflect.get(target, key, receiver);
      return (envelopes: Envelope[], encoded?: readonly string[]) => {
        seen.push({ envelopes, encoded });
        return target.publish(envelopes, encoded);
      };
    },
  });
  const stem = new Stem({ broker: spy, backend: client.backend });
  await stem.enqueueMany([
    { name: "t.plain", args: { n: 1 } },
    { name: "t.quiet", args: { n: 2 }, options: { ignoreResult: true } },
    { name: "t.chosen", args: { n: 3 }, options: { taskId: "chosen-id" } },
    { name: "t.plain", args: { n: 4 } },
  ]);
  const envelopes = seen.flatMap((call) => call.envelopes);
  expect(envelopes.map((e) => e.args.n).sort()).toEqual([1, 2, 3, 4]);
  expect(seen.length).toBeGreaterThan(1);
  for (const call of seen) {
    expect(call.encoded).toBeDefined();
    expect(call.encoded).toEqual(call.envelopes.map(encodeEnvelope));
  }
});
