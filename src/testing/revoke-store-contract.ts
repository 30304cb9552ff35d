import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { RevokeEntry, RevokeStore } from "../adapters/contracts.ts";
import { type ContractFactory, type ContractSubject, uniqueName } from "./harness.ts";

/** The RevokeStore contract every adapter must pass. */
export function revokeStoreContract(name: string, factory: ContractFactory<RevokeStore>): void {
  describe(`RevokeStore contract: ${name}`, () => {
    let ctx: ContractSubject<RevokeStore>;
    let store: RevokeStore;
    let ns: string;
    const entry = (taskId: string, version: number, fields: Partial<RevokeEntry> = {}) => ({
      namespace: ns,
      taskId,
      version,
      issuedAt: Date.now(),
      terminate: false,
      ...fields,
    });
    beforeEach(async () => {
      ctx = await factory.create();
      store = ctx.subject;
      ns = uniqueName("ns");
    });
    afterEach(async () => {
      await ctx.cleanup();
    });

    test("entries are stored per namespace and listed by version", async () => {
      const applied = await store.upsertAll([entry("b", 2), entry("a", 1, { reason: "r" })]);
      expect(applied.map((e) => e.taskId)).toEqual(["b", "a"]);
      await store.upsertAll([{ ...entry("c", 3), namespace: `${ns}-other` }]);
      const listed = await store.list(ns);
      expect(listed.map((e) => e.taskId)).toEqual(["a", "b"]);
      expect(listed[0].reason).toBe("r");
    });

    test("a lower version never replaces a higher one", async () => {
      await store.upsertAll([entry("t", 10, { reason: "newer" })]);
      const [kept] = await store.upsertAll([entry("t", 9, { reason: "stale" })]);
      expect(kept).toMatchObject({ version: 10, reason: "newer" });
      const [replaced] = await store.upsertAll([entry("t", 11, { terminate: true, reason: "x" })]);
      expect(replaced).toMatchObject({ version: 11, terminate: true, reason: "x" });
      expect((await store.list(ns)).length).toBe(1);
    });

    test("listing after a version returns only entries above it, including replaced ones", async () => {
      await store.upsertAll([entry("a", 1), entry("b", 2), entry("c", 3)]);
      expect((await store.list(ns, 1)).map((e) => e.taskId)).toEqual(["b", "c"]);
      expect(await store.list(ns, 3)).toEqual([]);
      await store.upsertAll([entry("a", 4, { reason: "again" })]);
      const changed = await store.list(ns, 3);
      expect(changed.map((e) => [e.taskId, e.version, e.reason])).toEqual([["a", 4, "again"]]);
      await store.pruneExpired(ns, Date.now());
      await store.upsertAll([entry("d", 5, { expiresAt: Date.now() - 1 })]);
      expect(await store.pruneExpired(ns, Date.now())).toBe(1);
      expect((await store.list(ns, 3)).map((e) => e.taskId)).toEqual(["a"]);
    });

    test("pruneExpired removes only expired entries of that namespace", async () => {
      const now = Date.now();
      await store.upsertAll([
        entry("expired", 1, { expiresAt: now - 1 }),
        entry("active", 2, { expiresAt: now + 60_000 }),
        entry("no-expiry", 3),
      ]);
      await store.upsertAll([
        { ...entry("other", 4, { expiresAt: now - 1 }), namespace: `${ns}-o` },
      ]);
      expect(await store.pruneExpired(ns, now)).toBe(1);
      expect((await store.list(ns)).map((e) => e.taskId)).toEqual(["active", "no-expiry"]);
      expect((await store.list(`${ns}-o`)).length).toBe(1);
    });
  });
}
