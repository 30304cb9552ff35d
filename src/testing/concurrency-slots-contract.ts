import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { ConcurrencySlots } from "../adapters/contracts.ts";
import { type ContractFactory, type ContractSubject, sleep, uniqueName } from "./harness.ts";

/** The ConcurrencySlots contract every adapter must pass. */
export function concurrencySlotsContract(
  name: string,
  factory: ContractFactory<ConcurrencySlots>,
): void {
  describe(`ConcurrencySlots contract: ${name}`, () => {
    let ctx: ContractSubject<ConcurrencySlots>;
    let slots: ConcurrencySlots;
    let key: string;
    beforeEach(async () => {
      ctx = await factory.create();
      slots = ctx.subject;
      key = uniqueName("slots");
    });
    afterEach(async () => {
      await ctx.cleanup();
    });

    test("at most `limit` holders at once; a release frees a slot", async () => {
      expect(await slots.acquire(key, "a", 2, 5000)).toBe(true);
      expect(await slots.acquire(key, "b", 2, 5000)).toBe(true);
      expect(await slots.acquire(key, "c", 2, 5000)).toBe(false);
      expect(await slots.usage(key)).toEqual({ key, limit: 2, used: 2, holders: ["a", "b"] });
      expect(await slots.release(key, "a")).toBe(true);
      expect(await slots.acquire(key, "c", 2, 5000)).toBe(true);
      expect(await slots.usage(key)).toEqual({ key, limit: 2, used: 2, holders: ["b", "c"] });
    });

    test("a holder acquiring again keeps its one slot", async () => {
      expect(await slots.acquire(key, "a", 1, 5000)).toBe(true);
      expect(await slots.acquire(key, "a", 1, 5000)).toBe(true);
      expect((await slots.usage(key))?.used).toBe(1);
      expect(await slots.acquire(key, "b", 1, 5000)).toBe(false);
    });

    test("a slot whose lease runs out comes back", async () => {
      expect(await slots.acquire(key, "crashed", 1, 200)).toBe(true);
      expect(await slots.acquire(key, "b", 1, 5000)).toBe(false);
      await sleep(350);
      expect((await slots.usage(key))?.used).toBe(0);
      expect(await slots.renew(key, "crashed", 5000)).toBe(false);
      expect(await slots.acquire(key, "b", 1, 5000)).toBe(true);
      expect(await slots.release(key, "crashed")).toBe(false);
    });

    test("renewing keeps a slot past its first lease", async () => {
      await slots.acquire(key, "a", 1, 200);
      expect(await slots.renew(key, "a", 1000)).toBe(true);
      await sleep(350);
      expect(await slots.usage(key)).toEqual({ key, limit: 1, used: 1, holders: ["a"] });
      expect(await slots.acquire(key, "b", 1, 5000)).toBe(false);
    });

    test("only a holder can renew or release its slot", async () => {
      await slots.acquire(key, "a", 2, 5000);
      expect(await slots.renew(key, "b", 5000)).toBe(false);
      expect(await slots.release(key, "b")).toBe(false);
      expect(await slots.release(key, "a")).toBe(true);
      expect(await slots.release(key, "a")).toBe(false);
      expect(await slots.renew(key, "a", 5000)).toBe(false);
    });

    test("the latest limit applies; lowering it lets no one in until enough leave", async () => {
      await slots.acquire(key, "a", 3, 5000);
      await slots.acquire(key, "b", 3, 5000);
      expect(await slots.acquire(key, "c", 1, 5000)).toBe(false);
      expect((await slots.usage(key))?.limit).toBe(1);
      await slots.release(key, "a");
      expect(await slots.acquire(key, "c", 1, 5000)).toBe(false);
      await slots.release(key, "b");
      expect(await slots.acquire(key, "c", 1, 5000)).toBe(true);
    });

    test("setLimit records a limit without taking a slot; unknown keys have no usage", async () => {
      expect(await slots.usage(key)).toBeNull();
      await slots.setLimit(key, 4);
      expect(await slots.usage(key)).toEqual({ key, limit: 4, used: 0, holders: [] });
      await slots.setLimit(key, 2);
      expect((await slots.usage(key))?.limit).toBe(2);
    });

    test("list returns every limited key with its usage, sorted by key", async () => {
      const other = `${key}-b`;
      const first = `${key}-a`;
      await slots.acquire(other, "x", 2, 5000);
      await slots.setLimit(first, 5);
      const listed = (await slots.list()).filter((u) => u.key.startsWith(key));
      expect(listed).toEqual([
        { key: first, limit: 5, used: 0, holders: [] },
        { key: other, limit: 2, used: 1, holders: ["x"] },
      ]);
    });

    test("keys are independent", async () => {
      expect(await slots.acquire(`${key}:x`, "a", 1, 5000)).toBe(true);
      expect(await slots.acquire(`${key}:y`, "a", 1, 5000)).toBe(true);
      expect(await slots.acquire(`${key}:x`, "b", 1, 5000)).toBe(false);
    });

    test("concurrent acquires from two instances never grant more than the limit", async () => {
      const other = await ctx.peer();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? other : slots).acquire(key, `h${i}`, 3, 5000),
        ),
      );
      expect(results.filter(Boolean).length).toBe(3);
      expect((await other.usage(key))?.used).toBe(3);
    });

    test("bad limits and leases are refused with a message naming them", async () => {
      await expect(slots.acquire(key, "a", 0, 5000)).rejects.toThrow(/limit .* positive integer/);
      await expect(slots.acquire(key, "a", 1.5, 5000)).rejects.toThrow(/positive integer/);
      await expect(slots.acquire(key, "a", 1, 0)).rejects.toThrow(/lease .* positive/);
      await expect(slots.renew(key, "a", -1)).rejects.toThrow(/lease/);
      await expect(slots.setLimit(key, -2)).rejects.toThrow(/positive integer/);
    });
  });
}
