import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { ResultBackend, WorkerHeartbeat } from "../adapters/contracts.ts";
import type { TaskStatus } from "../core/states.ts";
import { type ContractFactory, type ContractSubject, sleep, uniqueName } from "./harness.ts";

function status(id: string, fields: Partial<TaskStatus> = {}): TaskStatus {
  const now = Date.now();
  return {
    id,
    name: "t.result",
    queue: "default",
    state: "succeeded",
    attempt: 0,
    meta: {},
    createdAt: now,
    updatedAt: now,
    ...fields,
  };
}

function heartbeat(workerId: string, fields: Partial<WorkerHeartbeat> = {}): WorkerHeartbeat {
  return {
    workerId,
    host: "host-a",
    pid: 42,
    queues: ["default"],
    concurrency: 4,
    inflight: 1,
    processed: 10,
    failed: 1,
    startedAt: Date.now() - 1000,
    timestamp: Date.now(),
    ...fields,
  };
}

/** The ResultBackend contract every adapter must pass. */
export function resultBackendContract(name: string, factory: ContractFactory<ResultBackend>): void {
  describe(`ResultBackend contract: ${name}`, () => {
    let ctx: ContractSubject<ResultBackend>;
    let backend: ResultBackend;
    beforeEach(async () => {
      ctx = await factory.create();
      backend = ctx.subject;
    });
    afterEach(async () => {
      await ctx.cleanup();
    });

    test("a status that is not JSON is refused, naming the task and the problem, and nothing of its batch is stored", async () => {
      const circular: Record<string, unknown> = { name: "loop" };
      circular.self = circular;
      const cases: [Partial<TaskStatus>, string][] = [
        [{ result: { total: 10n } }, "result is not JSON: BigInt at $.total"],
        [{ result: circular }, "result is not JSON: circular reference at $.self"],
        [
          { progress: { percent: 5, data: { rows: ["ok", "a\u0000b"] }, at: 1 } },
          "progress data is not JSON: NUL character (\\u0000) in a string at $.rows[1]",
        ],
        [{ meta: { n: 1n } }, "meta is not JSON: BigInt at $.n"],
      ];
      for (const [fields, message] of cases) {
        const good = uniqueName("good");
        const bad = uniqueName("bad");
        let thrown: Error | undefined;
        try {
          await backend.set([status(good), status(bad, fields)]);
        } catch (error) {
          thrown = error as Error;
        }
        expect(thrown?.message).toBe(`task ${bad}: ${message}`);
        expect(await backend.getMany([good, bad])).toEqual([null, null]);
      }
      const group = uniqueName("group");
      await backend.initGroup({ id: group, expected: 1 });
      await expect(
        backend.addGroupResult(group, 0, status(uniqueName("m"), { result: 1n })),
      ).rejects.toThrow("result is not JSON: BigInt at $");
      expect((await backend.getGroup(group))?.completed).toBe(0);
    });

    test("a result is stored as JSON: dates become strings, undefined fields are left out", async () => {
      const id = uniqueName("task");
      const at = new Date("2025-01-02T03:04:05.000Z");
      await backend.set([status(id, { result: { at, gone: undefined, list: [1, "x"] } })]);
      expect((await backend.get(id))?.result).toEqual({ at: at.toISOString(), list: [1, "x"] });
      expect(Object.keys((await backend.get(id))?.result as object)).toEqual(["at", "list"]);
    });

    test("a stored status round-trips with args, result, error, attempt and meta", async () => {
      const id = uniqueName("task");
      const s = status(id, {
        state: "failed",
        args: { to: "a@b.c", tags: ["x"] },
        result: { value: "done", list: [1, 2] },
        error: { type: "ContractError", message: "bad", stack: "at x", retryable: true },
        attempt: 3,
        meta: { origin: "contract" },
        progress: { percent: 50, data: { step: 1 }, at: Date.now() },
        startedAt: Date.now() - 5,
        finishedAt: Date.now(),
        workerId: "w1",
      });
      await backend.set([s]);
      expect(await backend.get(id)).toEqual(s);
      expect(await backend.get(uniqueName("missing"))).toBeNull();
    });

    test("set overwrites the whole status", async () => {
      const id = uniqueName("task");
      await backend.set([status(id, { state: "failed", error: { type: "E", message: "x" } })]);
      await backend.set([status(id, { state: "succeeded", result: 7, attempt: 2 })]);
      const got = await backend.get(id);
      expect(got?.state).toBe("succeeded");
      expect(got?.error).toBeUndefined();
      expect(got?.result).toBe(7);
      expect(got?.attempt).toBe(2);
    });

    test("several statuses are stored in one call and read back in order", async () => {
      const ids = [0, 1, 2].map(() => uniqueName("task"));
      await backend.set(ids.map((id, i) => status(id, { result: i })));
      const got = await backend.getMany([ids[2], uniqueName("missing"), ids[0]]);
      expect(got.map((s) => s?.result ?? null)).toEqual([2, null, 0]);
    });

    test("a status expires after its ttl, and expire() resets the ttl", async () => {
      const a = uniqueName("task");
      const b = uniqueName("task");
      await backend.set([status(a)], 300);
      await backend.set([status(b)], 60_000);
      await backend.expire(b, 300);
      expect(await backend.get(a)).not.toBeNull();
      await sleep(500);
      expect(await backend.get(a)).toBeNull();
      expect(await backend.get(b)).toBeNull();
    });

    test("list filters by state, queue and name, newest first", async () => {
      const queue = uniqueName("q");
      const t0 = Date.now();
      await backend.set([
        status(uniqueName("t"), { queue, state: "failed", updatedAt: t0 + 1, name: "x" }),
        status(uniqueName("t"), { queue, state: "succeeded", updatedAt: t0 + 2, name: "x" }),
        status(uniqueName("t"), { queue, state: "succeeded", updatedAt: t0 + 3, name: "y" }),
      ]);
      const ok = await backend.list({ queue, state: "succeeded" });
      expect(ok.map((s) => s.updatedAt)).toEqual([t0 + 3, t0 + 2]);
      expect((await backend.list({ queue, name: "x" })).length).toBe(2);
      expect((await backend.list({ queue, limit: 1, offset: 1 }))[0].updatedAt).toBe(t0 + 2);
    });

    test("a group completes when every member reports; a repeated member counts once", async () => {
      const id = uniqueName("grp");
      await backend.initGroup({ id, expected: 2, meta: { purpose: "contract" } });
      const first = await backend.addGroupResult(id, 1, status("m1", { result: "b" }));
      expect(first?.completed).toBe(1);
      const again = await backend.addGroupResult(id, 1, status("m1", { result: "b" }));
      expect(again?.completed).toBe(1);
      const second = await backend.addGroupResult(id, 0, status("m0", { result: "a" }));
      expect(second?.completed).toBe(2);
      const group = await backend.getGroup(id);
      expect(group?.expected).toBe(2);
      expect(group?.meta).toEqual({ purpose: "contract" });
      expect(group?.results[0].result).toBe("a");
      expect(group?.results[1].result).toBe("b");
      expect(await backend.addGroupResult(uniqueName("nope"), 0, status("x"))).toBeNull();
      expect(await backend.getGroup(uniqueName("nope"))).toBeNull();
    });

    test("initGroup on an existing id resets it", async () => {
      const id = uniqueName("grp");
      await backend.initGroup({ id, expected: 2, meta: { v: 1 } });
      await backend.addGroupResult(id, 0, status("m0"));
      await backend.initGroup({ id, expected: 3, meta: { v: 2 } });
      const group = await backend.getGroup(id);
      expect(group).toMatchObject({ expected: 3, completed: 0, meta: { v: 2 }, results: {} });
    });

    test("a group expires after its ttl", async () => {
      const id = uniqueName("grp");
      await backend.initGroup({ id, expected: 2, ttlMs: 300 });
      await sleep(500);
      expect(await backend.getGroup(id)).toBeNull();
      expect(await backend.addGroupResult(id, 0, status("m0"))).toBeNull();
    });

    test("concurrent group updates from two instances complete the group exactly once", async () => {
      const other = await ctx.peer();
      const id = uniqueName("grp");
      const n = 60;
      await backend.initGroup({ id, expected: n });
      const updates = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          (i % 2 ? other : backend).addGroupResult(id, i, status(`m${i}`, { result: i })),
        ),
      );
      const completions = updates.filter((g) => g?.completed === n);
      expect(completions.length).toBe(1);
      const counts = updates.map((g) => g!.completed).sort((a, b) => a - b);
      expect(counts).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      const claims = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? other : backend).claimChord(id, `cb-${i}`)),
      );
      expect(claims.filter(Boolean).length).toBe(1);
      const group = await backend.getGroup(id);
      expect(group?.claimedBy).toBe(`cb-${claims.indexOf(true)}`);
    });

    test("a chord claim repeated by its owner wins again; other owners and missing groups lose", async () => {
      const other = await ctx.peer();
      const id = uniqueName("grp");
      await backend.initGroup({ id, expected: 1 });
      expect(await backend.claimChord(id, "member-a")).toBe(true);
      // The same owner again (a retried write whose first reply was lost), from anywhere.
      expect(await other.claimChord(id, "member-a")).toBe(true);
      expect(await backend.claimChord(id, "member-a")).toBe(true);
      expect(await other.claimChord(id, "member-b")).toBe(false);
      expect((await backend.getGroup(id))?.claimedBy).toBe("member-a");
      expect(await backend.claimChord(uniqueName("missing"), "member-a")).toBe(false);
      // Re-initialising the group clears the claim.
      await backend.initGroup({ id, expected: 1 });
      expect(await backend.claimChord(id, "member-b")).toBe(true);
    });

    test("heartbeats are stored, overwritten, listed and expire", async () => {
      const id = uniqueName("worker");
      await backend.setHeartbeat(heartbeat(id, { extras: { version: 1 } }), 60_000);
      await backend.setHeartbeat(heartbeat(id, { inflight: 3, extras: { version: 2 } }), 400);
      const got = await backend.getHeartbeat(id);
      expect(got).toMatchObject({ workerId: id, inflight: 3, queues: ["default"] });
      expect(got?.extras).toEqual({ version: 2 });
      const listed = (await backend.listHeartbeats()).filter((h) => h.workerId === id);
      expect(listed.length).toBe(1);
      await sleep(600);
      expect(await backend.getHeartbeat(id)).toBeNull();
      expect((await backend.listHeartbeats()).some((h) => h.workerId === id)).toBe(false);
    });

    test("a removed heartbeat is neither got nor listed; removing a missing one is a no-op", async () => {
      const id = uniqueName("worker");
      const other = uniqueName("worker");
      await backend.setHeartbeat(heartbeat(id), 60_000);
      await backend.setHeartbeat(heartbeat(other), 60_000);
      await backend.removeHeartbeat(id);
      expect(await backend.getHeartbeat(id)).toBeNull();
      const listed = (await backend.listHeartbeats()).map((h) => h.workerId);
      expect(listed).not.toContain(id);
      expect(listed).toContain(other);
      await backend.removeHeartbeat(id);
      await backend.removeHeartbeat(uniqueName("never-seen"));
    });
  });
}
