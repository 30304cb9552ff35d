/**
 * Checks for workflow stores on a shared server, beyond the contract suite:
 * - races: two connections (as two processes) resolving the same topic, taking the same
 *   due runs, or both at once, and claiming one run: every run is handed out once;
 * - equivalence: random sequences of operations give the same answers and leave the
 *   same state as the reference in-memory store, with both on one fake clock.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { MemoryWorkflowStore } from "../../src/adapters/memory/workflow-store.ts";
import type { WorkflowStore } from "../../src/adapters/contracts.ts";
import { StemError } from "../../src/core/errors.ts";
import { FakeClock } from "../../src/testing/fake-clock.ts";
import type { ContractSubject } from "../../src/testing/harness.ts";
import {
  WORKFLOW_CONTRACT_START,
  type WorkflowStoreContractFactory,
} from "../../src/testing/workflow-store-contract.ts";

/** Every id handed out, failing on the first one handed out twice. */
function expectEachOnce(ids: string[], expected: string[]): void {
  const seen = new Set<string>();
  for (const id of ids) {
    expect(seen.has(id) ? `${id} handed out twice` : id).toBe(id);
    seen.add(id);
  }
  expect([...seen].sort()).toEqual([...expected].sort());
}

export function workflowStoreRaces(name: string, factory: WorkflowStoreContractFactory): void {
  describe(`WorkflowStore races: ${name}`, () => {
    let ctx: ContractSubject<WorkflowStore>;
    let clock: FakeClock;
    let one: WorkflowStore;
    let two: WorkflowStore;
    beforeEach(async () => {
      clock = new FakeClock(WORKFLOW_CONTRACT_START);
      ctx = await factory.create(clock);
      one = ctx.subject;
      two = await ctx.peer();
    });
    afterEach(async () => {
      await ctx.cleanup();
    });

    const createRuns = (n: number) =>
      Promise.all(Array.from({ length: n }, () => one.createRun({ workflow: "race" })));

    /** Both stores call `take` in parallel rounds until a round hands out nothing. */
    async function drain(take: (store: WorkflowStore, i: number) => Promise<string[]>) {
      const taken: string[] = [];
      for (let round = 0; round < 100; round++) {
        const batch = (
          await Promise.all(
            Array.from({ length: 8 }, (_, i) => take(i % 2 ? two : one, round * 8 + i)),
          )
        ).flat();
        if (batch.length === 0) return taken;
        taken.push(...batch);
      }
      throw new Error("the stores kept handing out runs");
    }

    test("two connections racing resolveWatchers on one topic resume each run exactly once", async () => {
      const ids = await createRuns(40);
      await Promise.all(ids.map((id) => one.suspendOnTopic(id, "wait", "race.topic")));
      const payloadOf = new Map<string, unknown>();
      const resolved = await drain(async (store, i) => {
        const resolutions = await store.resolveWatchers("race.topic", { call: i }, { limit: 3 });
        for (const r of resolutions) payloadOf.set(r.runId, r.resumeData.payload);
        return resolutions.map((r) => r.runId);
      });
      expectEachOnce(resolved, ids);
      for (const id of ids) {
        const run = (await two.get(id))!;
        expect(run.status).toBe("running");
        // The run resumed with the payload of the call that resolved it.
        expect(run.suspensionData?.payload).toEqual(payloadOf.get(id));
      }
      expect(await one.listWatchers("race.topic")).toEqual([]);
    });

    test("two connections racing dueRuns on the same runs each take a run once", async () => {
      const ids = await createRuns(40);
      await Promise.all(ids.map((id) => one.suspendUntil(id, "nap", clock.now() - 10)));
      const taken = await drain((store) => store.dueRuns(clock.now(), 3));
      expectEachOnce(taken, ids);
      // Nothing comes back until the redelivery window has passed.
      expect(await one.dueRuns(clock.now())).toEqual([]);
    });

    test("an event racing the due-run sweep resumes each run once: by the event or as due", async () => {
      const ids = await createRuns(40);
      await Promise.all(
        ids.map((id) =>
          one.suspendOnTopic(id, "wait", "deadline.topic", { deadline: clock.now() - 1 }),
        ),
      );
      const handedOut = await drain(async (store, i) =>
        i % 4 < 2
          ? (await store.resolveWatchers("deadline.topic", { i }, { limit: 2 })).map((r) => r.runId)
          : store.dueRuns(clock.now(), 2),
      );
      expectEachOnce(handedOut, ids);
    });

    test("two connections claiming one run: exactly one owner wins", async () => {
      const [id] = await createRuns(1);
      const wins = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? two : one).claimRun(id, `owner-${i}`, 60_000),
        ),
      );
      expect(wins.filter((w) => w !== null)).toEqual([1]);
      const owner = `owner-${wins.indexOf(1)}`;
      expect((await one.get(id))!.ownerId).toBe(owner);
    });
  });
}

/** A small deterministic random source (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)],
    chance: (p: number) => next() < p,
  };
}

const RUNS = Array.from({ length: 6 }, (_, i) => `run-${i}`);
const STEPS = ["a", "b", "loop#0", "loop#1", "loop#2", "c", "x#y"];
const TOPICS = ["t.one", "t.two"];
const OWNERS = ["owner-a", "owner-b"];
const VALUES: unknown[] = [
  null,
  0,
  0.1,
  -2.5e-7,
  1234567890123,
  "text",
  'quote " and \\ and ünïcödé ✓',
  [],
  {},
  [1, [2, []], { a: {} }],
  { nested: { list: [true, false, null], n: 3.14159 } },
];

/** An operation: its label (for failure messages) and how to run it on a store. */
type Op = [string, (store: WorkflowStore) => Promise<unknown>];

function randomOp(r: ReturnType<typeof random>, clock: FakeClock): Op {
  // "run-late" does not exist until a createRun makes it (after the others, last in id order).
  const run = r.pick([...RUNS, "run-late"]);
  const step = r.pick(STEPS);
  const topic = r.pick(TOPICS);
  const owner = r.pick(OWNERS);
  const value = r.pick(VALUES);
  const data = r.chance(0.5) ? { note: value, payload: "overridden" } : undefined;
  const now = clock.now();
  const deadline = r.chance(0.5) ? now + r.pick([-5, 0, 1000, 70_000]) : undefined;
  const limit = r.pick([1, 2, 256]);
  const resumeAt = now + r.pick([-1, 0, 500]);
  const flag = r.chance(0.5);
  const terminal = r.chance(0.3);
  // Claims number from 1 per run: small tokens hit current and stale ones alike.
  const fence = r.chance(0.4) ? r.pick([1, 2, 3]) : undefined;
  const retainFor = r.pick([undefined, 1_000, 100_000]);
  const pruneBefore = now - r.pick([0, 1_000, 70_000]);
  const ops: Op[] = [
    [`saveStep ${run} ${step}`, (s) => s.saveStep(run, step, value)],
    [`saveStep ${run} ${step} fence ${fence}`, (s) => s.saveStep(run, step, value, { fence })],
    [
      `suspendOnTopic ${run} ${topic} fence ${fence}`,
      (s) => s.suspendOnTopic(run, step, topic, { deadline, fence }),
    ],
    [`markCompleted ${run} fence ${fence}`, (s) => s.markCompleted(run, value, { fence })],
    [`releaseRun ${run} ${owner} fence ${fence}`, (s) => s.releaseRun(run, owner, { fence })],
    [
      `resolveWatchers ${topic} retainFor ${retainFor}`,
      (s) => s.resolveWatchers(topic, value, { limit, retainFor }),
    ],
    [`pruneRuns dry`, (s) => s.pruneRuns(pruneBefore, { dryRun: true })],
    [`pruneRuns ${limit}`, (s) => s.pruneRuns(pruneBefore, { limit })],
    [`readStep ${run} ${step}`, (s) => s.readStep(run, step)],
    [`rewindToStep ${run} ${step}`, (s) => s.rewindToStep(run, step)],
    [`suspendUntil ${run}`, (s) => s.suspendUntil(run, step, resumeAt, data)],
    [
      `suspendOnTopic ${run} ${topic}`,
      (s) => s.suspendOnTopic(run, step, topic, { deadline, data }),
    ],
    [
      `suspendOnTopic (watcher) ${run} ${topic}`,
      (s) => s.suspendOnTopic(run, step, topic, { deadline }),
    ],
    [`resolveWatchers ${topic}`, (s) => s.resolveWatchers(topic, value, { limit })],
    [`dueRuns ${limit}`, (s) => s.dueRuns(clock.now(), limit)],
    [`markRunning ${run}`, (s) => s.markRunning(run, flag ? { stepName: step } : {})],
    [`markCompleted ${run}`, (s) => s.markCompleted(run, value)],
    [
      `markFailed ${run}`,
      (s) => s.markFailed(run, { message: "boom", type: "TypeError" }, { terminal }),
    ],
    [`markResumed ${run}`, (s) => s.markResumed(run, data)],
    [`cancel ${run}`, (s) => s.cancel(run, flag ? "policy" : undefined, data)],
    [`claimRun ${run} ${owner}`, (s) => s.claimRun(run, owner, 5_000)],
    [`renewRunLease ${run} ${owner}`, (s) => s.renewRunLease(run, owner, 5_000)],
    [`releaseRun ${run} ${owner}`, (s) => s.releaseRun(run, owner)],
    [`createRun ${run} again`, (s) => s.createRun({ workflow: "again", runId: run })],
  ];
  return r.pick(ops);
}

/** What an operation returned, or the code of the StemError it threw. */
async function outcome(op: Op, store: WorkflowStore): Promise<unknown> {
  try {
    return { value: await op[1](store) };
  } catch (error) {
    if (error instanceof StemError) return { error: error.code };
    throw error;
  }
}

/** Everything a store can be asked about the runs of the equivalence test. */
async function snapshot(store: WorkflowStore) {
  const perRun = [];
  for (const id of RUNS)
    perRun.push({ run: await store.get(id), steps: await store.listSteps(id) });
  const perTopic = [];
  for (const topic of TOPICS) {
    perTopic.push({
      watchers: await store.listWatchers(topic),
      waiting: await store.runsWaitingOn(topic),
    });
  }
  return {
    perRun,
    perTopic,
    all: await store.listRuns({ limit: 100 }),
    page: await store.listRuns({ limit: 2, offset: 1 }),
    suspended: await store.listRuns({ status: "suspended" }),
    ofWorkflow: await store.listRuns({ workflow: "equivalence", status: "running", offset: 1 }),
    runnable: await store.listRunnableRuns(),
    runnablePage: await store.listRunnableRuns({ limit: 2, offset: 1 }),
  };
}

export function workflowStoreMatchesMemory(
  name: string,
  factory: WorkflowStoreContractFactory,
): void {
  describe(`WorkflowStore equivalence with the memory store: ${name}`, () => {
    for (const seed of [1, 2, 3, 4]) {
      test(`seed ${seed}: 250 random operations give the same answers and state`, async () => {
        const clock = new FakeClock(WORKFLOW_CONTRACT_START);
        const ctx = await factory.create(clock);
        try {
          const reference = new MemoryWorkflowStore(clock);
          const store = ctx.subject;
          const r = random(seed);
          // Created in id order, so ties in time order the same way in every store.
          for (const id of RUNS) {
            const workflow = r.chance(0.5) ? "equivalence" : "other";
            const params = { id, value: r.pick(VALUES) };
            await reference.createRun({ workflow, runId: id, params });
            await store.createRun({ workflow, runId: id, params });
            await clock.advance(r.pick([0, 1]));
          }
          for (let i = 0; i < 250; i++) {
            if (r.chance(0.2)) await clock.advance(r.pick([1, 400, 3_000, 61_000]));
            const op = randomOp(r, clock);
            const label = `op ${i} (${op[0]})`;
            expect({ label, result: await outcome(op, store) }).toEqual({
              label,
              result: await outcome(op, reference),
            });
            if (i % 10 === 9) {
              expect({ label, state: await snapshot(store) }).toEqual({
                label,
                state: await snapshot(reference),
              });
            }
          }
        } finally {
          await ctx.cleanup();
        }
      });
    }
  });
}
