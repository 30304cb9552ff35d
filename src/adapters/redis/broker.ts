/**
 * Broker on Redis Streams. Each queue has one stream (and consumer group) per priority
 * band 0–9; a fetch reads higher bands first. Leases are the group's pending entries plus
 * a lease-deadline ZSET per queue, so every envelope's own visibility timeout holds and
 * extendLease simply moves the deadline. Delayed tasks wait in a ZSET and move into
 * their stream when due. Every state change is one Lua script (see `lua/`).
 */
import type { Redis } from "ioredis";
import type {
  Broker,
  DeadLetter,
  DeadLetterPurge,
  DeadLetterQuery,
  Delivery,
  FetchOptions,
  NackOptions,
  PublishResult,
  QueueStats,
  ReplayOptions,
  ReplayResult,
  ResultBackend,
} from "../contracts.ts";
import type { TaskStatus } from "../../core/states.ts";
import {
  type Envelope,
  buildEnvelope,
  clampPriority,
  decodeEnvelope,
  encodeEnvelope,
} from "../../core/envelope.ts";
import { StemError } from "../../core/errors.ts";
import { replayedEnvelope, selectDeadLetters } from "../dead-letters.ts";
import { isConnectionError } from "./errors.ts";
import { CONSUMER_GROUP, type QueueKeys, type RedisKeys } from "./keys.ts";
import { ackScript } from "./lua/ack-12.ts";
import { ackWithStatusesScript } from "./lua/ack-with-statuses-14.ts";
import { deadLetterScript } from "./lua/dead-letter-16.ts";
import { extendLeaseScript } from "./lua/extend-lease-1.ts";
import { fetchScript } from "./lua/fetch-14n.ts";
import { nackScript } from "./lua/nack-15.ts";
import { pruneConsumersScript } from "./lua/prune-consumers-10.ts";
import { publishScript } from "./lua/publish-15.ts";
import { publishWithStatusesScript } from "./lua/publish-with-statuses-17.ts";
import { purgeQueue, purgeQueueScript } from "./lua/purge-queue-13.ts";
import { queueStatsScript } from "./lua/queue-stats-13.ts";
import { removeDeadLettersScript } from "./lua/remove-dead-letters-3.ts";
import { replayDeadLettersScript } from "./lua/replay-dead-letters-18.ts";
import { setStatusesScript } from "./lua/set-statuses-2.ts";
import { RedisResultBackend } from "./result-backend.ts";
import {
  type LuaScript,
  type ScriptCall,
  execPipeline,
  queueScript,
  runScript,
  runScripts,
} from "./scripts.ts";
import type { StreamWaiter } from "./stream-waiter.ts";

/** Every script the broker runs. */
export const BROKER_SCRIPTS: readonly LuaScript[] = [
  publishScript,
  publishWithStatusesScript,
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

/** Most delayed tasks promoted, or expired leases looked at, per queue per fetch. */
const FETCH_BATCH = 500;
/** How often a broker prunes long-idle consumers of the queues it reads. */
const PRUNE_INTERVAL_MS = 10 * 60_000;
/** A consumer idle this long with nothing pending is removed from the group. */
const CONSUMER_IDLE_MS = 60 * 60_000;
/** Pause before looking again after a connection failure during a long poll. */
const RETRY_PAUSE_MS = 250;

/** Reason given to stream entries that are not envelopes. */
export const UNDECODABLE_REASON = "undecodable";

/**
 * Deliveries as the fetch script returns them: flat, seven values each (queue index,
 * receipt, lease deadline, delivery number of the entry, envelope JSON or '', raw fields
 * or 0, deliveries before the entry).
 */
type RawDeliveries = (string | number | string[])[];
type FetchReply = [deliveries: RawDeliveries, waitMs: number, streamIds: string[]];

interface Undecodable {
  queue: string;
  receipt: string;
  fields: Record<string, string>;
  error: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function fieldsObject(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]] = flat[i + 1];
  return out;
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}

/** Removes from `pending` and returns the statuses of `items` (matched by task id). */
function takeStatuses<T>(
  pending: Map<string, TaskStatus>,
  items: T[],
  idOf: (item: T) => string,
): TaskStatus[] {
  const taken: TaskStatus[] = [];
  for (const item of items) {
    const status = pending.get(idOf(item));
    if (status) {
      taken.push(status);
      pending.delete(idOf(item));
    }
  }
  return taken;
}

/** Splits envelopes into accepted and duplicates from per-queue publish flags. */
function publishResult(
  envelopes: Envelope[],
  byQueue: Map<string, Envelope[]>,
  replies: number[][],
): PublishResult {
  const accepted = new Set<Envelope>();
  [...byQueue.values()].forEach((list, i) => {
    list.forEach((envelope, j) => {
      if (replies[i][j] === 1) accepted.add(envelope);
    });
  });
  const result: PublishResult = { accepted: [], duplicates: [] };
  for (const envelope of envelopes) {
    (accepted.has(envelope) ? result.accepted : result.duplicates).push(envelope.id);
  }
  return result;
}

/** Longest lease a visibility timeout can ask for (a year); longer values are capped. */
const MAX_LEASE_MS = 365 * 86_400_000;

/** ARGV tuple (id, band, vt, notBefore, json) for the publish and replay scripts. */
function envelopeArgs(envelope: Envelope): string[] {
  const vt = envelope.visibilityTimeoutMs;
  return [
    envelope.id,
    String(clampPriority(envelope.priority)),
    vt !== undefined && vt > 0 ? String(Math.ceil(Math.min(vt, MAX_LEASE_MS))) : "",
    envelope.notBefore !== undefined ? String(Math.round(envelope.notBefore)) : "",
    encodeEnvelope(envelope),
  ];
}

function checkPublishable(envelope: Envelope): void {
  if (typeof envelope.id !== "string" || envelope.id.length === 0) {
    throw new StemError("invalid_argument", "cannot publish an envelope without an id");
  }
  if (typeof envelope.queue !== "string" || envelope.queue.length === 0) {
    throw new StemError("invalid_argument", `envelope ${envelope.id} has no queue`);
  }
}

export class RedisBroker implements Broker {
  private closed = false;
  private nextPruneAt = Date.now() + PRUNE_INTERVAL_MS;

  /**
   * `client` must have BROKER_SCRIPTS registered; `waiter` holds the blocking
   * connections of long polls and is closed with the broker.
   */
  constructor(
    private readonly client: Redis,
    private readonly keys: RedisKeys,
    private readonly waiter: StreamWaiter,
  ) {}

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

  async publish(envelopes: Envelope[]): Promise<PublishResult> {
    if (envelopes.length === 0) return { accepted: [], duplicates: [] };
    envelopes.forEach(checkPublishable);
    const byQueue = groupBy(envelopes, (e) => e.queue);
    const calls = [...byQueue].map(([queue, list]): ScriptCall => {
      const q = this.queueKeys(queue);
      return {
        script: publishScript,
        keys: [this.keys.taskIds, this.keys.queues, q.delayed, q.delayedData, q.wake, ...q.streams],
        args: [CONSUMER_GROUP, queue, ...list.flatMap(envelopeArgs)],
      };
    });
    return publishResult(envelopes, byQueue, (await runScripts(this.client, calls)) as number[][]);
  }

  /**
   * The producer's two writes as one step, when `backend` is a Redis result backend on
   * this broker's connection: returns a function that stores the tasks' statuses and then
   * publishes their envelopes, with one atomic script per queue (statuses first, so a
   * worker's later status is never overwritten by them, and nothing is published when
   * storing fails), all in one round trip. Returns null for any other backend.
   */
  publishWithStatuses(
    backend: ResultBackend,
  ): ((statuses: TaskStatus[], envelopes: Envelope[]) => Promise<PublishResult>) | null {
    if (!(backend instanceof RedisResultBackend) || !backend.usesClient(this.client)) return null;
    return async (statuses, envelopes) => {
      envelopes.forEach(checkPublishable);
      if (envelopes.length === 1 && statuses.length === 1 && statuses[0].id === envelopes[0].id) {
        return this.publishOneWithStatus(backend, statuses[0], envelopes[0]);
      }
      const byQueue = groupBy(envelopes, (e) => e.queue);
      const pending = new Map(statuses.map((status) => [status.id, status]));
      const own = [...byQueue.values()].map((list) => takeStatuses(pending, list, (e) => e.id));
      const calls: ScriptCall[] = [];
      if (pending.size > 0) {
        const rest = [...pending.values()];
        calls.push({
          script: setStatusesScript,
          keys: backend.statusKeys(),
          args: backend.statusArgs(rest),
        });
      }
      [...byQueue].forEach(([queue, list], i) => {
        const q = this.queueKeys(queue);
        calls.push({
          script: publishWithStatusesScript,
          keys: [
            ...backend.statusKeys(),
            this.keys.taskIds,
            this.keys.queues,
            q.delayed,
            q.delayedData,
            q.wake,
            ...q.streams,
          ],
          args: [
            CONSUMER_GROUP,
            queue,
            ...backend.statusArgs(own[i]),
            ...list.flatMap(envelopeArgs),
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
    backend: RedisResultBackend,
    status: TaskStatus,
    envelope: Envelope,
  ): Promise<PublishResult> {
    const q = this.queueKeys(envelope.queue);
    const [flag] = await runScript<number[]>(
      this.client,
      publishWithStatusesScript,
      [
        ...backend.statusKeys(),
        this.keys.taskIds,
        this.keys.queues,
        q.delayed,
        q.delayedData,
        q.wake,
        ...q.streams,
      ],
      [CONSUMER_GROUP, envelope.queue, ...backend.statusArgs([status]), ...envelopeArgs(envelope)],
    );
    if (backend.pruneDue()) await backend.prune();
    return flag === 1
      ? { accepted: [envelope.id], duplicates: [] }
      : { accepted: [], duplicates: [envelope.id] };
  }

  async fetch(queues: string[], options: FetchOptions): Promise<Delivery[]> {
    const out: Delivery[] = [];
    if (queues.length === 0 || options.max <= 0) return out;
    const deadline = Date.now() + (options.waitMs ?? 0);
    const waitKeys = queues.flatMap((queue) => {
      const q = this.queueKeys(queue);
      return [q.wake, ...q.streams];
    });
    await this.pruneConsumersWhenDue(queues);
    for (;;) {
      if (this.closed) return out;
      let reply: FetchReply;
      try {
        reply = await this.fetchOnce(queues, options, options.max - out.length);
      } catch (error) {
        // The connection dropped: ioredis is reconnecting. Look again while time is left.
        if (!isConnectionError(error) || this.closed) throw error;
        const left = deadline - Date.now();
        if (out.length > 0 || left <= 0 || options.signal?.aborted) return out;
        await sleep(Math.min(left, RETRY_PAUSE_MS));
        continue;
      }
      const undecodable = await this.collect(queues, reply[0], out);
      if (out.length >= options.max) return out;
      if (undecodable > 0) continue;
      if (out.length > 0) return out;
      const left = deadline - Date.now();
      if (left <= 0 || options.signal?.aborted) return out;
      const wait = reply[1] >= 0 ? Math.min(left, reply[1]) : left;
      if (wait > 0) await this.waiter.wait(waitKeys, reply[2], wait, options.signal);
      // Waited out the whole time with nothing due sooner: the caller's next fetch looks
      // again (looking here too would run the script twice per wait on an idle queue).
      if (wait === left && Date.now() >= deadline) return out;
    }
  }

  private fetchOnce(queues: string[], options: FetchOptions, max: number): Promise<FetchReply> {
    const keys = queues.flatMap((queue) => {
      const q = this.queueKeys(queue);
      return [q.delayed, q.delayedData, q.leases, q.wake, ...q.streams];
    });
    return runScript<FetchReply>(this.client, fetchScript, keys, [
      CONSUMER_GROUP,
      options.consumer || "stem",
      max,
      Math.max(1, Math.ceil(Math.min(options.leaseMs, MAX_LEASE_MS))),
      FETCH_BATCH,
    ]);
  }

  /** Decodes raw deliveries into `out`; dead-letters the undecodable ones and counts them. */
  private async collect(queues: string[], raw: RawDeliveries, out: Delivery[]): Promise<number> {
    const bad: Undecodable[] = [];
    for (let i = 0; i + 6 < raw.length; i += 7) {
      const queue = queues[raw[i] as number];
      const receipt = raw[i + 1] as string;
      const json = raw[i + 4] as string;
      try {
        if (json === "") {
          const fields = fieldsObject(raw[i + 5] as string[]);
          if (fields.envelope === undefined) {
            throw new Error('undecodable message: stream entry has no "envelope" field');
          }
        }
        const envelope = decodeEnvelope(json);
        // The entry's delivery number counts its XCLAIMs: lease-expiry redeliveries.
        const entryDelivery = raw[i + 3] as number;
        envelope.attempt += entryDelivery - 1;
        out.push({
          envelope,
          receipt,
          queue,
          leaseExpiresAt: Number(raw[i + 2]),
          deliveries: (raw[i + 6] as number) + entryDelivery,
          afterLeaseLoss: entryDelivery > 1,
        });
      } catch (error) {
        const flat = raw[i + 5];
        const fields = Array.isArray(flat)
          ? fieldsObject(flat)
          : await this.entryFields(queue, receipt, json);
        bad.push({ queue, receipt, fields, error: (error as Error).message });
      }
    }
    if (bad.length > 0) await this.deadLetterUndecodable(bad);
    return bad.length;
  }

  /** The raw fields of a leased entry (for its dead letter); the fetch returns only its envelope. */
  private async entryFields(
    queue: string,
    receipt: string,
    json: string,
  ): Promise<Record<string, string>> {
    const [band, entryId] = receipt.split("|");
    const stream = this.queueKeys(queue).streams[Number(band)];
    const [entry] = await this.client.xrange(stream, entryId, entryId);
    return entry ? fieldsObject(entry[1]) : { envelope: json };
  }

  private async deadLetterUndecodable(entries: Undecodable[]): Promise<void> {
    const now = Date.now();
    const pipeline = this.client.pipeline();
    for (const entry of entries) {
      const [band, entryId] = entry.receipt.split("|");
      const envelope = buildEnvelope(
        {
          id: `undecodable:${entry.queue}:s${band}:${entryId}`,
          name: "stem.undecodable",
          queue: entry.queue,
        },
        now,
      );
      const record: DeadLetter = {
        envelope,
        queue: entry.queue,
        reason: UNDECODABLE_REASON,
        meta: { error: entry.error, streamEntryId: entryId, fields: entry.fields },
        deadAt: now,
      };
      this.queueDeadLetter(pipeline, entry.receipt, record, "");
    }
    await execPipeline(pipeline);
  }

  private deadLetterKeys(queue: string, previousQueue = queue): string[] {
    const q = this.queueKeys(queue);
    return [
      this.keys.taskIds,
      q.leases,
      q.dead,
      this.keys.deadRecords,
      this.keys.deadIndex,
      ...q.streams,
      this.queueKeys(previousQueue).dead,
    ];
  }

  /** `previousQueue`: the queue of an earlier dead letter with the same id, which this replaces. */
  private queueDeadLetter(
    pipeline: ReturnType<Redis["pipeline"]>,
    receipt: string,
    record: DeadLetter,
    forgetId: string,
    previousQueue?: string,
  ): void {
    const keys = this.deadLetterKeys(record.queue, previousQueue);
    queueScript(pipeline, deadLetterScript, keys, [
      CONSUMER_GROUP,
      record.queue,
      receipt,
      record.envelope.id,
      record.deadAt,
      JSON.stringify(record),
      forgetId,
    ]);
  }

  private async pruneConsumersWhenDue(queues: string[]): Promise<void> {
    if (Date.now() < this.nextPruneAt) return;
    this.nextPruneAt = Date.now() + PRUNE_INTERVAL_MS;
    const pipeline = this.client.pipeline();
    for (const queue of queues) {
      queueScript(pipeline, pruneConsumersScript, this.queueKeys(queue).streams, [
        CONSUMER_GROUP,
        CONSUMER_IDLE_MS,
      ]);
    }
    await execPipeline(pipeline);
  }

  async ack(deliveries: Delivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    const calls = [...groupBy(deliveries, (d) => d.queue)].map(([queue, list]): ScriptCall => {
      const q = this.queueKeys(queue);
      return {
        script: ackScript,
        keys: [this.keys.taskIds, q.leases, ...q.streams],
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
    if (!(backend instanceof RedisResultBackend) || !backend.usesClient(this.client)) return null;
    return async (statuses, deliveries) => {
      const pending = new Map(statuses.map((status) => [status.id, status]));
      const calls: ScriptCall[] = [];
      for (const [queue, list] of groupBy(deliveries, (d) => d.queue)) {
        const q = this.queueKeys(queue);
        calls.push({
          script: ackWithStatusesScript,
          keys: [...backend.statusKeys(), this.keys.taskIds, q.leases, ...q.streams],
          args: [
            CONSUMER_GROUP,
            queue,
            ...backend.statusArgs(takeStatuses(pending, list, (d) => d.envelope.id)),
            ...list.map((d) => d.receipt),
          ],
        });
      }
      if (pending.size > 0) {
        const rest = [...pending.values()];
        calls.push({
          script: setStatusesScript,
          keys: backend.statusKeys(),
          args: backend.statusArgs(rest),
        });
      }
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
      [this.keys.taskIds, q.delayed, q.delayedData, q.leases, q.wake, ...q.streams],
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
    const [previous] = await this.readDeadLetters([delivery.envelope.id]);
    const pipeline = this.client.pipeline();
    this.queueDeadLetter(pipeline, delivery.receipt, record, delivery.envelope.id, previous?.queue);
    await execPipeline(pipeline);
  }

  private async readDeadLetters(ids: string[], queue?: string): Promise<DeadLetter[]> {
    if (ids.length === 0) return [];
    const raw = await this.client.hmget(this.keys.deadRecords, ...ids);
    return raw
      .filter((text): text is string => text !== null)
      .map((text) => JSON.parse(text) as DeadLetter)
      .filter((d) => queue === undefined || d.queue === queue);
  }

  /** Dead letters matching the query, in the given order, offset and limit applied. */
  private async selectDeadLetters(
    query: DeadLetterQuery & { ids?: string[] },
    order: "newest" | "oldest",
  ): Promise<DeadLetter[]> {
    if (query.ids) {
      return selectDeadLetters(await this.readDeadLetters(query.ids), query, order);
    }
    const { index, min, max } = this.deadLetterRange(query);
    const offset = query.offset ?? 0;
    const count = query.limit ?? -1;
    const ids =
      order === "newest"
        ? await this.client.zrevrangebyscore(index, max, min, "LIMIT", offset, count)
        : await this.client.zrangebyscore(index, min, max, "LIMIT", offset, count);
    return this.readDeadLetters(ids, query.queue);
  }

  /** The dead-letter index to read and its deadAt score range for a query. */
  private deadLetterRange(query: DeadLetterQuery): { index: string; min: string; max: string } {
    return {
      index: query.queue === undefined ? this.keys.deadIndex : this.queueKeys(query.queue).dead,
      min: query.since === undefined ? "-inf" : String(query.since),
      // `(` makes the bound exclusive: strictly before.
      max: query.before === undefined ? "+inf" : `(${query.before}`,
    };
  }

  async listDeadLetters(query: DeadLetterQuery = {}): Promise<DeadLetter[]> {
    return this.selectDeadLetters(query, "newest");
  }

  async getDeadLetter(id: string): Promise<DeadLetter | null> {
    const text = await this.client.hget(this.keys.deadRecords, id);
    return text === null ? null : (JSON.parse(text) as DeadLetter);
  }

  async replayDeadLetters(options: ReplayOptions = {}): Promise<ReplayResult> {
    const entries = await this.selectDeadLetters(options, "oldest");
    if (options.dryRun) return { dryRun: true, entries, skipped: [] };
    if (entries.length === 0) return { dryRun: false, entries, skipped: [] };
    const now = Date.now();
    const byQueue = groupBy(entries, (e) => e.queue);
    const pipeline = this.client.pipeline();
    for (const [queue, list] of byQueue) {
      const q = this.queueKeys(queue);
      queueScript(
        pipeline,
        replayDeadLettersScript,
        [
          this.keys.taskIds,
          this.keys.queues,
          q.delayed,
          q.delayedData,
          q.wake,
          q.dead,
          this.keys.deadRecords,
          this.keys.deadIndex,
          ...q.streams,
        ],
        [
          CONSUMER_GROUP,
          queue,
          ...list.flatMap((e) => envelopeArgs(replayedEnvelope(e, now, options.delayMs))),
        ],
      );
    }
    const replies = (await execPipeline(pipeline)) as number[][];
    // Flags: 1 replayed, 0 gone meanwhile (replayed or purged elsewhere), 2 id queued again.
    const replayed = new Set<DeadLetter>();
    const skipped = new Set<DeadLetter>();
    [...byQueue.values()].forEach((list, i) => {
      list.forEach((entry, j) => {
        if (replies[i][j] === 1) replayed.add(entry);
        else if (replies[i][j] === 2) skipped.add(entry);
      });
    });
    return {
      dryRun: false,
      entries: entries.filter((e) => replayed.has(e)),
      skipped: entries.filter((e) => skipped.has(e)),
    };
  }

  async purgeDeadLetters(query: DeadLetterPurge = {}): Promise<number> {
    if (query.dryRun) {
      const { index, min, max } = this.deadLetterRange(query);
      const n = await this.client.zcount(index, min, max);
      return query.limit === undefined ? n : Math.min(n, query.limit);
    }
    const entries = await this.selectDeadLetters(query, "oldest");
    if (entries.length === 0) return 0;
    const pipeline = this.client.pipeline();
    for (const [queue, list] of groupBy(entries, (e) => e.queue)) {
      queueScript(
        pipeline,
        removeDeadLettersScript,
        [this.queueKeys(queue).dead, this.keys.deadRecords, this.keys.deadIndex],
        list.map((e) => e.envelope.id),
      );
    }
    const replies = (await execPipeline(pipeline)) as number[];
    return replies.reduce((sum, n) => sum + n, 0);
  }

  /** Deletes in chunks (see lua/purge-queue-13.ts): Redis is never blocked for long. */
  purge(queue: string): Promise<number> {
    return purgeQueue(this.client, this.keys.taskIds, CONSUMER_GROUP, queue, this.queueKeys(queue));
  }

  async stats(queues?: string[]): Promise<QueueStats[]> {
    const names = queues ?? (await this.client.smembers(this.keys.queues)).sort();
    if (names.length === 0) return [];
    const pipeline = this.client.pipeline();
    for (const queue of names) {
      const q = this.queueKeys(queue);
      queueScript(pipeline, queueStatsScript, [q.delayed, q.leases, q.dead, ...q.streams]);
    }
    const replies = (await execPipeline(pipeline)) as number[][];
    return names.map((queue, i) => {
      const [pending, inflight, delayed, dead] = replies[i];
      return { queue, pending, inflight, delayed, dead };
    });
  }

  /** Ends long polls in progress and closes their connections; the shared client stays open. */
  async close(): Promise<void> {
    this.closed = true;
    this.waiter.close();
  }
}
