import { describe, expect, test } from "bun:test";
import { MemoryRateLimiter } from "../../src/adapters/memory/rate-limiter.ts";
import { FakeClock } from "../../src/testing/fake-clock.ts";
import { RateGate } from "../../src/worker/rate-gate.ts";

const perSecond = { tokens: 1, intervalMs: 1000, failMode: "closed" } as const;

describe("rate gate", () => {
  test("denied tasks get turns one token interval apart, in the order asked", async () => {
    const clock = new FakeClock();
    const gate = new RateGate(new MemoryRateLimiter(clock), clock, "w1");
    const delays = await Promise.all(
      ["a", "b", "c", "d"].map((id) => gate.admit("k", perSecond, id)),
    );
    expect(delays).toEqual([0, 1000, 2000, 3000]);
  });

  test("a newcomer queues behind waiting tasks even when a token is free", async () => {
    const clock = new FakeClock();
    const gate = new RateGate(new MemoryRateLimiter(clock), clock, "w1");
    expect(await gate.admit("k", perSecond, "a")).toBe(0);
    expect(await gate.admit("k", perSecond, "b")).toBe(1000);
    await clock.advance(1500);
    // A token is free, but it is b's turn that has come: c goes after b.
    expect(await gate.admit("k", perSecond, "c")).toBe(500);
    expect(await gate.admit("k", perSecond, "b")).toBe(0);
  });

  test("a task back for its turn whose token another worker took stays first in line", async () => {
    const clock = new FakeClock();
    const limiter = new MemoryRateLimiter(clock);
    const gate = new RateGate(limiter, clock, "w1");
    const slow = { tokens: 1, intervalMs: 60_000, failMode: "closed" } as const;
    expect(await gate.admit("k", slow, "a")).toBe(0);
    expect(await gate.admit("k", slow, "b")).toBe(60_000);
    expect(await gate.admit("k", slow, "c")).toBe(120_000);
    await clock.advance(60_000);
    // Another worker on the same store takes b's token.
    expect((await limiter.acquire("k", slow)).allowed).toBe(true);
    // b is sent back for the next token, not behind c.
    expect(await gate.admit("k", slow, "b")).toBe(60_000);
  });

  test("a task back a moment before its token waits for it rather than losing its place", async () => {
    const clock = new FakeClock();
    const gate = new RateGate(new MemoryRateLimiter(clock), clock, "w1");
    expect(await gate.admit("k", perSecond, "a")).toBe(0);
    expect(await gate.admit("k", perSecond, "b")).toBe(1000);
    await clock.advance(900);
    let decided: number | undefined;
    void gate.admit("k", perSecond, "b").then((d) => (decided = d));
    await clock.advance(50);
    expect(decided).toBeUndefined();
    await clock.advance(50);
    expect(decided).toBe(0);
  });
});

describe("memory rate limiter", () => {
  test("drops buckets that are full again on its own, a minute at most after they idle", async () => {
    const clock = new FakeClock();
    const limiter = new MemoryRateLimiter(clock);
    for (let i = 0; i < 100; i++) await limiter.acquire(`tenant:${i}`, perSecond);
    expect(await limiter.countBuckets("tenant:")).toBe(100);
    await clock.advance(60_000);
    await limiter.acquire("other", perSecond);
    expect(await limiter.countBuckets("tenant:")).toBe(0);
    expect(await limiter.countBuckets("")).toBe(1);
  });
});
