/**
 * Rate limiting without holding prefetch slots: a task denied a token is not kept waiting
 * in the worker, it goes back to the broker until a token will be free for it. Each
 * denied task gets its own turn (one token interval after the previous turn this worker
 * handed out), so a burst comes back one task at a time, in the order it was fetched,
 * instead of all at once to be denied again. Only a task back for its turn whose token is
 * under a second away waits in the worker (holding one slot), so that it keeps its place.
 *
 * When the limiter store cannot be reached, the task's fail mode decides: `closed` sends
 * it back for OUTAGE_RETRY_MS, `open` lets it run (see GuardedLimiter for the logging).
 */
import type { RateLimiter } from "../adapters/contracts.ts";
import type { Clock } from "../core/clock.ts";
import type { ResolvedRateLimit } from "../core/rate-limit.ts";
import { GuardedLimiter } from "./guarded-limiter.ts";

/** What the gate needs of a task's limit. */
export type GateRate = Pick<ResolvedRateLimit, "tokens" | "intervalMs" | "failMode">;

/** The longest a task back for its turn waits in the worker for its token. */
const HEAD_WAIT_MS = 1000;
/** How long a fail-closed task waits in the broker before asking an unreachable store again. */
const OUTAGE_RETRY_MS = 2000;

interface Turns {
  /** The latest turn handed out. */
  last: number;
  /** Turns by task id, for tasks sent back and not yet admitted. */
  byTask: Map<string, number>;
}

/** Decides, per task, "run now" or "come back in this many ms". */
export class RateGate {
  private readonly turns = new Map<string, Turns>();
  /** Decisions for one key are made one at a time, in the order they were asked. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly limiter: GuardedLimiter;

  constructor(
    limiter: RateLimiter,
    private readonly clock: Clock,
    workerId: string,
  ) {
    this.limiter = new GuardedLimiter(limiter, clock, workerId);
  }

  /**
   * 0 when the task may run now (it took a token, or the store is unreachable and the
   * task fails open); otherwise the delay to send it back with.
   */
  admit(key: string, rate: GateRate, taskId: string): Promise<number> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const decision = previous.then(() => this.decide(key, rate, taskId));
    const settled = decision.then(
      () => {},
      () => {},
    );
    this.queues.set(key, settled);
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
    return decision;
  }

  private async decide(key: string, rate: GateRate, taskId: string): Promise<number> {
    const spacing = rate.intervalMs / rate.tokens;
    let turns = this.turnsOf(key, rate, this.clock.now());
    const own = turns.byTask.get(taskId);
    // A newcomer does not take a token ahead of the tasks already waiting for their turns.
    if (own === undefined && turns.byTask.size > 0) {
      return this.sendBack(turns, taskId, this.clock.now(), turns.last + spacing);
    }
    for (;;) {
      const decision = await this.limiter.acquire(key, rate);
      const now = this.clock.now();
      turns = this.turnsOf(key, rate, now);
      if (!decision) {
        turns.byTask.delete(taskId);
        this.forgetIdle(key, turns, spacing, now);
        return rate.failMode === "open" ? 0 : OUTAGE_RETRY_MS;
      }
      const { allowed, retryAfterMs } = decision;
      if (allowed) {
        turns.byTask.delete(taskId);
        this.forgetIdle(key, turns, spacing, now);
        return 0;
      }
      // Back for its turn and the token is a moment away (the task before it took its
      // token late, and a token bucket does not catch up): the head of the line waits
      // here, briefly, so the next task's turn cannot overtake it.
      if (own !== undefined && retryAfterMs <= HEAD_WAIT_MS) {
        await this.clock.sleep(retryAfterMs);
        continue;
      }
      turns.byTask.delete(taskId);
      // Still first in line when sent back again (another worker took the token).
      const earliest = now + retryAfterMs;
      return this.sendBack(
        turns,
        taskId,
        now,
        own !== undefined ? earliest : Math.max(earliest, turns.last + spacing),
      );
    }
  }

  private sendBack(turns: Turns, taskId: string, now: number, turn: number): number {
    turns.byTask.set(taskId, turn);
    turns.last = Math.max(turns.last, turn);
    return Math.max(1, Math.ceil(turn - now));
  }

  /**
   * Drops a key nobody waits on once its last turn is a spacing behind: a fresh entry then
   * decides the same, and one entry per tenant key must not pile up in a long-lived worker.
   */
  private forgetIdle(key: string, turns: Turns, spacing: number, now: number): void {
    if (turns.byTask.size === 0 && turns.last + spacing <= now) this.turns.delete(key);
  }

  /** The key's turns, without those whose time passed an interval ago (taken elsewhere). */
  private turnsOf(key: string, rate: GateRate, now: number): Turns {
    let turns = this.turns.get(key);
    if (!turns) {
      turns = { last: 0, byTask: new Map() };
      this.turns.set(key, turns);
    }
    for (const [id, at] of turns.byTask) if (at + rate.intervalMs < now) turns.byTask.delete(id);
    return turns;
  }
}
