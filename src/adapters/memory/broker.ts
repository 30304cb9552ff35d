import { type Clock, systemClock } from "../../core/clock.ts";
import type { Envelope } from "../../core/envelope.ts";
import { hasStarted } from "../../core/states.ts";
import type {
  Broker,
  DeadLetter,
  DeadLetterPurge,
  DeadLetterQuery,
  Delivery,
  FetchOptions,
  NackOptions,
  PublishResult,
  PublishWithStatuses,
  QueueStats,
  ReplayOptions,
  ReplayResult,
  ResultBackend,
} from "../contracts.ts";
import { replayedEnvelope, selectDeadLetters } from "../dead-letters.ts";
import { MemoryResultBackend } from "./result-backend.ts";

interface Message {
  envelope: Envelope;
  seq: number;
  /** Set while leased. */
  receipt?: string;
  leaseExpiresAt?: number;
  /** Deliveries so far (see Delivery.deliveries). */
  deliveries: number;
  /** The last lease ran out unacked. */
  leaseLost: boolean;
}

interface QueueState {
  messages: Map<string, Message>;
  dead: DeadLetter[];
}

/** A broker in process memory, for tests and single-process apps. Nothing survives a restart. */
export class MemoryBroker implements Broker {
  private readonly queues = new Map<string, QueueState>();
  private readonly waiters = new Set<() => void>();
  private seq = 0;
  private receipts = 0;

  constructor(private readonly clock: Clock = systemClock) {}

  private queue(name: string): QueueState {
    let q = this.queues.get(name);
    if (!q) {
      q = { messages: new Map(), dead: [] };
      this.queues.set(name, q);
    }
    return q;
  }

  private wake(): void {
    for (const w of this.waiters) w();
    this.waiters.clear();
  }

  private has(id: string): boolean {
    for (const q of this.queues.values()) if (q.messages.has(id)) return true;
    return false;
  }

  async publish(envelopes: Envelope[]): Promise<PublishResult> {
    return this.publishNow(envelopes);
  }

  /**
   * For a memory result backend: `Broker.publishWithStatusesUnlessStarted`, done without
   * yielding, so no other call comes between the look at the statuses and the publish.
   */
  publishWithStatusesUnlessStarted(backend: ResultBackend): PublishWithStatuses | null {
    if (!(backend instanceof MemoryResultBackend)) return null;
    return async (statuses, envelopes) => {
      const states = new Map(statuses.map((s) => [s.id, backend.stateOf(s.id)]));
      const stateOf = (id: string) => states.get(id) ?? null;
      backend.store(statuses.filter((s) => stateOf(s.id) === null));
      const unstarted = (e: Envelope) => {
        const state = stateOf(e.id);
        return state === null || !hasStarted(state);
      };
      const result = this.publishNow(envelopes.filter(unstarted));
      for (const e of envelopes) if (!unstarted(e)) result.duplicates.push(e.id);
      return result;
    };
  }

  private publishNow(envelopes: Envelope[]): PublishResult {
    const result: PublishResult = { accepted: [], duplicates: [] };
    for (const envelope of envelopes) {
      if (this.has(envelope.id)) {
        result.duplicates.push(envelope.id);
        continue;
      }
      this.queue(envelope.queue).messages.set(envelope.id, {
        envelope: structuredClone(envelope),
        seq: this.seq++,
        deliveries: 0,
        leaseLost: false,
      });
      result.accepted.push(envelope.id);
    }
    if (result.accepted.length > 0) this.wake();
    return result;
  }

  /** Returns expired leases to the queue, counting the lost delivery as an attempt. */
  private reclaimExpired(q: QueueState, now: number): void {
    for (const m of q.messages.values()) {
      if (m.receipt && m.leaseExpiresAt! <= now) {
        m.receipt = undefined;
        m.leaseExpiresAt = undefined;
        m.envelope.attempt += 1;
        m.leaseLost = true;
      }
    }
  }

  private take(queues: string[], options: FetchOptions): Delivery[] {
    const now = this.clock.now();
    const out: Delivery[] = [];
    for (const name of queues) {
      const q = this.queues.get(name);
      if (!q) continue;
      this.reclaimExpired(q, now);
      const ready = [...q.messages.values()]
        .filter((m) => !m.receipt && (m.envelope.notBefore ?? 0) <= now)
        .sort((a, b) => b.envelope.priority - a.envelope.priority || a.seq - b.seq);
      for (const m of ready) {
        if (out.length >= options.max) return out;
        m.receipt = `${m.envelope.id}:${++this.receipts}`;
        m.leaseExpiresAt = now + (m.envelope.visibilityTimeoutMs ?? options.leaseMs);
        m.deliveries += 1;
        out.push({
          envelope: structuredClone(m.envelope),
          receipt: m.receipt,
          queue: name,
          leaseExpiresAt: m.leaseExpiresAt,
          deliveries: m.deliveries,
          afterLeaseLoss: m.leaseLost,
        });
        m.leaseLost = false;
      }
    }
    return out;
  }

  /** Ms until the next delayed message or lease expiry in these queues, if any. */
  private nextChangeIn(queues: string[]): number | undefined {
    const now = this.clock.now();
    let next: number | undefined;
    for (const name of queues) {
      for (const m of this.queues.get(name)?.messages.values() ?? []) {
        const at = m.receipt ? m.leaseExpiresAt! : m.envelope.notBefore;
        if (at !== undefined && at > now && (next === undefined || at < next)) next = at;
      }
    }
    return next === undefined ? undefined : next - now;
  }

  async fetch(queues: string[], options: FetchOptions): Promise<Delivery[]> {
    const deadline = this.clock.now() + (options.waitMs ?? 0);
    for (;;) {
      const got = this.take(queues, options);
      const left = deadline - this.clock.now();
      if (got.length > 0 || left <= 0 || options.signal?.aborted) return got;
      const wait = Math.min(left, this.nextChangeIn(queues) ?? left);
      const woken = new AbortController();
      const done = () => woken.abort();
      this.waiters.add(done);
      options.signal?.addEventListener("abort", done, { once: true });
      await this.clock.sleep(Math.max(1, wait), woken.signal);
      this.waiters.delete(done);
      options.signal?.removeEventListener("abort", done);
    }
  }

  /** The stored message for a delivery, if its lease is still the one handed out. */
  private leased(delivery: Delivery): Message | undefined {
    const m = this.queues.get(delivery.queue)?.messages.get(delivery.envelope.id);
    return m && m.receipt === delivery.receipt ? m : undefined;
  }

  async ack(deliveries: Delivery[]): Promise<void> {
    for (const d of deliveries) {
      if (this.leased(d)) this.queues.get(d.queue)!.messages.delete(d.envelope.id);
    }
  }

  async nack(delivery: Delivery, options: NackOptions = {}): Promise<void> {
    const m = this.leased(delivery);
    if (!m) return;
    if (options.requeue === false) {
      this.queues.get(delivery.queue)!.messages.delete(delivery.envelope.id);
      return;
    }
    m.receipt = undefined;
    m.leaseExpiresAt = undefined;
    if (options.countAttempt !== false) m.envelope.attempt += 1;
    else m.deliveries -= 1;
    m.envelope.notBefore = options.delayMs ? this.clock.now() + options.delayMs : undefined;
    this.wake();
  }

  async extendLease(delivery: Delivery, ms: number): Promise<boolean> {
    const m = this.leased(delivery);
    if (!m || m.leaseExpiresAt! <= this.clock.now()) return false;
    m.leaseExpiresAt = this.clock.now() + ms;
    return true;
  }

  async deadLetter(
    delivery: Delivery,
    reason: string,
    meta: Record<string, unknown> = {},
  ): Promise<void> {
    const m = this.leased(delivery);
    if (!m) return;
    const q = this.queues.get(delivery.queue)!;
    q.messages.delete(delivery.envelope.id);
    this.removeDead([delivery.envelope.id]);
    q.dead.push({
      envelope: m.envelope,
      queue: delivery.queue,
      reason,
      meta,
      deadAt: this.clock.now(),
    });
  }

  private allDead(): DeadLetter[] {
    return [...this.queues.values()].flatMap((q) => q.dead);
  }

  async listDeadLetters(query: DeadLetterQuery = {}): Promise<DeadLetter[]> {
    return structuredClone(selectDeadLetters(this.allDead(), query, "newest"));
  }

  async getDeadLetter(id: string): Promise<DeadLetter | null> {
    const found = this.allDead().find((d) => d.envelope.id === id);
    return found ? structuredClone(found) : null;
  }

  private removeDead(ids: string[]): void {
    const gone = new Set(ids);
    for (const q of this.queues.values()) q.dead = q.dead.filter((d) => !gone.has(d.envelope.id));
  }

  async replayDeadLetters(options: ReplayOptions = {}): Promise<ReplayResult> {
    const entries = selectDeadLetters(this.allDead(), options, "oldest");
    if (options.dryRun) return { dryRun: true, entries: structuredClone(entries), skipped: [] };
    const now = this.clock.now();
    const { accepted } = await this.publish(
      entries.map((e) => replayedEnvelope(e, now, options.delayMs)),
    );
    this.removeDead(accepted);
    const replayed = new Set(accepted);
    return {
      dryRun: false,
      entries: entries.filter((e) => replayed.has(e.envelope.id)),
      skipped: structuredClone(entries.filter((e) => !replayed.has(e.envelope.id))),
    };
  }

  async purgeDeadLetters(query: DeadLetterPurge = {}): Promise<number> {
    const entries = selectDeadLetters(this.allDead(), query, "oldest");
    if (query.dryRun) return entries.length;
    this.removeDead(entries.map((e) => e.envelope.id));
    return entries.length;
  }

  async purge(queue: string): Promise<number> {
    const q = this.queues.get(queue);
    if (!q) return 0;
    let removed = 0;
    for (const [id, m] of q.messages) {
      if (!m.receipt) {
        q.messages.delete(id);
        removed++;
      }
    }
    return removed;
  }

  async stats(queues?: string[]): Promise<QueueStats[]> {
    const now = this.clock.now();
    return (queues ?? [...this.queues.keys()].sort()).map((name) => {
      const s: QueueStats = { queue: name, pending: 0, inflight: 0, delayed: 0, dead: 0 };
      const q = this.queues.get(name);
      if (!q) return s;
      for (const m of q.messages.values()) {
        if (m.receipt && m.leaseExpiresAt! > now) s.inflight++;
        else if ((m.envelope.notBefore ?? 0) > now) s.delayed++;
        else s.pending++;
      }
      s.dead = q.dead.length;
      return s;
    });
  }

  async close(): Promise<void> {
    this.wake();
  }
}
