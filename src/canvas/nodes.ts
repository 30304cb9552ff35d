/**
 * The plain-JSON form of a canvas, carried in envelope meta and group meta so that any
 * worker, in any process, can continue it. Signatures are compiled into nodes with their
 * ids assigned up front; frames say what to do when a node finishes.
 */

import { parseDuration } from "../core/duration.ts";
import type { EnqueueOptions } from "../core/enqueue-options.ts";
import { StemError } from "../core/errors.ts";
import type { TaskRegistry } from "../core/registry.ts";
import { uuidv7 } from "../core/uuid.ts";
import {
  type CanvasKind,
  type ChordSignature,
  isComposite,
  type Signature,
  type TaskSignature,
} from "./signatures.ts";

/** Meta keys the canvas uses. */
export const CanvasMeta = {
  /** On a member envelope: the frames to settle when it finishes (innermost first). */
  frames: "stem.canvas.frames",
  /** On a member envelope: the previous result (read by the worker as ctx.previousResult). */
  previousResult: "stem.chain.previousResult",
  /** On a direct group member: its group and index. */
  groupId: "stem.group.id",
  groupIndex: "stem.group.index",
  /** On a chord callback envelope: the chord it completes. */
  chordId: "stem.chord.id",
  /** On a canvas status record: its kind. */
  kind: "stem.canvas",
} as const;

/** Queue name shown on canvas status records. */
export const CANVAS_QUEUE = "canvas";

export interface TaskNode {
  k: "task";
  id: string;
  name: string;
  args: Record<string, unknown>;
  options: EnqueueOptions;
  previousAs?: string;
  mergePrevious?: boolean;
}
export interface ChainNode {
  k: "chain";
  id: string;
  steps: CanvasNode[];
}
export interface GroupNode {
  k: "group";
  id: string;
  members: CanvasNode[];
}
export interface ChordNode {
  k: "chord";
  id: string;
  members: CanvasNode[];
  callback: CanvasNode;
  /** Set when the callback runs despite failed members (see ChordFailurePolicy). */
  partial?: true;
  timeoutMs?: number;
}
export type CanvasNode = TaskNode | ChainNode | GroupNode | ChordNode;

/** How a canvas record names one of its members. */
export interface MemberRef {
  id: string;
  kind: CanvasKind;
  name: string;
}

/** A chain waiting for its step `index` to finish; `rest` are the steps after it. */
export interface ChainFrame {
  t: "chain";
  id: string;
  index: number;
  members: MemberRef[];
  rest: CanvasNode[];
  createdAt: number;
}
/** Member `index` of group (or chord body) `id`; what follows the group is in its group meta. */
export interface GroupFrame {
  t: "group";
  id: string;
  index: number;
}
/** The callback of chord `id`: when it finishes, so does the chord. */
export interface ChordFrame {
  t: "chord";
  id: string;
  members: MemberRef[];
  callback: MemberRef;
  createdAt: number;
}
/**
 * The callbacks of one task (`link` / `linkError`, see links.ts): `onSuccess` start when it
 * succeeds, `onError` when it fails for good. Always the innermost frame of its task.
 */
export interface LinkFrame {
  t: "link";
  onSuccess: TaskNode[];
  onError: TaskNode[];
}
export type Frame = ChainFrame | GroupFrame | ChordFrame | LinkFrame;

/** What a group (or chord) keeps in its group meta. */
export interface GroupMeta {
  kind: "group" | "chord";
  members: MemberRef[];
  /** What to settle when the group (or the chord's callback) finishes. */
  frames: Frame[];
  callback?: CanvasNode;
  createdAt: number;
  /** A chord whose callback runs despite failed members. */
  partial?: true;
  /** A chord's timeout (its check task fails it then; see chord-timeout.ts). */
  timeoutMs?: number;
}

/** Status record name for a node. */
export function nodeName(node: CanvasNode): string {
  return node.k === "task" ? node.name : `stem.${node.k}`;
}

export function refOf(node: CanvasNode): MemberRef {
  return { id: node.id, kind: node.k, name: nodeName(node) };
}

/** Every node of a subtree, the node itself first. */
export function subtree(node: CanvasNode): CanvasNode[] {
  switch (node.k) {
    case "task":
      return [node];
    case "chain":
      return [node, ...node.steps.flatMap(subtree)];
    case "group":
      return [node, ...node.members.flatMap(subtree)];
    case "chord":
      return [node, ...node.members.flatMap(subtree), ...subtree(node.callback)];
  }
}

/**
 * Turns signatures into nodes: assigns ids, checks that compositions are not empty, that
 * task names are registered (when the producer knows its tasks) and not unique, and makes
 * the options plain JSON.
 */
export function compile(
  signature: Signature,
  registry?: TaskRegistry,
  where = "canvas",
): CanvasNode {
  const seen = new Set<string>();
  const claim = (id: string | undefined): string => {
    const value = id ?? uuidv7();
    if (typeof value !== "string" || value.length === 0) {
      throw new StemError("invalid_argument", "a canvas id must be a non-empty string");
    }
    if (seen.has(value)) {
      throw new StemError("invalid_argument", `the canvas uses the id "${value}" twice`);
    }
    seen.add(value);
    return value;
  };
  const visit = (sig: Signature, where: string): CanvasNode => {
    if (sig === null || typeof sig !== "object") {
      throw new StemError("invalid_argument", `${where} is not a signature (got ${String(sig)})`);
    }
    if (isComposite(sig)) {
      if (sig.kind === "chain") {
        const steps = list(sig.steps, `${where}: a chain`);
        return {
          k: "chain",
          id: claim(sig.id),
          steps: steps.map((s, i) => visit(s, `${where} → chain step ${i}`)),
        };
      }
      const members = list(sig.members, `${where}: a ${sig.kind}`);
      const id = claim(sig.id);
      const nodes = members.map((m, i) => visit(m, `${where} → ${sig.kind} member ${i}`));
      if (sig.kind === "group") return { k: "group", id, members: nodes };
      if (!sig.callback) {
        throw new StemError("invalid_argument", `${where}: a chord needs a callback`);
      }
      return {
        k: "chord",
        id,
        members: nodes,
        callback: visit(sig.callback, `${where} → chord callback`),
        ...chordPolicy(sig, where),
      };
    }
    return taskNode(sig as TaskSignature, where, registry, claim);
  };
  return visit(signature, where);
}

/** A chord's policy as node fields, checked. */
function chordPolicy(sig: ChordSignature, where: string): Pick<ChordNode, "partial" | "timeoutMs"> {
  const policy: Pick<ChordNode, "partial" | "timeoutMs"> = {};
  const onFailure = sig.onMemberFailure;
  if (onFailure !== undefined && onFailure !== "fail" && onFailure !== "partial") {
    throw new StemError(
      "invalid_argument",
      `${where}: a chord's onMemberFailure must be "fail" or "partial" (got ${JSON.stringify(onFailure)})`,
    );
  }
  if (onFailure === "partial") policy.partial = true;
  if (sig.timeout !== undefined) {
    const ms = parseDuration(sig.timeout, `${where}: chord timeout`);
    if (!(ms > 0)) {
      throw new StemError("invalid_argument", `${where}: a chord's timeout must be positive`);
    }
    policy.timeoutMs = ms;
  }
  return policy;
}

function list(items: Signature[] | undefined, what: string): Signature[] {
  if (!Array.isArray(items) || items.length === 0) {
    throw new StemError("invalid_argument", `${what} needs at least one signature`);
  }
  return items;
}

function taskNode(
  sig: TaskSignature,
  where: string,
  registry: TaskRegistry | undefined,
  claim: (id: string | undefined) => string,
): TaskNode {
  if (typeof sig.name !== "string" || sig.name.length === 0) {
    throw new StemError("invalid_argument", `${where} has no task name`);
  }
  if (registry) {
    const registered = registry.get(sig.name);
    if (!registered) {
      throw new StemError(
        "unknown_task",
        `${where}: unknown task "${sig.name}" (registered: ${registry.names().join(", ") || "none"})`,
      );
    }
    if (registered.options.unique) {
      throw new StemError(
        "invalid_argument",
        `${where}: task "${sig.name}" is unique and cannot be a canvas member (a pending duplicate would stand in for it)`,
      );
    }
  }
  if (
    sig.previousAs !== undefined &&
    (typeof sig.previousAs !== "string" || sig.previousAs === "")
  ) {
    throw new StemError("invalid_argument", `${where}: previousAs must be a non-empty arg name`);
  }
  const { taskId, eta, expires, ...options } = sig.options ?? {};
  const json: EnqueueOptions = { ...options };
  if (eta !== undefined) json.eta = eta instanceof Date ? eta.getTime() : eta;
  if (expires !== undefined) json.expires = expires instanceof Date ? expires.getTime() : expires;
  const node: TaskNode = {
    k: "task",
    id: claim(taskId),
    name: sig.name,
    args: sig.args ?? {},
    options: json,
  };
  if (sig.previousAs !== undefined) node.previousAs = sig.previousAs;
  if (sig.mergePrevious) node.mergePrevious = true;
  return node;
}
