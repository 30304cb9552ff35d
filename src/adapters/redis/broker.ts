/**
 * Broker on Redis Streams. Each queue has one stream (and consumer group) per priority
 * band 0–9; a fetch reads higher bands first. Leases are the group's pending entries plus
 * a lease-deadline ZSET per queue, so every envelope's own visibility timeout holds and
 * extendLease simply moves the deadline. Delayed tasks wait in a ZSET and move into
 * their stream when due. Every state change is one Lua script (see `lua/`).
 */

import { type Envelope, encodeEnvelope } from "../../core/envelope.ts";
import type { TaskStatus } from "../../core/states.ts";
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
import {
  checkPublishable,
  envelopeArgs,
  envelopesArgs,
  groupBy,
  publishResult,
  takeStatuses,
} from "./broker-args.ts";
import { RedisFetcher } from "./broker-fetch.ts";
import type { RedisClient } from "./client.ts";
import { isCluster } from "./client.ts";
import { RedisDeadLetterStore } from "./dead-letter-store.ts";
import { CONSUMER_GROUP, type QueueKeys, type RedisKeys } from "./keys.ts";
import { ackScript } from "./lua/ack-12.ts";
import { ackWithStatusesScript } from "./lua/ack-with-statuses-14-2n.ts";
import { deadLetterScript } from "./lua/dead-letter-16.ts";
import { extendLeaseScript } from "./lua/extend-lease-1.ts";
import { fetchScript } from "./lua/fetch-14n.ts";
import { nackScript } from "./lua/nack-15.ts";
import { pruneConsumersScript } from "./lua/prune-consumers-10.ts";
import { publishScript } from "./lua/publish-15.ts";
import { publishUnlessStartedScript } from "./lua/publish-unless-started-17-2n.ts";
import { publishWithStatusesScript } from "./lua/publish-with-statuses-17-2n.ts";
import { purgeQueue, purgeQueueScript } from "./lua/purge-queue-13.ts";
import { queueStatsScript } from "./lua/queue-stats-13.ts";
import { removeDeadLettersScript } from "./lua/remove-dead-letters-3.ts";
import { replayDeadLettersScript } from "./lua/replay-dead-letters-18.ts";
import { RedisResultBackend } from "./result-backend.ts";
import { type LuaScript, runScript, runScripts, type ScriptCall } from "./scripts.ts";
import type { StreamWaiter } from "./stream-waiter.ts";

export { UNDECODABLE_REASON } from "./broker-fetch.ts";

/** Every script the broker runs. */
export const BROKER_SCRIPTS: readonly LuaScript[] = [
  publishScript,
  publishWithStatusesScript,
  publishUnlessStartedScript,
  fetchScript,
  ackScript,
  ackWithStatusesScript,
  nackScript,
  extendLeaseScript,
  deadLetterScript,
  replayDeadLettersScript,
  removeDeadLettersScript,
  purgeQueueScript,
  queueStatsScript,
  pruneConsumersScript,
];

export class RedisBroker implements Broker {
  /**
   * `client` must have BROKER_SCRIPTS registered; `waiter` holds the blocking
   * connections of long polls and is closed with the broker.
   */
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
    waiter: StreamWaiter,
  ) {
    const queueKeys = (queue: string) => this.queueKeys(queue);
    this.deadLetters = new RedisDeadLetterStore(client, keys, queueKeys);
    this.fetcher = new RedisFetcher(client, keys, waiter, queueKeys, this.deadLetters);
  }

  private readonly deadLetters: RedisDeadLetterStore;
  private readonly fetcher: RedisFetcher;
  /** Queues this broker has added to the prefix's `queues` set (on a cluster, see register). */
  private readonly registered = new Set<string>();

  /** Key names of each queue seen, built once. */
  private readonly queueKeyCache = new Map<string, QueueKeys>();

  private queueKeys(queue: string): QueueKeys {
    let keys = this.queueKeyCache.get(queue);
    if (!keys) {
      keys = this.keys.queue(queue);
      this.queueKeyCache.set(queue, keys);
    }
    return keys;
  }

  async publish(envelopes: Envelope[], encoded?: readonly string[]): Promise<PublishResult> {
    if (envelopes.length === 0) return { accepted: [], duplicates: [] };
    envelopes.forEach(checkPublishable);
    const byQueue = groupBy(envelopes, (e) => e.queue);
    await this.register([...byQueue.keys()]);
    const calls = [...byQueue].map(([queue, list]): ScriptCall => {
      const q = this.queueKeys(queue);
      return {
        script: publishScript,
        keys: [q.taskIds, q.registry, q.delayed, q.delayedData, q.wake, ...q.streams],
        args: [CONSUMER_GROUP, queue, ...envelopesArgs(list, envelopes, encoded)],
      };
    });
    return publishResult(envelopes, byQueue, (await runScripts(this.client, calls)) as number[][]);
  }

  /**
   * On a cluster, adds queues to the prefix's `queues` set, which lives in another slot
   * than the queues' publish scripts (on a single server the scripts add them).
   */
  private async register(queues: string[]): Promise<void> {
    if (!this.keys.cluster) return;
    const fresh = queues.filter((queue) => !this.registered.has(queue));
    if (fresh.length === 0) return;
    await this.client.sadd(this.keys.queues, ...fresh);
    for (const queue of fresh) this.registered.add(queue);
  }

  /**
   * True when `backend` stores on this broker's connection and its keys can share a script
   * with a queue's: on one server. On a cluster results live in another slot, so callers
   * take the two-step path (statuses first, then publish or ack) the contract gives them.
   */
  private sharesSlotsWith(backend: ResultBackend): backend is RedisResultBackend {
    return (
      backend instanceof RedisResultBackend &&
      backend.usesClient(this.client) &&
      !isCluster(this.client)
    );
  }

  /**
   * The producer's two writes as one step, when `backend` is a Redis result backend on
   * this broker's connection: returns a function that stores the tasks' statuses and then
   * publishes their envelopes, with one atomic script per queue (statuses first, so a
   * worker's later status is never overwritten by them, and nothing is published when
   * storing fails), all in one round trip. Returns null for any other backend.
   */
  publishWithStatuses(backend: ResultBackend): PublishWithStatuses | null {
    return this.publishingWith(backend, publishWithStatusesScript);
  }

  /**
   * `Broker.publishWithStatusesUnlessStarted`: as publishWithStatuses, with a script that
   * first looks at each task's stored status (see publish-unless-started-17-2n).
   */
  publishWithStatusesUnlessStarted(backend: ResultBackend): PublishWithStatuses | null {
    return this.publishingWith(backend, publishUnlessStartedScript);
  }

  /** Statuses and envelopes through `script` (publish-with-statuses' keys and arguments). */
  private publishingWith(backend: ResultBackend, script: LuaScript): PublishWithStatuses | null {
    if (!this.sharesSlotsWith(backend)) return null;
    return async (statuses, envelopes, encoded) => {
      envelopes.forEach(checkPublishable);
      if (envelopes.length === 1 && statuses.length === 1 && statuses[0].id === envelopes[0].id) {
        return this.publishOneWithStatus(script, backend, statuses[0], envelopes[0], encoded?.[0]);
      }
      const byQueue = groupBy(envelopes, (e) => e.queue);
      const pending = new Map(statuses.map((status) => [status.id, status]));
      const own = [...byQueue.values()].map((list) => takeStatuses(pending, list, (e) => e.id));
      const calls: ScriptCall[] = [];
      if (pending.size > 0) {
        const rest = [...pending.values()];
        calls.push(backend.setCall(rest));
      }
      [...byQueue].forEach(([queue, list], i) => {
        const q = this.queueKeys(queue);
        calls.push({
          script,
          keys: [
            ...backend.indexKeys(),
            q.taskIds,
            q.registry,
            q.delayed,
            q.delayedData,
            q.wake,
            ...q.streams,
            ...backend.statusKeys(own[i]),
          ],
          args: [
            CONSUMER_GROUP,
            queue,
            ...backend.statusArgs(own[i]),
            ...envelopesArgs(list, envelopes, encoded),
          ],
        });
      });
      const replies = (await runScripts(this.client, calls)) as number[][];
      if (backend.pruneDue()) await backend.prune();
      return publishResult(envelopes, byQueue, replies.slice(replies.length - byQueue.size));
    };
  }

  /** publishWithStatuses for the common single task (one enqueue): no grouping. */
  private async publishOneWithStatus(
    script: LuaScript,
    backend: RedisResultBackend,
    status: TaskStatus,
    envelope: Envelope,
    json = encodeEnvelope(envelope),
  ): Promise<PublishResult> {
    const q = this.queueKeys(envelope.queue);
    const [flag] = await runScript<number[]>(
      this.client,
      script,
      [
        ...backend.indexKeys(),
        q.taskIds,
        q.registry,
        q.delayed,
        q.delayedData,
        q.wake,
        ...q.streams,
        ...backend.statusKeys([status]),
      ],
      [
        CONSUMER_GROUP,
        envelope.queue,
        ...backend.statusArgs([status]),
        ...envelopeArgs(envelope, json),
      ],
    );
    if (backend.pruneDue()) await backend.prune();
    return flag === 1
      ? { accepted: [envelope.id], duplicates: [] }
      : { accepted: [], duplicates: [envelope.id] };
  }

  fetch(queues: string[], options: FetchOptions): Promise<Delivery[]> {
    return this.fetcher.fetch(queues, options);
  }

  async ack(deliveries: Delivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    const calls = [...groupBy(deliveries, (d) => d.queue)].map(([queue, list]): ScriptCall => {
      const q = this.queueKeys(queue);
      return {
        script: ackScript,
        keys: [q.taskIds, q.leases, ...q.streams],
        args: [CONSUMER_GROUP, queue, ...list.map((d) => d.receipt)],
      };
    });
    await runScripts(this.client, calls);
  }

  /**
   * The worker's completion writes as one step, when `backend` is a Redis result backend
   * on this broker's connection: returns a function that stores statuses and acks
   * deliveries with one atomic script per queue (a delivery's status is stored before its
   * ack, and a failure while storing stops the script before any ack), all in one round
   * trip. Statuses of tasks not being acked are stored alongside. Returns null for any
   * other backend.
   */
  ackWithStatuses(
    backend: ResultBackend,
  ): ((statuses: TaskStatus[], deliveries: Delivery[]) => Promise<void>) | null {
    if (!this.sharesSlotsWith(backend)) return null;
    return async (statuses, deliveries) => {
      const pending = new Map(statuses.map((status) => [status.id, status]));
      const calls: ScriptCall[] = [];
      for (const [queue, list] of groupBy(deliveries, (d) => d.queue)) {
        const q = this.queueKeys(queue);
        const own = takeStatuses(pending, list, (d) => d.envelope.id);
        calls.push({
          script: ackWithStatusesScript,
          keys: [
            ...backend.indexKeys(),
            q.taskIds,
            q.leases,
            ...q.streams,
            ...backend.statusKeys(own),
          ],
          args: [CONSUMER_GROUP, queue, ...backend.statusArgs(own), ...list.map((d) => d.receipt)],
        });
      }
      if (pending.size > 0) calls.push(backend.setCall([...pending.values()]));
      if (calls.length === 0) return;
      await runScripts(this.client, calls);
      if (backend.pruneDue()) await backend.prune();
    };
  }

  async nack(delivery: Delivery, options: NackOptions = {}): Promise<void> {
    const requeue = options.requeue !== false;
    const delayMs =
      requeue && options.delayMs && options.delayMs > 0 ? Math.ceil(options.delayMs) : 0;
    const envelope: Envelope = {
      ...delivery.envelope,
      attempt: delivery.envelope.attempt + (options.countAttempt === false ? 0 : 1),
      notBefore: delayMs > 0 ? Date.now() + delayMs : undefined,
    };
    const [, , vt, , json] = envelopeArgs(envelope);
    const q = this.queueKeys(delivery.queue);
    await runScript(
      this.client,
      nackScript,
      [q.taskIds, q.delayed, q.delayedData, q.leases, q.wake, ...q.streams],
      [
        CONSUMER_GROUP,
        delivery.queue,
        delivery.receipt,
        requeue ? "1" : "0",
        delayMs,
        vt,
        json,
        // A deferral gives its delivery back.
        Math.max(0, delivery.deliveries - (options.countAttempt === false ? 1 : 0)),
      ],
    );
  }

  async extendLease(delivery: Delivery, ms: number): Promise<boolean> {
    const deadline = await runScript<number>(
      this.client,
      extendLeaseScript,
      [this.queueKeys(delivery.queue).leases],
      [delivery.receipt, Math.max(1, Math.ceil(ms))],
    );
    return deadline > 0;
  }

  async deadLetter(
    delivery: Delivery,
    reason: string,
    meta: Record<string, unknown> = {},
  ): Promise<void> {
    const record: DeadLetter = {
      envelope: delivery.envelope,
      queue: delivery.queue,
      reason,
      meta,
      deadAt: Date.now(),
    };
    // An earlier dead letter with this id is replaced, wherever it was.
    await this.deadLetters.move(delivery.receipt, record, delivery.envelope.id);
  }

  listDeadLetters(query: DeadLetterQuery = {}): Promise<DeadLetter[]> {
    return this.deadLetters.list(query);
  }

  getDeadLetter(id: string): Promise<DeadLetter | null> {
    return this.deadLetters.get(id);
  }

  replayDeadLetters(options: ReplayOptions = {}): Promise<ReplayResult> {
    return this.deadLetters.replay(options);
  }

  purgeDeadLetters(query: DeadLetterPurge = {}): Promise<number> {
    return this.deadLetters.purge(query);
  }

  /** Deletes in chunks (see lua/purge-queue-13.ts): Redis is never blocked for long. */
  purge(queue: string): Promise<number> {
    const q = this.queueKeys(queue);
    return purgeQueue(this.client, q.taskIds, CONSUMER_GROUP, queue, q);
  }

  async stats(queues?: string[]): Promise<QueueStats[]> {
    const names = queues ?? (await this.client.smembers(this.keys.queues)).sort();
    if (names.length === 0) return [];
    const replies = (await runScripts(
      this.client,
      names.map((queue) => {
        const q = this.queueKeys(queue);
        return {
          script: queueStatsScript,
          keys: [q.delayed, q.leases, q.dead, ...q.streams],
          args: [],
        };
      }),
    )) as number[][];
    return names.map((queue, i) => {
      const [pending, inflight, delayed, dead] = replies[i];
      return { queue, pending, inflight, delayed, dead };
    });
  }

  /** Ends long polls in progress and closes their connections; the shared client stays open. */
  async close(): Promise<void> {
    this.fetcher.close();
  }
}
