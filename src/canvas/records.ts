/**
 * Status records of canvases, kept in the result backend under the canvas id so that
 * `stem result ID` and `getTaskStatus` show them like any task: name `stem.chain`,
 * `stem.group` or `stem.chord`, a state, the result or the failing member's error, and
 * meta listing the members.
 */
import type { TaskError, TaskState, TaskStatus } from "../core/states.ts";
import {
  CANVAS_QUEUE,
  type CanvasNode,
  CanvasMeta,
  type MemberRef,
  nodeName,
  subtree,
} from "./nodes.ts";

export interface RecordFields {
  id: string;
  kind: "chain" | "group" | "chord";
  state: TaskState;
  members: MemberRef[];
  createdAt: number;
  now: number;
  result?: unknown;
  error?: TaskError;
  /** Extra meta (callback, completed, failedMember, notRun, …). */
  meta?: Record<string, unknown>;
}

/** A canvas status record. */
export function canvasRecord(f: RecordFields): TaskStatus {
  const status: TaskStatus = {
    id: f.id,
    name: `stem.${f.kind}`,
    queue: CANVAS_QUEUE,
    state: f.state,
    attempt: 0,
    meta: { [CanvasMeta.kind]: f.kind, members: f.members, ...f.meta },
    createdAt: f.createdAt,
    updatedAt: f.now,
  };
  if (f.state !== "queued") status.startedAt = f.createdAt;
  if (f.state === "succeeded" || f.state === "failed") status.finishedAt = f.now;
  if (f.result !== undefined) status.result = f.result;
  if (f.error !== undefined) status.error = f.error;
  return status;
}

/**
 * "Not run" records for nodes that will never run because the canvas they belong to
 * failed first: state revoked, meta.reason `chain-aborted`, `chord-aborted` or
 * `chord-timeout`.
 */
export function notRunRecords(
  nodes: CanvasNode[],
  reason: "chain-aborted" | "chord-aborted" | "chord-timeout",
  canvasId: string,
  now: number,
  queueOf: (node: CanvasNode & { k: "task" }) => string,
): TaskStatus[] {
  return nodes.flatMap(subtree).map((node) => ({
    id: node.id,
    name: nodeName(node),
    queue: node.k === "task" ? queueOf(node) : CANVAS_QUEUE,
    state: "revoked" as const,
    attempt: 0,
    meta: { reason, canvasId, ...(node.k === "task" ? {} : { [CanvasMeta.kind]: node.k }) },
    createdAt: now,
    updatedAt: now,
    finishedAt: now,
  }));
}

/** The error a member's final status carries (revoked members get one made up). */
export function errorOf(status: TaskStatus): TaskError {
  if (status.error) return status.error;
  if (status.state === "revoked") {
    const reason = status.meta.revokedReason ?? status.meta.reason ?? "revoked";
    return {
      type: "TaskRevoked",
      message: `task ${status.id} (${status.name}) was revoked: ${reason}`,
    };
  }
  return {
    type: "TaskFailed",
    message: `task ${status.id} (${status.name}) ended ${status.state}`,
  };
}

/** The innermost failing task behind a status (a canvas record points at it in meta). */
export function failedMemberOf(status: TaskStatus): string {
  const inner = status.meta.failedMember;
  return typeof inner === "string" ? inner : status.id;
}
