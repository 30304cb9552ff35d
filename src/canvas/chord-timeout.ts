/**
 * Chord timeouts. A chord started with `timeout` publishes, with its members, one delayed
 * check task, `stem.chord.timeout`, due when the timeout ends (task id `<chord id>:timeout`,
 * on the queue the chord's callback is routed to). The worker that runs the check fails
 * the chord with reason `chord-timeout` unless its members have all settled by then (or
 * its completion was already claimed); the chord's completion and the check claim the
 * chord the same way (`claimChord`), so exactly one of them decides its outcome. A member
 * that settles after the timeout is recorded, but starts nothing. The check of a chord that
 * finished in time runs too, and does nothing.
 */
import type { TaskCall } from "../core/definition.ts";
import { StemError } from "../core/errors.ts";
import type { TaskHandler } from "../core/task.ts";

/** The internal task that times chords out. Workers made by a client register it. */
export const CHORD_TIMEOUT_TASK = "stem.chord.timeout";

/** What the check needs of the canvas settler. */
export interface ChordTimeouts {
  /** Fails the chord if it is still waiting for members; true when this call did. */
  timeOutChord(chordId: string, owner: string): Promise<boolean>;
}

export interface ChordTimeoutArgs {
  chordId: string;
}

/** The check's call for chord `chordId`, due at `at`. */
export function chordTimeoutCall(chordId: string, at: number): TaskCall {
  return {
    name: CHORD_TIMEOUT_TASK,
    args: { chordId },
    options: { taskId: `${chordId}:timeout`, eta: at },
  };
}

/** The `stem.chord.timeout` handler. */
export function chordTimeoutTask(
  timeouts: ChordTimeouts,
): TaskHandler<ChordTimeoutArgs, { chordId: string; timedOut: boolean }> {
  return {
    name: CHORD_TIMEOUT_TASK,
    // A store that blips while the check runs must not leave the chord without a timeout.
    options: { maxRetries: 10 },
    metadata: {
      description: "Fails a chord whose members have not settled by its timeout (internal)",
    },
    async run(ctx, args) {
      const chordId = args?.chordId;
      if (typeof chordId !== "string" || chordId.length === 0) {
        throw new StemError("invalid_argument", `${CHORD_TIMEOUT_TASK} needs a chordId argument`);
      }
      // The claim's owner is this check: a redelivered check wins it again.
      return { chordId, timedOut: await timeouts.timeOutChord(chordId, ctx.id) };
    },
  };
}
