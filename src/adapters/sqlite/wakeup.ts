/**
 * SQLite has no server push, so waiting readers poll. A Wakeup lets a write (made on the
 * same connection, or seen by the file watcher) end those waits at once instead of at the
 * next poll.
 */
export class Wakeup {
  private readonly waiters = new Set<() => void>();
  private wakes = 0;

  /**
   * A mark to take before looking for work: a wait given it returns at once if a wake came
   * in between, so a write that lands between the look and the wait is not missed.
   */
  get mark(): number {
    return this.wakes;
  }

  /** Resolves after `ms`, on `wake()`, or when `signal` aborts, whichever comes first. */
  wait(ms: number, signal?: AbortSignal, since?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted || (since !== undefined && since !== this.wakes)) return resolve();
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
    this.wakes++;
    for (const done of [...this.waiters]) done();
  }
}
