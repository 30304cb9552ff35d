/**
 * Canvas: compose tasks into chains, groups and chords. The producer only stores the
 * start (group counters, status records, the first tasks); workers carry the rest on as
 * members finish, so the producer may exit right after starting a canvas.
 */
import { type Clock, systemClock } from "../core/clock.ts";
import { StemError } from "../core/errors.ts";
import type { Stem } from "../core/stem.ts";
import type { SettledHook } from "../worker/task-runner.ts";
import type { TaskHandler } from "../core/task.ts";
import { type ChordTimeoutArgs, chordTimeoutTask } from "./chord-timeout.ts";
import { type CanvasHandleKind, CanvasHandle } from "./handle.ts";
import { LaunchPlan } from "./launch.ts";
import { compile } from "./nodes.ts";
import { Settler, settledHookOf } from "./settle.ts";
import {
  type ChordOptions,
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
  /**
   * The internal `stem.chord.timeout` task that times chords out (see ChordPolicy.timeout).
   * A client registers it with its tasks; register it yourself on a worker built by hand.
   */
  readonly timeoutTask: TaskHandler<ChordTimeoutArgs, { chordId: string; timedOut: boolean }>;

  constructor(
    readonly stem: Stem,
    private readonly clock: Clock = systemClock,
  ) {
    const settler = new Settler(stem, clock);
    this.settledHook = settledHookOf(settler);
    this.timeoutTask = chordTimeoutTask(settler);
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
   * member fails, the callback never runs and the chord fails with that member's error,
   * unless `onMemberFailure: "partial"` runs it with the results there are. With
   * `timeout`, a chord whose members have not all settled by then fails with reason
   * `chord-timeout` (see ChordPolicy).
   */
  chord<T = unknown>(
    members: Signature[],
    callback: Signature,
    options: ChordOptions = {},
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
    return new CanvasHandle<T>(
      this.stem.backend,
      node.id,
      node.k as CanvasHandleKind,
      this.stem.eventHub,
    );
  }

  /** A handle on a canvas started earlier, possibly by another process. */
  handle<T = unknown>(id: string): CanvasHandle<T> {
    return new CanvasHandle<T>(this.stem.backend, id, undefined, this.stem.eventHub);
  }
}
