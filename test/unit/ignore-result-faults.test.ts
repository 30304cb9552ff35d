import { afterEach, expect, test } from "bun:test";
import { defineTask, signals, StemClient } from "../../src/index.ts";
import { injectFaults } from "../../src/testing/faults.ts";
import { eventually } from "../../src/testing/harness.ts";

let client: StemClient | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

test("an ignoreResult task whose ack fails is not lost: it comes back and runs again", async () => {
  let runs = 0;
  const quiet = defineTask({
    name: "ir.fault",
    options: { ignoreResult: true },
    run: () => void runs++,
  });
  client = await StemClient.inMemory({ tasks: [quiet] });
  const faulty = injectFaults(client.broker, { method: "ack", nth: 1 });
  let succeeded = 0;
  const off = signals.taskSucceeded.connect(({ envelope }) => {
    if (envelope.name === "ir.fault") succeeded++;
  });
  try {
    const id = await client.enqueue("ir.fault");
    await client.createWorker({ broker: faulty.store }).start();
    await eventually(() => succeeded === 1, 15_000, "the second run to be acked");
    expect(faulty.injected()).toBe(1);
    expect(runs).toBe(2);
    expect(await client.getTaskStatus(id)).toBeNull();
    const [stats] = await client.broker.stats(["default"]);
    expect(stats).toMatchObject({ pending: 0, inflight: 0, delayed: 0 });
  } finally {
    off();
  }
});
