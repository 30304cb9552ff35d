import type { Broker } from "../adapters/contracts.ts";
import type { Clock } from "../core/clock.ts";
import { TaskAbort } from "../core/context.ts";
import { logger } from "../core/logger.ts";
import type { TaskRegistry } from "../core/registry.ts";
import type { HeldTask } from "./task-runner.ts";

export interface LeaseKeeperDeps {
  workerId: string;
  broker: Broker;
  registry: TaskRegistry;
  clock: Clock;
  /** The worker's lease for tasks without their own visibility timeout. */
  leaseMs: number;
  /** The deliveries the worker holds now. */
  held: () => Iterable<HeldTask>;
}

/**
 * Keeps the leases of the deliveries a worker holds: each task's own visibility timeout
 * from the moment it is fetched, extended when half of it is used. Deadlines are kept on
 * the worker's clock (`HeldTask.leaseUntil`) and never compared with the broker's
 * `leaseExpiresAt`, which is on the server's clock for Redis and Postgres: a skewed worker
 * clock must not make a short lease look longer than it is.
 */
export class LeaseKeeper {
  private timer?: ReturnType<typeof setTimeout>;
  private checkMs = 1000;
  private stopped = false;

  constructor(private readonly deps: LeaseKeeperDeps) {}

  /** The lease a held task runs under: its envelope's, its task's, else the worker's. */
  leaseOf(held: HeldTask): number {
    const envelope = held.delivery.envelope;
    return (
      envelope.visibilityTimeoutMs ??
      this.deps.registry.get(envelope.name)?.options.visibilityTimeoutMs ??
      this.deps.leaseMs
    );
  }

  /**
   * A new delivery is held: checking starts if nothing was held, and a shorter lease than
   * any so far needs checking sooner.
   */
  add(held: HeldTask): void {
    if (this.timer === undefined || this.leaseOf(held) / 4 < this.checkMs) this.schedule();
  }

  /**
   * Sets a delivery's lease to its task's visibility timeout when the broker granted
   * another: a producer that does not register the task (`stem enqueue`, Beat, another
   * service) leaves it out of the envelope, and the fetch then leased the worker default.
   */
  async applyTaskLease(held: HeldTask): Promise<void> {
    const { delivery } = held;
    const own = this.deps.registry.get(delivery.envelope.name)?.options.visibilityTimeoutMs;
    if (delivery.envelope.visibilityTimeoutMs !== undefined || own === undefined) return;
    if (own === this.deps.leaseMs) return;
    const asked = this.deps.clock.now();
    if (await this.deps.broker.extendLease(delivery, own)) held.leaseUntil = asked + own;
    else lose(held);
  }

  /**
   * Checks leases at a quarter of the shortest lease held (between 20 ms and 1 s); with
   * nothing held, not at all (an idle worker wakes for nothing) until `add`.
   */
  schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    let holding = false;
    let shortest = this.deps.leaseMs;
    for (const held of this.deps.held()) {
      holding = true;
      shortest = Math.min(shortest, this.leaseOf(held));
    }
    if (!holding) return;
    this.checkMs = Math.max(20, Math.min(1000, shortest / 4));
    this.timer = setTimeout(async () => {
      try {
        await this.extendDue();
      } catch (error) {
        logger.error(
          `worker ${this.deps.workerId}: keeping leases failed: ${(error as Error).message}`,
        );
      }
      this.schedule();
    }, this.checkMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Extends the lease of every held delivery that has used half of it. */
  private async extendDue(): Promise<void> {
    const { broker, clock } = this.deps;
    const now = clock.now();
    await Promise.all(
      [...this.deps.held()].map(async (held) => {
        const lease = this.leaseOf(held);
        if (held.lost || held.leaseUntil - now > lease / 2) return;
        try {
          const asked = clock.now();
          if (await broker.extendLease(held.delivery, lease)) held.leaseUntil = asked + lease;
          else lose(held);
        } catch (error) {
          logger.warn(
            `worker ${this.deps.workerId}: extending a lease failed: ${(error as Error).message}`,
          );
        }
      }),
    );
  }
}

/** The lease is gone: the task must not store or ack its outcome, and stops if running. */
function lose(held: HeldTask): void {
  held.lost = true;
  held.interrupt?.(new TaskAbort("lease-lost", "the worker lost the task's lease"));
}
