/** Errors a workflow step can see, and the internal signals that end an execution early. */
import { StemError } from "../core/errors.ts";

/** Thrown by `step.awaitEvent()` when the run resumed because the wait timed out. */
export class WorkflowEventTimeoutError extends StemError {
  constructor(
    readonly topic: string,
    readonly deadline: number,
  ) {
    super("timeout", `no event on "${topic}" arrived before ${new Date(deadline).toISOString()}`);
    this.name = "WorkflowEventTimeoutError";
  }
}

/**
 * Ends an execution without finishing the run: it suspended (or suspended and was resumed
 * at once by a kept event), was cancelled, or this execution lost its claim. Thrown out
 * of `script.step`; a script must let it propagate.
 */
export class WorkflowInterrupt extends Error {
  constructor(
    readonly kind: "suspended" | "resumed" | "cancelled" | "lease-lost",
    message: string,
  ) {
    super(message);
    this.name = "WorkflowInterrupt";
  }
}
