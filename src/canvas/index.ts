/** Canvas: chains, groups and chords of tasks. */
export { Canvas } from "./canvas.ts";
export {
  CanvasError,
  CanvasHandle,
  type CanvasHandleKind,
  type CanvasMember,
  type CanvasStatus,
} from "./handle.ts";
export { canvasSettledHook } from "./settle.ts";
export { CHORD_TIMEOUT_TASK, type ChordTimeoutArgs } from "./chord-timeout.ts";
export type { ChordMemberFailure, LinkedFailure } from "./launch.ts";
export {
  type CanvasKind,
  type ChainSignature,
  type ChordFailurePolicy,
  type ChordOptions,
  type ChordPolicy,
  type ChordSignature,
  type CompositeOptions,
  type CompositeSignature,
  type GroupSignature,
  type PreviousResultOptions,
  type Signature,
  type TaskSignature,
  type TaskSignatureOptions,
  chain,
  chord,
  group,
  isComposite,
  task,
} from "./signatures.ts";
