import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { LockStore } from "../adapters/contracts.ts";
import { type ContractFactory, type ContractSubject, sleep, uniqueName } from "./harness.ts";

/** The LockStore contract every adapter must pass. */
export function lockStoreContract(name: string, factory: ContractFactory<LockStore>): void {
  describe(`LockStore contract: ${name}`, () => {
    let ctx: ContractSubject<LockStore>;
    let locks: LockStore;
    let key: string;
    beforeEach(async () => {
      ctx = await factory.create();
      locks = ctx.subject;
      key = uniqueName("lock");
    });
    afterEach(async () => {
      await ctx.cleanup();
    });

    test("a held lock excludes other owners until released", async () => {
      expect(await locks.acquire(key, "a", 5000)).toBe(true);
      expect(await locks.ownerOf(key)).toBe("a");
      expect(await locks.acquire(key, "b", 5000)).toBe(false);
      expect(await locks.acquire(key, "a", 5000)).toBe(false);
      expect(await locks.release(key, "a")).toBe(true);
      expect(await locks.ownerOf(key)).toBeNull();
      expect(await locks.acquire(key, "b", 5000)).toBe(true);
    });

    test("only the owner can release or renew", async () => {
      await locks.acquire(key, "a", 5000);
      expect(await locks.release(key, "b")).toBe(false);
      expect(await locks.renew(key, "b", 5000)).toBe(false);
      expect(await locks.ownerOf(key)).toBe("a");
    });

    test("a lock expires after its ttl and another owner can take it", async () => {
      await locks.acquire(key, "a", 200);
      await sleep(350);
      expect(await locks.ownerOf(key)).toBeNull();
      expect(await locks.renew(key, "a", 1000)).toBe(false);
      expect(await locks.acquire(key, "b", 1000)).toBe(true);
    });

    test("renewing keeps the lock past its original ttl", async () => {
      await locks.acquire(key, "a", 200);
      expect(await locks.renew(key, "a", 800)).toBe(true);
      await sleep(350);
      expect(await locks.ownerOf(key)).toBe("a");
    });

    test("concurrent acquires from two instances grant the lock once", async () => {
      const other = await ctx.peer();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? other : locks).acquire(key, `o${i}`, 5000)),
      );
      expect(results.filter(Boolean).length).toBe(1);
    });
  });
}
