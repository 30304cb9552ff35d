import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { ControlBus } from "../adapters/contracts.ts";
import { publishAll } from "../events/control-bus-events.ts";
import {
  type ContractFactory,
  type ContractSubject,
  eventually,
  sleep,
  uniqueName,
} from "./harness.ts";

/** The ControlBus contract every adapter must pass. */
export function controlBusContract(name: string, factory: ContractFactory<ControlBus>): void {
  describe(`ControlBus contract: ${name}`, () => {
    let ctx: ContractSubject<ControlBus>;
    beforeEach(async () => {
      ctx = await factory.create();
    });
    afterEach(async () => {
      await ctx.cleanup();
    });

    test("every subscriber, on any instance, receives each message", async () => {
      const channel = uniqueName("ctl");
      const other = await ctx.peer();
      const a: unknown[] = [];
      const b: unknown[] = [];
      const stopA = await ctx.subject.subscribe(channel, (m) => a.push(m));
      const stopB = await other.subscribe(channel, (m) => b.push(m));
      await ctx.subject.publish(channel, { type: "ping", n: 1 });
      await other.publish(channel, { type: "ping", n: 2 });
      await eventually(() => a.length === 2 && b.length === 2, 3000, "both subscribers");
      expect(a).toEqual([
        { type: "ping", n: 1 },
        { type: "ping", n: 2 },
      ]);
      expect(b).toEqual(a);
      await stopA();
      await ctx.subject.publish(channel, { type: "ping", n: 3 });
      await eventually(() => b.length === 3, 3000, "remaining subscriber");
      await sleep(100);
      expect(a.length).toBe(2);
      await stopB();
    });

    test("publishMany (where a bus has it) delivers every message in order, large ones too", async () => {
      const channel = uniqueName("ctl");
      const got: unknown[] = [];
      const stop = await ctx.subject.subscribe(channel, (m) => got.push(m));
      const big = "x".repeat(10_000);
      // Equal messages are each delivered too.
      const messages = [
        { n: 1 },
        { n: 2, text: 'quote " and backslash \\ and é' },
        { n: 2, text: 'quote " and backslash \\ and é' },
        { n: 3 },
      ];
      const send = (batch: Record<string, unknown>[]) => publishAll(ctx.subject, channel, batch);
      await send(messages);
      // A message too large for some transports' payloads goes with its batch, in order.
      await send([{ n: 4 }, { n: 5, big }, { n: 6 }]);
      await send([]);
      await eventually(() => got.length === 7, 3000, "every message");
      expect(got).toEqual([...messages, { n: 4 }, { n: 5, big }, { n: 6 }]);
      await stop();
    });

    test("channels are separate", async () => {
      const got: unknown[] = [];
      const stop = await ctx.subject.subscribe(uniqueName("ctl"), (m) => got.push(m));
      await ctx.subject.publish(uniqueName("ctl"), { type: "x" });
      await sleep(300);
      expect(got).toEqual([]);
      await stop();
    });
  });
}
