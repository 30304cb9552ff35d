/**
 * Global concurrency: before a task runs, the worker takes a slot of each limit that
 * applies to it (its task name's `globalConcurrency`, its queue's limit) from the store's
 * ConcurrencySlots, shared by every worker. A task that cannot get one does not wait in
 * the worker: it goes back to the broker until its turn, so the worker's slots stay free
 * for tasks it can run. Turns are spaced by how often a slot should free up (the key's run
 * time as this worker has seen it, divided by the limit), so a backlog comes back about
 * as fast as it can run rather than all at once, again and again. Slots are leased like the task (its visibility timeout),
 * renewed while it runs and released when its handler settles; a crashed worker's slots
 * come back when their lease runs out.
 */
import type { Broker, ConcurrencySlots } from "../adapters/contracts.ts";
import type { Clock } from "../core/clock.ts";
import { StemError } from "../core/errors.ts";
import { logger } from "../core/logger.ts";
import type { TaskRegistry } from "../core/registry.ts";
import type { HeldTask } from "./task-runner.ts";

const TASK_KEY = "task:";
const QUEUE_KEY = "queue:";
/** The slots key of a task name's limit. */
export const taskSlotsKey = (name: string) => `${TASK_KEY}${name}`;
/** The slots key of a queue's limit. */
export const queueSlotsKey = (queue: string) => `${QUEUE_KEY}${queue}`;

/**
 * The holder of a delivery's slots: `<worker id>/<task id>#<delivery number>`. The delivery
 * number sets apart a redelivery of a task this worker still runs (its lease ran out while
 * it ran), which must take a slot of its own rather than share the first run's.
 */
export const slotHolder = (workerId: string, taskId: string, delivery: number) =>
  `${workerId}/${taskId}#${delivery}`;

/** The worker and task of a holder `slotHolder` made; other holders are a worker alone. */
export function holderParts(holder: string): { worker: string; task: string | null } {
  const cut = holder.lastIndexOf("/");
  if (cut < 0) return { worker: holder, task: null };
  const task = holder.slice(cut + 1);
  const mark = task.lastIndexOf("#");
  return { worker: holder.slice(0, cut), task: mark < 0 ? task : task.slice(0, mark) };
}

/** The shortest delay a task denied a slot is sent back with. */
const MIN_TURN_MS = 50;
/** The longest: beyond it a large backlog comes back once a minute, not all at once. */
const MAX_TURN_MS = 60_000;
/** The run time assumed for a key's tasks until this worker has seen one finish. */
const DEFAULT_RUN_MS = 200;
/** Weight of the latest run in a key's running average of run times. */
const RUN_WEIGHT = 0.2;
/** How soon a task comes back when the slots store failed: soon, but not in a hot loop. */
const ERROR_BACKOFF_MS = 1000;

export interface ConcurrencyGateDeps {
  workerId: string;
  slots: ConcurrencySlots;
  /** Where a task denied a slot is sent back to. */
  broker: Broker;
  /** Queue name → the most tasks of it running at once across every worker. */
  queueLimits: Record<string, number>;
  /** The lease a task runs under (its slots share it). */
  leaseOf: (held: HeldTask) => number;
  clock: Clock;
}

interface Claim {
  key: string;
  limit: number;
}

interface Pace {
  /** Average run time of the key's tasks on this worker (none seen yet: undefined). */
  runMs?: number;
  /** The latest turn handed out. */
  lastTurn: number;
  /** Turns of tasks sent back and not seen since, by task id, in the order handed out. */
  waiting: Map<string, number>;
}

interface Entered {
  holder: string;
  enteredAt: number;
  keys: string[];
  renewal: ReturnType<typeof setInterval>;
}

/** Takes, keeps and gives back the global concurrency slots of the tasks a worker runs. */
export class ConcurrencyGate {
  private readonly entered = new Map<HeldTask, Entered>();
  /** Per key: its tasks' average run time here, and the turns handed out. */
  private readonly pace = new Map<string, Pace>();

  constructor(private readonly deps: ConcurrencyGateDeps) {
    for (const [queue, limit] of Object.entries(deps.queueLimits)) {
      if (!Number.isInteger(limit) || limit < 1) {
        throw new StemError(
          "invalid_argument",
          `global concurrency of queue "${queue}" must be a positive integer, got ${limit}`,
        );
      }
    }
  }

  /**
   * Takes the task's slots, or sends it back to the broker for a while and returns false:
   * when one is taken everywhere, or the slots store failed. A task sent back never ran,
   * so neither an attempt nor a delivery is counted.
   */
  async enterOrSendBack(held: HeldTask): Promise<boolean> {
    const { delivery } = held;
    let delayMs: number;
    try {
      delayMs = await this.enter(held);
    } catch (error) {
      logger.error(
        `worker ${this.deps.workerId}: task ${delivery.envelope.id}: taking its concurrency slots failed, returning it: ${(error as Error).message}`,
      );
      delayMs = ERROR_BACKOFF_MS;
    }
    if (delayMs === 0) return true;
    await this.deps.broker
      .nack(delivery, { requeue: true, delayMs, countAttempt: false })
      .catch((error) =>
        logger.warn(
          `worker ${this.deps.workerId}: returning task ${delivery.envelope.id} failed (its lease will run out): ${(error as Error).message}`,
        ),
      );
    return false;
  }

  /**
   * Records the limits this worker enforces (its queues' and those of `globalConcurrency`
   * tasks), so observers see them before any task runs.
   */
  async declare(taskLimits: Iterable<[string, number]>): Promise<void> {
    const claims = [
      ...Object.entries(this.deps.queueLimits).map(([q, limit]) => [queueSlotsKey(q), limit]),
      ...[...taskLimits].map(([name, limit]) => [taskSlotsKey(name), limit]),
    ] as [string, number][];
    await Promise.all(claims.map(([key, limit]) => this.deps.slots.setLimit(key, limit)));
  }

  /** The limits a task is under. */
  private claims(held: HeldTask): Claim[] {
    const claims: Claim[] = [];
    const own = held.task?.options.globalConcurrency;
    if (own !== undefined)
      claims.push({ key: taskSlotsKey(held.delivery.envelope.name), limit: own });
    const queue = this.deps.queueLimits[held.delivery.queue];
    if (queue !== undefined) claims.push({ key: queueSlotsKey(held.delivery.queue), limit: queue });
    return claims;
  }

  /**
   * Takes every slot the task needs: 0 when it may run now, else the delay (ms) to send it
   * back with. All or nothing: a task denied one slot gives back those it took.
   */
  async enter(held: HeldTask): Promise<number> {
    const claims = this.claims(held);
    if (claims.length === 0) return 0;
    const { slots, workerId } = this.deps;
    const holder = slotHolder(workerId, held.delivery.envelope.id, held.delivery.deliveries);
    const leaseMs = this.deps.leaseOf(held);
    const taken: string[] = [];
    try {
      for (const { key, limit } of claims) {
        if (!(await slots.acquire(key, holder, limit, leaseMs))) {
          await this.giveBack(taken, holder);
          return this.turn(key, limit, held.delivery.envelope.id);
        }
        taken.push(key);
        this.pace.get(key)?.waiting.delete(held.delivery.envelope.id);
      }
    } catch (error) {
      await this.giveBack(taken, holder);
      throw error;
    }
    // Renewed at a third of the lease, so one failed renewal still leaves time for the next.
    const renewal = setInterval(() => void this.renew(held), Math.max(20, leaseMs / 3));
    this.entered.set(held, { holder, keys: taken, renewal, enteredAt: this.deps.clock.now() });
    return 0;
  }

  /** Gives back the task's slots (once; a no-op for a task that took none). */
  async leave(held: HeldTask): Promise<void> {
    const entered = this.entered.get(held);
    if (!entered) return;
    this.entered.delete(held);
    clearInterval(entered.renewal);
    const ranMs = this.deps.clock.now() - entered.enteredAt;
    for (const key of entered.keys) {
      const pace = this.paceOf(key);
      pace.runMs =
        pace.runMs === undefined ? ranMs : (1 - RUN_WEIGHT) * pace.runMs + RUN_WEIGHT * ranMs;
    }
    await this.giveBack(entered.keys, entered.holder);
  }

  private async giveBack(keys: string[], holder: string): Promise<void> {
    await Promise.all(
      keys.map((key) =>
        this.deps.slots.release(key, holder).catch((error) => {
          logger.warn(
            `worker ${this.deps.workerId}: releasing concurrency slot ${key} failed (it frees when its lease runs out): ${(error as Error).message}`,
          );
        }),
      ),
    );
  }

  /**
   * Extends the task's slots. A slot whose lease ran out meanwhile (the store was out of
   * reach longer than the lease) is taken again if it is free; if not, the limit is
   * exceeded until the task ends, which is worth a warning but not stopping the task.
   */
  private async renew(held: HeldTask): Promise<void> {
    const entered = this.entered.get(held);
    if (!entered) return;
    const leaseMs = this.deps.leaseOf(held);
    const limits = new Map(this.claims(held).map((c) => [c.key, c.limit]));
    await Promise.all(
      entered.keys.map(async (key) => {
        const { slots, workerId } = this.deps;
        try {
          if (await slots.renew(key, entered.holder, leaseMs)) return;
          if (await slots.acquire(key, entered.holder, limits.get(key) ?? 1, leaseMs)) return;
          logger.warn(
            `worker ${workerId}: task ${held.delivery.envelope.id} lost its concurrency slot ${key} (its lease ran out) and all are taken; the limit is exceeded until it ends`,
          );
        } catch (error) {
          logger.warn(
            `worker ${workerId}: renewing concurrency slot ${key} failed: ${(error as Error).message}`,
          );
        }
      }),
    );
  }

  /**
   * The delay for a task denied a slot of `key`: the next turn, one slot interval (run
   * time / limit) after the previous turn handed out, at least 50 ms and at most a minute
   * away. Each task sent back is denied about once, however long the backlog. When no
   * task sent back is still due here (each got in, or its turn passed a while ago: another
   * worker took it), the line starts afresh.
   */
  private turn(key: string, limit: number, taskId: string): number {
    const now = this.deps.clock.now();
    const pace = this.paceOf(key);
    const spacing = (pace.runMs ?? DEFAULT_RUN_MS) / limit;
    pace.waiting.delete(taskId);
    for (const [id, turn] of pace.waiting) {
      if (turn + Math.max(1000, spacing) >= now) break;
      pace.waiting.delete(id);
    }
    const last = pace.waiting.size > 0 ? pace.lastTurn : 0;
    pace.lastTurn = Math.min(now + MAX_TURN_MS, Math.max(now + MIN_TURN_MS, last + spacing));
    pace.waiting.set(taskId, pace.lastTurn);
    return Math.ceil(pace.lastTurn - now);
  }

  private paceOf(key: string): Pace {
    let pace = this.pace.get(key);
    if (!pace) {
      pace = { lastTurn: 0, waiting: new Map() };
      this.pace.set(key, pace);
    }
    return pace;
  }

  /** Stops renewing (the worker has stopped; its tasks' slots were given back or will expire). */
  stop(): void {
    for (const entered of this.entered.values()) clearInterval(entered.renewal);
    this.entered.clear();
  }
}

/**
 * Records the limits a starting worker enforces (a failure is logged: they are recorded
 * again with every acquire); without a gate (no slots store) warns that its tasks'
 * `globalConcurrency` is not enforced.
 */
export async function declareLimits(
  workerId: string,
  registry: TaskRegistry,
  gate: ConcurrencyGate | undefined,
): Promise<void> {
  const limited: [string, number][] = [];
  for (const name of registry.names()) {
    const limit = registry.get(name)?.options.globalConcurrency;
    if (limit !== undefined) limited.push([name, limit]);
  }
  if (gate) {
    // Only for observers: a store out of reach now must not stop the worker from starting.
    await gate
      .declare(limited)
      .catch((error) =>
        logger.warn(
          `worker ${workerId}: recording its global concurrency limits failed: ${(error as Error).message}`,
        ),
      );
    return;
  }
  if (limited.length > 0)
    logger.warn(
      `worker ${workerId}: no concurrencySlots store, so the globalConcurrency of ${limited.map(([n]) => n).join(", ")} is not enforced`,
    );
}

/** A global concurrency limit as observers show it. */
export interface LimitUsage {
  limit: number;
  /** Slots held now (tasks running under the limit). */
  used: number;
  /** Who holds them: `<worker id>/<task id>`. */
  holders: string[];
}

/** Every global concurrency limit on the store: per queue, and per task name. */
export async function globalConcurrencyUsage(slots: ConcurrencySlots): Promise<{
  queues: Map<string, LimitUsage>;
  tasks: ({ task: string } & LimitUsage)[];
}> {
  const queues = new Map<string, LimitUsage>();
  const tasks: ({ task: string } & LimitUsage)[] = [];
  for (const { key, limit, used, holders } of await slots.list()) {
    if (key.startsWith(QUEUE_KEY))
      queues.set(key.slice(QUEUE_KEY.length), { limit, used, holders });
    else if (key.startsWith(TASK_KEY))
      tasks.push({ task: key.slice(TASK_KEY.length), limit, used, holders });
  }
  return { queues, tasks };
}
