/**
 * Canvas signatures: descriptions of work that has not started yet. `task()` describes one
 * task; `chain()`, `group()` and `chord()` compose signatures and can be nested in each
 * other. Start one with `canvas.chain(...)`, `canvas.group(...)`, `canvas.chord(...)` or
 * `canvas.start(signature)`.
 */
import type { TaskCall } from "../core/definition.ts";
import type { DurationInput } from "../core/duration.ts";
import type { EnqueueOptions } from "../core/enqueue-options.ts";

/**
 * How a chain member (or a member of a group that follows a chain step, or a chord
 * callback) receives the result of what ran before it. Every such member always sees that
 * result as `ctx.previousResult`; its args are changed only when its signature asks:
 *
 * - `previousAs: "name"` puts the previous result into `args.name`.
 * - `mergePrevious: true` merges a previous result that is a plain object into the args,
 *   the signature's own args winning on conflicts; any other value is put into
 *   `args.previous`.
 *
 * A chord callback also gets the ordered member results as `args.results`.
 */
export interface PreviousResultOptions {
  previousAs?: string;
  mergePrevious?: boolean;
}

/** Options of `task()`: the usual enqueue options plus how the previous result is passed. */
export interface TaskSignatureOptions extends EnqueueOptions, PreviousResultOptions {}

/** One task in a canvas. It is a `TaskCall`, so `definition.call(args)` works too. */
export interface TaskSignature extends TaskCall, PreviousResultOptions {
  kind?: "task";
}

/** Runs its steps one after the other, each receiving the previous step's result. */
export interface ChainSignature {
  kind: "chain";
  steps: Signature[];
  /** Canvas id (default: a new UUID v7). */
  id?: string;
}

/** Runs its members in parallel; its result is their results in the order given. */
export interface GroupSignature {
  kind: "group";
  members: Signature[];
  id?: string;
}

/** A group whose ordered results are handed to `callback` once every member settled. */
export interface ChordSignature extends ChordPolicy {
  kind: "chord";
  members: Signature[];
  callback: Signature;
  id?: string;
}

/**
 * What a chord does when a member fails for good (after its retries): `"fail"` (default)
 * fails the chord with the member's error and never runs the callback; `"partial"` runs
 * the callback anyway once every member settled, with `null` in `args.results` for each
 * failed member and the failures listed in `args.failures` (`{ index, id, error }`).
 */
export type ChordFailurePolicy = "fail" | "partial";

/** A chord's failure policy and timeout. */
export interface ChordPolicy {
  /** See ChordFailurePolicy. Default `"fail"`. */
  onMemberFailure?: ChordFailurePolicy;
  /**
   * Fail the chord (reason `chord-timeout`, the unsettled members listed in the record's
   * `meta.missing`) when its members have not all settled this long after it started.
   * A delayed check task (`stem.chord.timeout`) published with the chord decides it.
   */
  timeout?: DurationInput;
}

/** A composed signature. */
export type CompositeSignature = ChainSignature | GroupSignature | ChordSignature;

/** Anything a canvas can run: a task call or a composition. */
export type Signature = TaskSignature | TaskCall | CompositeSignature;

/** The kinds of canvas nodes. */
export type CanvasKind = "task" | "chain" | "group" | "chord";

/** Extra options for composed signatures. */
export interface CompositeOptions {
  /** Canvas id (default: a new UUID v7). */
  id?: string;
}

/** Options of a chord: its id, failure policy and timeout. */
export interface ChordOptions extends CompositeOptions, ChordPolicy {}

/**
 * A task signature: `task("resize", { file: "img.png" })`. Options are enqueue options
 * (queue, priority, delay, taskId, …) plus `previousAs` / `mergePrevious`.
 */
export function task(
  name: string,
  args: Record<string, unknown> = {},
  options: TaskSignatureOptions = {},
): TaskSignature {
  const { previousAs, mergePrevious, ...enqueue } = options;
  const signature: TaskSignature = { name, args, options: enqueue };
  if (previousAs !== undefined) signature.previousAs = previousAs;
  if (mergePrevious !== undefined) signature.mergePrevious = mergePrevious;
  return signature;
}

/** A chain signature for nesting in another canvas. */
export function chain(steps: Signature[], options: CompositeOptions = {}): ChainSignature {
  return { kind: "chain", steps, ...options };
}

/** A group signature for nesting in another canvas. */
export function group(members: Signature[], options: CompositeOptions = {}): GroupSignature {
  return { kind: "group", members, ...options };
}

/** A chord signature for nesting in another canvas. */
export function chord(
  members: Signature[],
  callback: Signature,
  options: ChordOptions = {},
): ChordSignature {
  return { kind: "chord", members, callback, ...options };
}

/** True for chain, group and chord signatures. */
export function isComposite(signature: Signature): signature is CompositeSignature {
  const kind = (signature as { kind?: unknown }).kind;
  return kind === "chain" || kind === "group" || kind === "chord";
}
