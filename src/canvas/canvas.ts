/**
 * Canvas: compose tasks into chains, groups and chords. The producer only stores the
 * start (group counters, status records, the first tasks); workers carry the rest on as
 * members finish, so the producer may exit right after starting a canvas.
 */
import { type Clock, systemClock } from "../core/clock.ts";
import { StemError } from "../core/errors.ts";
import type { Stem } from "../core/stem.ts";
import type { SettledHook } from "../worker/task-runner.ts";
import { type CanvasHandleKind, CanvasHandle } from "./handle.ts";
import { LaunchPlan } from "./launch.ts";
import { compile } from "./nodes.ts";
import { canvasSettledHook } from "./settle.ts";
import {
  type CompositeOptions,
  type CompositeSignature,
  type Signature,
  chain,
  chord,
  group,
  isComposite,
} from "./signatures.ts";

/**
 * Starts canvases through a producer. Workers must run the canvas settled hook
 * (`canvas.settledHook`): every worker made by `client.createWorker()` does.
 *
 * ```ts
 * const c = client.canvas;
 * const h = await c.chain([task("resize", { file }), task("upload", {}, { previousAs: "file" })]);
 * const url = await h.get({ timeout: "30s" });
 * ```
 */
export class Canvas {
  /** The worker hook that continues canvases started by any producer on the same stores. */
  readonly settledHook: SettledHook;

  constructor(
    readonly stem: Stem,
    private readonly clock: Clock = systemClock,
  ) {
    this.settledHook = canvasSettledHook(stem, clock);
  }

  /**
   * Runs `steps` one after the other; each receives the previous result (see
   * PreviousResultOptions). `get()` gives the last step's result. When a step fails,
   * the steps after it are not run (state revoked, meta.reason `chain-aborted`).
   */
  chain<T = unknown>(steps: Signature[], options: CompositeOptions = {}): Promise<CanvasHandle<T>> {
    return this.start<T>(chain(steps, options));
  }

  /** Runs `members` in parallel. `get()` gives their results in the order given. */
  group<T = unknown[]>(
    members: Signature[],
    options: CompositeOptions = {},
  ): Promise<CanvasHandle<T>> {
    return this.start<T>(group(members, options));
  }

  /**
   * Runs `members` in parallel, then `callback` once, with the ordered results as
   * `args.results` and `ctx.previousResult`. `get()` gives the callback's result. If a
   * member fails, the callback never runs and the chord fails with that member's error.
   */
  chord<T = unknown>(
    members: Signature[],
    callback: Signature,
    options: CompositeOptions = {},
  ): Promise<CanvasHandle<T>> {
    return this.start<T>(chord(members, callback, options));
  }

  /** Starts a composed signature (from `chain()`, `group()` or `chord()`). */
  async start<T = unknown>(signature: CompositeSignature): Promise<CanvasHandle<T>> {
    if (!isComposite(signature)) {
      throw new StemError(
        "invalid_argument",
        "canvas.start takes a chain, group or chord signature; enqueue a single task with stem.enqueueCall",
      );
    }
    if (signature.id !== undefined && (await this.stem.backend.get(signature.id))) {
      throw new StemError("conflict", `a task or canvas with id ${signature.id} already exists`);
    }
    const node = compile(signature, this.stem.registry);
    await new LaunchPlan(this.clock.now())
      .add(node, [], {})
      .store(this.stem, { skipExisting: false });
    return new CanvasHandle<T>(this.stem.backend, node.id, node.k as CanvasHandleKind);
  }

  /** A handle on a canvas started earlier, possibly by another process. */
  handle<T = unknown>(id: string): CanvasHandle<T> {
    return new CanvasHandle<T>(this.stem.backend, id);
  }
}
