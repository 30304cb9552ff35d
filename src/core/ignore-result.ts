import { type Envelope, MetaKeys } from "./envelope.ts";
import { StemError } from "./errors.ts";

/** True when the envelope's task keeps no status or result (`ignoreResult`). */
export function resultIgnored(envelope: Pick<Envelope, "meta">): boolean {
  return envelope.meta[MetaKeys.ignoreResult] === true;
}

/** The error `waitForTask` (and `stem enqueue --wait`) gives for a task that keeps no result. */
export function waitRefused(what: string): StemError {
  return new StemError(
    "invalid_argument",
    `${what} was enqueued with ignoreResult: it keeps no status or result, so it cannot be waited for (enqueue it without ignoreResult to wait)`,
  );
}

/** How many ids of result-less tasks a producer remembers to refuse waits on. */
const REMEMBERED = 10_000;

/**
 * The ids of tasks this producer enqueued with `ignoreResult`, newest last, so a wait on
 * one is refused at once instead of timing out on a status that will never exist.
 */
export class IgnoredResults {
  private readonly ids = new Set<string>();

  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > REMEMBERED) {
      const oldest = this.ids.values().next().value as string;
      this.ids.delete(oldest);
    }
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }
}
