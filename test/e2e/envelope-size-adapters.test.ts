/**
 * The enqueue size limit on every adapter: a 900 KiB payload (under the default 1 MiB)
 * goes through a worker and its result comes back intact; one over the limit is refused
 * at enqueue with an error naming the task and its size, and nothing is queued.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { defineTask, StemClient, StemError } from "../../src/index.ts";
import { ADAPTERS, type TestStore } from "./fixtures/adapter-stores.ts";

let store: TestStore | undefined;
let client: StemClient | undefined;
afterEach(async () => {
  await client?.close();
  await store?.cleanup();
  client = store = undefined;
});

/** A string of `kib` KiB that is not one repeated character (no accidental compression). */
function payload(kib: number): string {
  const chunk = Array.from({ length: 64 }, (_, i) => String.fromCharCode(97 + (i % 26))).join("");
  return Array.from(
    { length: kib * 16 },
    (_, i) => `${chunk.slice(0, 56)}${String(i).padStart(8, "0")}`,
  ).join("");
}

const echo = defineTask<{ blob: string }>({
  name: "size.echo",
  run: (_ctx, { blob }) => ({ length: blob.length, blob }),
});

for (const adapter of ADAPTERS) {
  describe(`envelope size on ${adapter.name}`, () => {
    test("a 900 KiB payload round-trips through a worker", async () => {
      store = await adapter.open("size");
      client = await StemClient.fromUrl(store.url, { tasks: [echo] });
      const blob = payload(900);
      expect(blob.length).toBe(900 * 1024);
      const id = await client.enqueue("size.echo", { blob });
      await client.createWorker({ concurrency: 1 }).start();
      const result = await client.waitForTask<{ length: number; blob: string }>(id, {
        timeout: 30_000,
      });
      expect(result.state).toBe("succeeded");
      expect(result.value?.length).toBe(blob.length);
      expect(result.value?.blob === blob).toBe(true);
    }, 60_000);

    test("a payload over the limit is refused at enqueue, naming the task and the size", async () => {
      store = await adapter.open("size");
      client = await StemClient.fromUrl(store.url, { tasks: [echo], maxEnvelopeBytes: 64 * 1024 });
      const error = await client.enqueue("size.echo", { blob: payload(100) }).catch((e) => e);
      expect(error).toBeInstanceOf(StemError);
      expect(error.code).toBe("invalid_argument");
      expect(error.message).toMatch(
        /task "size\.echo" \(.+\) is too large to enqueue: its envelope is 100\.\d KiB \(\d+ bytes\), over the limit of 64\.0 KiB \(65536 bytes/,
      );
      const [stats] = await client.broker.stats(["default"]);
      expect(stats?.pending ?? 0).toBe(0);
      // Under the limit on the same client, enqueueing works.
      expect(await client.enqueue("size.echo", { blob: payload(10) })).toBeString();
    });
  });
}

test("the default limit is 1 MiB: a 1.1 MiB payload is refused on the default client", async () => {
  client = await StemClient.fromUrl("memory://", { tasks: [echo] });
  await expect(client.enqueue("size.echo", { blob: payload(1100) })).rejects.toThrow(
    /over the limit of 1\.00 MiB \(1048576 bytes; set maxEnvelopeBytes or STEM_MAX_ENVELOPE_BYTES\)/,
  );
});

test("STEM_MAX_ENVELOPE_BYTES sets the limit; a bad value is a clear error", async () => {
  const saved = process.env.STEM_MAX_ENVELOPE_BYTES;
  try {
    process.env.STEM_MAX_ENVELOPE_BYTES = "2048";
    client = await StemClient.fromUrl("memory://", { tasks: [echo] });
    await expect(client.enqueue("size.echo", { blob: payload(3) })).rejects.toThrow(
      /over the limit of 2\.0 KiB \(2048 bytes/,
    );
    await client.close();
    process.env.STEM_MAX_ENVELOPE_BYTES = "1MB";
    client = undefined;
    await expect(StemClient.fromUrl("memory://", { tasks: [echo] })).rejects.toThrow(
      /STEM_MAX_ENVELOPE_BYTES: expected a positive whole number of bytes, got "1MB"/,
    );
  } finally {
    if (saved === undefined) delete process.env.STEM_MAX_ENVELOPE_BYTES;
    else process.env.STEM_MAX_ENVELOPE_BYTES = saved;
  }
});
