import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { RateLimiter } from "../adapters/contracts.ts";
import { type ContractFactory, type ContractSubject, sleep, uniqueName } from "./harness.ts";

/** The RateLimiter contract every adapter must pass. */
export function rateLimiterContract(name: string, factory: ContractFactory<RateLimiter>): void {
  describe(`RateLimiter contract: ${name}`, () => {
    let ctx: ContractSubject<RateLimiter>;
    beforeEach(async () => {
      ctx = await factory.create();
    });
    afterEach(async () => {
      await ctx.cleanup();
    });

    test("a denied acquire says how long to wait", async () => {
      const key = uniqueName("rl");
      const rate = { tokens: 1, intervalMs: 1000 };
      expect((await ctx.subject.acquire(key, rate)).allowed).toBe(true);
      const denied = await ctx.subject.acquire(key, rate);
      expect(denied.allowed).toBe(false);
      expect(denied.retryAfterMs).toBeGreaterThan(800);
      expect(denied.retryAfterMs).toBeLessThanOrEqual(1000);
    });

    test("two limiter instances share one limit", async () => {
      const other = await ctx.peer();
      const key = uniqueName("rl");
      const rate = { tokens: 10, intervalMs: 1000 };
      let allowed = 0;
      const end = Date.now() + 1000;
      for (let i = 0; Date.now() < end; i++) {
        if ((await (i % 2 ? other : ctx.subject).acquire(key, rate)).allowed) allowed++;
        await sleep(5);
      }
      expect(allowed).toBeGreaterThanOrEqual(9);
      expect(allowed).toBeLessThanOrEqual(12);
    });

    test("keys are limited independently", async () => {
      const rate = { tokens: 1, intervalMs: 10_000 };
      expect((await ctx.subject.acquire(uniqueName("a"), rate)).allowed).toBe(true);
      expect((await ctx.subject.acquire(uniqueName("b"), rate)).allowed).toBe(true);
    });
  });
}
