import { describe, expect, test } from "bun:test";
import { MemoryBroker } from "../../src/adapters/memory/broker.ts";
import { buildEnvelope } from "../../src/core/envelope.ts";
import { injectFaults, injectPublishFaults } from "../../src/testing/faults.ts";

describe("injectFaults", () => {
  test("the nth call fails before reaching the store; the others pass through", async () => {
    const broker = new MemoryBroker();
    const faulty = injectFaults(broker, { method: "publish", nth: 2 });
    await faulty.store.publish([buildEnvelope({ name: "a", args: {} })]);
    await expect(faulty.store.publish([buildEnvelope({ name: "b", args: {} })])).rejects.toThrow(
      "injected fault: publish call 2",
    );
    await faulty.store.publish([buildEnvelope({ name: "c", args: {} })]);
    expect(faulty.calls("publish")).toBe(3);
    expect(faulty.injected()).toBe(1);
    expect((await broker.stats(["default"]))[0].pending).toBe(2);
  });

  test("a fault 'after' applies the call and loses the reply", async () => {
    const broker = new MemoryBroker();
    const faulty = injectFaults(broker, { method: "publish", when: "after", times: Infinity });
    await expect(faulty.store.publish([buildEnvelope({ name: "a", args: {} })])).rejects.toThrow();
    expect((await broker.stats(["default"]))[0].pending).toBe(1);
  });
});

describe("injectPublishFaults", () => {
  test("calls of the functions publishWithStatuses makes count as publishes, in one sequence", async () => {
    const published: string[] = [];
    const broker = {
      publish: async (what: string) => void published.push(`plain ${what}`),
      publishWithStatuses: () => async (what: string) => void published.push(`combined ${what}`),
      publishWithStatusesUnlessLive: () => null,
    };
    const faulty = injectPublishFaults(broker, { method: "publish", nth: 2 });
    const combined = faulty.store.publishWithStatuses();
    await faulty.store.publish("a");
    await expect(combined("b")).rejects.toThrow("injected fault: publish call 2");
    await combined("c");
    expect(faulty.store.publishWithStatusesUnlessLive()).toBeNull();
    expect(published).toEqual(["plain a", "combined c"]);
    expect(faulty.calls("publish")).toBe(3);
  });
});
