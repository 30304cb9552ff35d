/**
 * SQLite has no server push, so waiting readers poll. A Wakeup lets a write made on the
 * same connection end those waits at once instead of at the next poll.
 */
export class Wakeup {
  private readonly waiters = new Set<() => void>();

  /** Resolves after `ms`, on `wake()`, or when `signal` aborts, whichever comes first. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, ms));
      this.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  /** Ends every current wait. */
  wake(): void {
    for (const done of [...this.waiters]) done();
  }
}
