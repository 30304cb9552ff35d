/**
 * Starting canvas nodes: one plan collects the groups to create, the status records to
 * write and the tasks to enqueue for a node and everything that starts with it, then
 * stores them in that order (groups before records before tasks), so a member never
 * settles before the group it reports to exists.
 */
import type { GroupDescriptor } from "../adapters/contracts.ts";
import type { TaskCall } from "../core/definition.ts";
import { Headers } from "../core/envelope.ts";
import type { TaskError, TaskStatus } from "../core/states.ts";
import type { Stem } from "../core/stem.ts";
import { chordTimeoutCall } from "./chord-timeout.ts";
import {
  CanvasMeta,
  type CanvasNode,
  type Frame,
  type GroupMeta,
  refOf,
  type TaskNode,
} from "./nodes.ts";
import { canvasRecord } from "./records.ts";

/** What a starting node receives from what ran before it. */
export interface LaunchInput {
  /** Present when something ran before: its result. */
  previous?: { value: unknown };
  /** For chord callbacks: the ordered member results, passed as `args.results`. */
  results?: unknown[];
  /** For the callback of a partial chord: its failed members, passed as `args.failures`. */
  failures?: ChordMemberFailure[];
  /** For an error callback (`linkError`): the task that failed, passed as `args.failure`. */
  failure?: LinkedFailure;
}

/** What an error callback (`linkError`) gets as `args.failure`: the task that failed for good. */
export interface LinkedFailure {
  id: string;
  /** The failed task's name. */
  name: string;
  /** Its error as stored: type, message, and the stack when the handler's error had one. */
  error: TaskError;
}

/** A failed member, as the callback of a chord with `onMemberFailure: "partial"` gets it. */
export interface ChordMemberFailure {
  /** The member's position among the chord's members. */
  index: number;
  id: string;
  error: TaskError;
}

/** A chord's timeout check to enqueue, routed like the chord's callback. */
interface TimeoutCheck {
  call: TaskCall;
  routeLike: CanvasNode;
}

/** Groups, records and tasks that starting some nodes needs, in storing order. */
export class LaunchPlan {
  readonly groups: GroupDescriptor[] = [];
  readonly records: TaskStatus[] = [];
  readonly calls: TaskCall[] = [];
  readonly timeoutChecks: TimeoutCheck[] = [];

  constructor(private readonly now: number) {}

  /** Adds `node`, settling `frames` when it finishes. */
  add(node: CanvasNode, frames: Frame[], input: LaunchInput): this {
    const now = this.now;
    switch (node.k) {
      case "task":
        this.calls.push(leafCall(node, frames, input));
        break;
      case "chain": {
        const members = node.steps.map(refOf);
        // Keeps each step's final status by index (see CanvasHandle.members); nothing
        // waits on this group's count.
        this.groups.push({ id: node.id, expected: node.steps.length, meta: { kind: "chain" } });
        this.records.push(
          canvasRecord({
            id: node.id,
            kind: "chain",
            state: "queued",
            members,
            createdAt: now,
            now,
            meta: { completed: 0 },
          }),
        );
        const frame: Frame = {
          t: "chain",
          id: node.id,
          index: 0,
          members,
          rest: node.steps.slice(1),
          createdAt: now,
        };
        this.add(node.steps[0], [frame, ...frames], input);
        break;
      }
      case "group":
      case "chord": {
        const members = node.members.map(refOf);
        const meta: GroupMeta = { kind: node.k, members, frames, createdAt: now };
        const recordMeta: Record<string, unknown> = {};
        if (node.k === "chord") {
          meta.callback = node.callback;
          recordMeta.callback = refOf(node.callback);
          if (node.partial) meta.partial = recordMeta.partial = true;
          if (node.timeoutMs !== undefined) {
            meta.timeoutMs = node.timeoutMs;
            recordMeta.timeoutAt = now + node.timeoutMs;
            this.timeoutChecks.push({
              call: chordTimeoutCall(node.id, now + node.timeoutMs),
              routeLike: node.callback,
            });
          }
        }
        this.groups.push({
          id: node.id,
          expected: node.members.length,
          meta: meta as unknown as Record<string, unknown>,
        });
        this.records.push(
          canvasRecord({
            id: node.id,
            kind: node.k,
            state: "queued",
            members,
            createdAt: now,
            now,
            meta: recordMeta,
          }),
        );
        node.members.forEach((member, index) => {
          this.add(member, [{ t: "group", id: node.id, index }], input);
        });
        break;
      }
    }
    return this;
  }

  /**
   * Stores the plan. With `skipExisting` (a worker continuing a canvas, which may be a
   * redelivery doing it a second time), a canvas record that already exists is left alone
   * (its group is not reset), and the tasks are enqueued with `Stem.enqueueOnce`: one that
   * has started (or finished) is left alone, however recently; one still `queued` is
   * published again, as the first attempt may have stored its status and then failed to
   * publish, and the broker refuses the id if it does hold it, so nothing runs twice.
   */
  async store(stem: Stem, { skipExisting }: { skipExisting: boolean }): Promise<void> {
    let { groups, records } = this;
    const calls = [...this.calls, ...this.timeoutChecks.map((check) => routed(stem, check))];
    if (skipExisting && records.length > 0) {
      const found = await stem.backend.getMany(records.map((r) => r.id));
      const existing = new Set(records.filter((_, i) => found[i] !== null).map((r) => r.id));
      groups = groups.filter((g) => !existing.has(g.id));
      records = records.filter((r) => !existing.has(r.id));
    }
    await Promise.all(groups.map((g) => stem.backend.initGroup(g)));
    if (records.length > 0) await stem.backend.set(records);
    if (calls.length === 0) return;
    await (skipExisting ? stem.enqueueOnce(calls) : stem.enqueueMany(calls));
  }
}

/** The queue a task node is routed to. */
export function queueOfTask(stem: Stem, node: TaskNode): string {
  return stem.router.queueFor(
    node.name,
    node.options.queue,
    stem.registry?.get(node.name)?.options.queue,
  );
}

/** The check's call on the queue the chord's callback (its first task) is routed to. */
function routed(stem: Stem, { call, routeLike }: TimeoutCheck): TaskCall {
  const queue = queueOfTask(stem, firstTask(routeLike));
  return { ...call, options: { ...call.options, queue } };
}

/** The task a node starts with. */
function firstTask(node: CanvasNode): TaskNode {
  switch (node.k) {
    case "task":
      return node;
    case "chain":
      return firstTask(node.steps[0]);
    case "group":
    case "chord":
      return firstTask(node.members[0]);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A member's args after the previous-result rules (see PreviousResultOptions). */
export function leafArgs(node: TaskNode, input: LaunchInput): Record<string, unknown> {
  let args: Record<string, unknown> = { ...node.args };
  if (input.results !== undefined) args.results = input.results;
  if (input.failures !== undefined) args.failures = input.failures;
  if (input.failure !== undefined) args.failure = input.failure;
  if (input.previous) {
    const value = input.previous.value;
    if (node.previousAs !== undefined) args[node.previousAs] = value;
    if (node.mergePrevious) {
      args = isPlainObject(value) ? { ...value, ...args } : { previous: value, ...args };
    }
  }
  return args;
}

function leafCall(node: TaskNode, frames: Frame[], input: LaunchInput): TaskCall {
  const headers: Record<string, string> = { ...node.options.headers };
  const meta: Record<string, unknown> = { ...node.options.meta, [CanvasMeta.frames]: frames };
  if (input.previous) meta[CanvasMeta.previousResult] = input.previous.value;
  const inner = frames[0];
  if (inner?.t === "group") {
    headers[Headers.groupId] = inner.id;
    meta[CanvasMeta.groupId] = inner.id;
    meta[CanvasMeta.groupIndex] = inner.index;
  } else if (inner?.t === "chord") {
    headers[Headers.chordId] = inner.id;
    meta[CanvasMeta.chordId] = inner.id;
  }
  return {
    name: node.name,
    args: leafArgs(node, input),
    options: { ...node.options, taskId: node.id, headers, meta },
  };
}
