/** The producer hands its size check's envelope JSON to the broker, unless a signal may change it. */
import { afterEach, expect, test } from "bun:test";
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
