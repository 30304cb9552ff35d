/**
 * The worker side of canvas: a settled hook that, when a canvas member reaches its final
 * state, settles the frames its envelope carries, innermost first: a task's own callbacks
 * start (`link` / `linkError`, see links.ts); a chain starts its next step or finishes; a
 * group records the member and, on its last member, finishes (a chord starts its
 * callback); a chord callback finishes its chord. Completion travels outward until
 * something is still waiting.
 *
 * The hook runs before the member is acked, so a worker that dies part way leaves the
 * member to be delivered again, and its hook runs again. Every step here therefore
 * tolerates running twice: planned ids are fixed, so nothing that already exists is
 * enqueued again (a task whose status says `queued` but whose publish may have failed is
 * published again; the broker refuses an id it holds), and a group's completion is claimed
 * once (`claimChord`) by a member, whose re-run wins the claim again and finishes a
 * completion its first run left unfinished.
 */
import type { ResultBackend } from "../adapters/contracts.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import type { Envelope } from "../core/envelope.ts";
import { formatDuration } from "../core/duration.ts";
import { isTransientError } from "../core/errors.ts";
import type { ChordTimeouts } from "./chord-timeout.ts";
import { logger } from "../core/logger.ts";
import { type TaskError, type TaskStatus, isTerminal, taskErrorFrom } from "../core/states.ts";
import type { Stem } from "../core/stem.ts";
import type { SettledHook } from "../worker/task-runner.ts";
import { LaunchPlan, queueOfTask } from "./launch.ts";
import { startLinks } from "./links.ts";
import {
  type CanvasNode,
  CanvasMeta,
  type ChainFrame,
  type ChordFrame,
  type Frame,
  type GroupFrame,
  type GroupMeta,
  type TaskNode,
  refOf,
} from "./nodes.ts";
import { canvasRecord, errorOf, failedMemberOf, notRunRecords } from "./records.ts";

/** How a node ended; `status` is what an enclosing group records for it. */
type Outcome =
  | { ok: true; value: unknown; status: TaskStatus }
  | { ok: false; error: TaskError; failedMember: string; status: TaskStatus };

/** What to settle next, or null when nothing more happens now. */
type Next = { outcome: Outcome; frames: Frame[] } | null;

/**
 * The settled hook that drives chains, groups and chords on a worker. Clients wire it into
 * every worker they create; add it yourself to a `Worker` built by hand:
 * `new Worker({ ..., onSettled: [canvasSettledHook(stem)] })`.
 */
export function canvasSettledHook(stem: Stem, clock: Clock = systemClock): SettledHook {
  return settledHookOf(new Settler(stem, clock));
}

/** The settled hook running on `settler`. */
export function settledHookOf(settler: Settler): SettledHook {
  return async (envelope: Envelope, status: TaskStatus) => {
    const frames = envelope.meta[CanvasMeta.frames];
    if (!Array.isArray(frames) || frames.length === 0 || !isTerminal(status.state)) return;
    await settler.settle(frames as Frame[], outcomeOf(status));
  };
}

function outcomeOf(status: TaskStatus): Outcome {
  if (status.state === "succeeded") return { ok: true, value: status.result ?? null, status };
  return { ok: false, error: errorOf(status), failedMember: failedMemberOf(status), status };
}

/**
 * A failure that running the hook again would not fix (unknown task, bad options); other
 * failures propagate, and the member is redelivered and tries again.
 */
function isPermanent(error: unknown): boolean {
  return !isTransientError(error);
}

/** Drives canvases on: the settled hook's work, and chord timeouts (see chord-timeout.ts). */
export class Settler implements ChordTimeouts {
  private readonly backend: ResultBackend;

  constructor(
    private readonly stem: Stem,
    private readonly clock: Clock,
  ) {
    this.backend = stem.backend;
  }

  settle(frames: Frame[], first: Outcome): Promise<void> {
    return this.carryOn({ outcome: first, frames }, []);
  }

  /**
   * Settles frames outward from `next`. Group records (`deferred`) are written after what
   * follows the group has been started: a finished group record means its continuation
   * was done (see groupMember).
   */
  private async carryOn(start: Next, deferred: TaskStatus[]): Promise<void> {
    let next = start;
    while (next && next.frames.length > 0) {
      const [frame, ...outer] = next.frames;
      if (frame.t === "chain") next = await this.chainStep(frame, outer, next.outcome);
      else if (frame.t === "group") next = await this.groupMember(frame, next.outcome, deferred);
      else if (frame.t === "link") {
        // A task's own callbacks; its outcome then goes on outward unchanged.
        await startLinks(this.stem, frame, next.outcome.status, this.clock.now());
        next = { outcome: next.outcome, frames: outer };
      } else next = await this.chordCallback(frame, outer, next.outcome);
    }
    if (deferred.length > 0) await this.backend.set(deferred);
  }

  private queueOf = (node: TaskNode): string => queueOfTask(this.stem, node);

  /** Step `frame.index` of a chain finished: start the next step, or finish the chain. */
  private async chainStep(frame: ChainFrame, outer: Frame[], outcome: Outcome): Promise<Next> {
    const now = this.clock.now();
    const current = await this.backend.get(frame.id);
    if (current?.state === "failed") {
      logger.warn(
        `chain ${frame.id} already failed; ignoring step ${frame.index} (${outcome.status.id})`,
      );
      return null;
    }
    await this.backend.addGroupResult(frame.id, frame.index, outcome.status);
    const completed = frame.index + 1;
    if (!outcome.ok) {
      return this.abortChain(
        frame,
        outer,
        frame.rest,
        outcome.error,
        outcome.failedMember,
        frame.index,
        now,
      );
    }
    if (frame.rest.length === 0) {
      const record = canvasRecord({
        id: frame.id,
        kind: "chain",
        state: "succeeded",
        members: frame.members,
        createdAt: frame.createdAt,
        now,
        result: outcome.value,
        meta: { completed },
      });
      await this.backend.set([record]);
      return { outcome: { ok: true, value: outcome.value, status: record }, frames: outer };
    }
    const [nextNode, ...after] = frame.rest;
    // Recorded before the next step starts: that step may finish (and write the record)
    // before this hook returns.
    const done = typeof current?.meta.completed === "number" ? current.meta.completed : 0;
    if (!current || (current.state !== "succeeded" && done < completed)) {
      await this.backend.set([
        canvasRecord({
          id: frame.id,
          kind: "chain",
          state: "running",
          members: frame.members,
          createdAt: frame.createdAt,
          now,
          meta: { completed },
        }),
      ]);
    }
    const nextFrame: ChainFrame = { ...frame, index: completed, rest: after };
    try {
      await new LaunchPlan(now)
        .add(nextNode, [nextFrame, ...outer], { previous: { value: outcome.value } })
        .store(this.stem, { skipExisting: true });
    } catch (error) {
      if (!isPermanent(error)) throw error;
      logger.error(
        `chain ${frame.id}: step ${completed} could not start: ${(error as Error).message}`,
      );
      return this.abortChain(
        frame,
        outer,
        frame.rest,
        taskErrorFrom(error),
        nextNode.id,
        completed,
        now,
      );
    }
    return null;
  }

  /** Marks `notRun` as never run and fails the chain with the member's error. */
  private async abortChain(
    frame: ChainFrame,
    outer: Frame[],
    notRun: CanvasNode[],
    error: TaskError,
    failedMember: string,
    completed: number,
    now: number,
  ): Promise<Next> {
    const record = canvasRecord({
      id: frame.id,
      kind: "chain",
      state: "failed",
      members: frame.members,
      createdAt: frame.createdAt,
      now,
      error,
      meta: { completed, failedMember, notRun: notRun.map((n) => n.id) },
    });
    await this.backend.set([
      ...notRunRecords(notRun, "chain-aborted", frame.id, now, this.queueOf),
      record,
    ]);
    return { outcome: { ok: false, error, failedMember, status: record }, frames: outer };
  }

  /**
   * Member `frame.index` of a group (or chord body) finished: record it; whoever records
   * the last member and wins the claim finishes the group or starts the chord callback.
   */
  private async groupMember(
    frame: GroupFrame,
    outcome: Outcome,
    deferred: TaskStatus[],
  ): Promise<Next> {
    const group = await this.backend.addGroupResult(frame.id, frame.index, outcome.status);
    if (!group) {
      logger.warn(
        `group ${frame.id} is missing or expired; result of member ${outcome.status.id} dropped`,
      );
      return null;
    }
    if (group.completed < group.expected) return null;
    const meta = group.meta as unknown as GroupMeta;
    const statuses = Array.from({ length: group.expected }, (_, i) => group.results[i]);
    const failures = statuses.flatMap((s, index) =>
      s?.state === "succeeded" ? [] : [{ index, id: meta.members[index].id, error: errorOf(s) }],
    );
    const values = statuses.map((s) => s?.result ?? null);
    const callback = meta.callback;
    // A partial chord runs its callback despite failed members.
    const failedIndex = callback && meta.partial ? -1 : (failures[0]?.index ?? -1);
    // One member finishes the group: the first to claim it. The claim is owned by the
    // member's id, so that member's redelivery (its first run died part way, or the
    // claim's reply was lost) wins again and finishes what the first run started.
    if (!(await this.backend.claimChord(frame.id, outcome.status.id))) return null;
    const current = await this.backend.get(frame.id);
    // A finished record means the completion was done (for a group, its continuation
    // too: the record is written after it; for a chord, the callback has finished).
    if (current && isTerminal(current.state)) return null;
    const now = this.clock.now();
    const base = {
      id: frame.id,
      kind: meta.kind,
      members: meta.members,
      createdAt: meta.createdAt,
      now,
    };
    const callbackMeta = chordRecordMeta(meta);
    if (failedIndex !== -1) {
      const failed = statuses[failedIndex];
      const error = errorOf(failed);
      const failedMember = failedMemberOf(failed);
      if (callback)
        await this.backend.set(
          notRunRecords([callback], "chord-aborted", frame.id, now, this.queueOf),
        );
      const record = canvasRecord({
        ...base,
        state: "failed",
        error,
        meta: { ...callbackMeta, failedMember, failedIndex },
      });
      deferred.push(record);
      return { outcome: { ok: false, error, failedMember, status: record }, frames: meta.frames };
    }
    if (!callback) {
      const record = canvasRecord({ ...base, state: "succeeded", result: values });
      deferred.push(record);
      return { outcome: { ok: true, value: values, status: record }, frames: meta.frames };
    }
    // Chord: the record says running before the callback can finish and overwrite it (a
    // redelivered owner finds it running already and leaves it alone).
    if (failures.length > 0) callbackMeta.failedMembers = failures.map((f) => f.id);
    if (current?.state !== "running")
      await this.backend.set([canvasRecord({ ...base, state: "running", meta: callbackMeta })]);
    const chordFrame: ChordFrame = {
      t: "chord",
      id: frame.id,
      members: meta.members,
      callback: refOf(callback),
      createdAt: meta.createdAt,
    };
    try {
      await new LaunchPlan(now)
        .add(callback, [chordFrame, ...meta.frames], {
          previous: { value: values },
          results: values,
          ...(failures.length > 0 ? { failures } : {}),
        })
        .store(this.stem, { skipExisting: true });
    } catch (error) {
      if (!isPermanent(error)) throw error;
      logger.error(`chord ${frame.id}: the callback could not start: ${(error as Error).message}`);
      const taskError = taskErrorFrom(error);
      const record = canvasRecord({
        ...base,
        state: "failed",
        error: taskError,
        meta: { ...callbackMeta, failedMember: callback.id },
      });
      await this.backend.set([
        ...notRunRecords([callback], "chord-aborted", frame.id, now, this.queueOf),
        record,
      ]);
      return {
        outcome: { ok: false, error: taskError, failedMember: callback.id, status: record },
        frames: meta.frames,
      };
    }
    return null;
  }

  /**
   * The timeout check of chord `chordId` came due. Unless its members have all settled
   * (its last member then finishes it) or someone else claimed its completion, claims it
   * for `owner` (the check task) and fails the chord with reason `chord-timeout`, listing
   * the members that had not settled in meta.missing; what follows the chord goes on with
   * that failure. True when this call timed the chord out.
   */
  async timeOutChord(chordId: string, owner: string): Promise<boolean> {
    const group = await this.backend.getGroup(chordId);
    if (!group) return false;
    if (group.claimedBy === undefined && group.completed >= group.expected) return false;
    if (!(await this.backend.claimChord(chordId, owner))) return false;
    const current = await this.backend.get(chordId);
    if (current && isTerminal(current.state)) return false;
    const meta = group.meta as unknown as GroupMeta;
    const missing = meta.members.filter((_, i) => !(i in group.results)).map((m) => m.id);
    const now = this.clock.now();
    const error: TaskError = {
      type: "ChordTimeout",
      message: `chord ${chordId} timed out after ${formatDuration(meta.timeoutMs ?? now - meta.createdAt)}: ${missing.length} of ${group.expected} members had not settled`,
    };
    const record = canvasRecord({
      id: chordId,
      kind: "chord",
      state: "failed",
      members: meta.members,
      createdAt: meta.createdAt,
      now,
      error,
      meta: { ...chordRecordMeta(meta), reason: "chord-timeout", missing },
    });
    logger.warn(error.message);
    if (meta.callback) {
      await this.backend.set(
        notRunRecords([meta.callback], "chord-timeout", chordId, now, this.queueOf),
      );
    }
    const outcome: Outcome = { ok: false, error, failedMember: chordId, status: record };
    await this.carryOn({ outcome, frames: meta.frames }, [record]);
    return true;
  }

  /** A chord's callback finished: so did the chord, with the callback's result or error. */
  private async chordCallback(frame: ChordFrame, outer: Frame[], outcome: Outcome): Promise<Next> {
    const base = {
      id: frame.id,
      kind: "chord" as const,
      members: frame.members,
      createdAt: frame.createdAt,
      now: this.clock.now(),
    };
    // The callback's final status is kept here too (see CanvasHandle.members).
    const meta = { callback: frame.callback, callbackStatus: outcome.status };
    const record = outcome.ok
      ? canvasRecord({ ...base, state: "succeeded", result: outcome.value, meta })
      : canvasRecord({
          ...base,
          state: "failed",
          error: outcome.error,
          meta: { ...meta, failedMember: outcome.failedMember },
        });
    await this.backend.set([record]);
    const settled: Outcome = outcome.ok
      ? { ok: true, value: outcome.value, status: record }
      : { ok: false, error: outcome.error, failedMember: outcome.failedMember, status: record };
    return { outcome: settled, frames: outer };
  }
}

/** What a chord's record keeps in meta besides its members: callback, policy, timeout. */
function chordRecordMeta(meta: GroupMeta): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!meta.callback) return out;
  out.callback = refOf(meta.callback);
  if (meta.partial) out.partial = true;
  if (meta.timeoutMs !== undefined) out.timeoutAt = meta.createdAt + meta.timeoutMs;
  return out;
}
