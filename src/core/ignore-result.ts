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
 * The ids of tasks this producer enqueued with `ignoreResult`, the newest `capacity`, so a
 * wait on one is refused at once instead of timing out on a status that will never exist.
 * A ring of ids beside the set: evicting the oldest is O(1) (taking the first of a Set
 * whose front was deleted walks past every deleted entry, O(n) per add once full).
 */
export class IgnoredResults {
  private readonly ids = new Set<string>();
  private readonly ring: (string | undefined)[];
  private next = 0;

  constructor(private readonly capacity = REMEMBERED) {
    this.ring = new Array(capacity);
  }

  add(id: string): void {
    if (this.ids.has(id)) return;
    const oldest = this.ring[this.next];
    if (oldest !== undefined) this.ids.delete(oldest);
    this.ring[this.next] = id;
    this.next = (this.next + 1) % this.capacity;
    this.ids.add(id);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }
}
