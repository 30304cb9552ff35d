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
export {
  type CanvasKind,
  type ChainSignature,
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
