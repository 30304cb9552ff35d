import { describe, expect, test } from "bun:test";
import { defineTask, StemClient } from "../../src/index.ts";

describe("maxDeliveries options", () => {
  test("a task's maxDeliveries must be a positive integer, named in the error", () => {
    expect(() =>
      defineTask({ name: "x.bad", options: { maxDeliveries: 0 }, run: () => 1 }),
    ).toThrow('task "x.bad": maxDeliveries must be a positive integer, got 0');
  });

  test("a worker's maxDeliveries must be a positive integer", async () => {
    const client = await StemClient.inMemory();
    try {
      expect(() => client.createWorker({ maxDeliveries: 1.5 })).toThrow(
        "maxDeliveries must be a positive integer, got 1.5",
      );
    } finally {
      await client.close();
    }
  });
});
