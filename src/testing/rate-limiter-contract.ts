import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { RateLimiter } from "../adapters/contracts.ts";
import { buildEnvelope } from "../core/envelope.ts";
import { rateLimitBucket, resolveRateLimit } from "../core/rate-limit.ts";
import {
  type ContractFactory,
  type ContractSubject,
  eventually,
  sleep,
  uniqueName,
} from "./harness.ts";

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

    test("each tenant key has its own bucket, whatever keys share a prefix", async () => {
      const rate = { tokens: 1, intervalMs: 10_000 };
      const base = uniqueName("rl");
      const keys = ["a", "ab", "a:b", "a%3Ab", "b"].map((k) => `${base}:${k}`);
      for (const key of keys) expect((await ctx.subject.acquire(key, rate)).allowed).toBe(true);
      for (const key of keys) expect((await ctx.subject.acquire(key, rate)).allowed).toBe(false);
      expect(await ctx.subject.countBuckets(`${base}:`)).toBe(keys.length);
    });

    test("tasks of one group take from one bucket, per key, from any instance", async () => {
      const other = await ctx.peer();
      const group = uniqueName("smtp");
      const limit = (task: string) =>
        resolveRateLimit(task, {
          rateLimit: "1/m",
          rateLimitGroup: group,
          rateLimitKey: "args.tenant",
        })!;
      const bucket = (task: string, tenant: string) =>
        rateLimitBucket(buildEnvelope({ name: task, args: { tenant } }), limit(task));
      expect(bucket("mail.send", "t1")).toBe(bucket("mail.digest", "t1"));
      expect(
        (await ctx.subject.acquire(bucket("mail.send", "t1"), limit("mail.send"))).allowed,
      ).toBe(true);
      expect((await other.acquire(bucket("mail.digest", "t1"), limit("mail.digest"))).allowed).toBe(
        false,
      );
      expect((await other.acquire(bucket("mail.digest", "t2"), limit("mail.digest"))).allowed).toBe(
        true,
      );
    });

    test("idle buckets leave the store once full again; a refilling one stays", async () => {
      const base = uniqueName("rl");
      const fast = { tokens: 50, intervalMs: 1000 };
      for (let i = 0; i < 20; i++) await ctx.subject.acquire(`${base}:fast:${i}`, fast);
      await ctx.subject.acquire(`${base}:slow`, { tokens: 1, intervalMs: 60_000 });
      expect(await ctx.subject.countBuckets(`${base}:`)).toBe(21);
      // Each fast bucket is full 20 ms later; stores with key expiry need a moment more.
      await eventually(
        async () => {
          await ctx.subject.dropIdle();
          return (await ctx.subject.countBuckets(`${base}:fast:`)) === 0;
        },
        10_000,
        "the idle buckets to go",
      );
      expect(await ctx.subject.countBuckets(`${base}:slow`)).toBe(1);
    });
  });
}
