/**
 * The Redis broker's fetch: leases entries with the fetch script, long-polls through the
 * StreamWaiter when nothing is due, decodes deliveries and dead-letters entries that are
 * not envelopes. On a cluster, where each queue is in a slot of its own, the script runs
 * per queue and the long poll waits per queue.
 */
import { buildEnvelope, decodeEnvelope } from "../../core/envelope.ts";
import type { DeadLetter, Delivery, FetchOptions } from "../contracts.ts";
import { fieldsObject, MAX_LEASE_MS } from "./broker-args.ts";
import type { RedisClient } from "./client.ts";
import type { RedisDeadLetterStore } from "./dead-letter-store.ts";
import { isConnectionError } from "./errors.ts";
import { CONSUMER_GROUP, type QueueKeys, type RedisKeys } from "./keys.ts";
import { fetchScript } from "./lua/fetch-14n.ts";
import { pruneConsumersScript } from "./lua/prune-consumers-10.ts";
import { runScript, runScripts } from "./scripts.ts";
import type { StreamWaiter } from "./stream-waiter.ts";

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

export class RedisFetcher {
  private closed = false;
  private nextPruneAt = Date.now() + PRUNE_INTERVAL_MS;
  /** Cluster waits in progress per queue, by the queue's first stream key (see waitOnQueue). */
  private readonly queueWaits = new Map<string, Promise<void>>();

  /** `waiter` holds the blocking connections of long polls and is closed with the fetcher. */
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
    private readonly waiter: StreamWaiter,
    private readonly queueKeys: (queue: string) => QueueKeys,
    private readonly deadLetters: RedisDeadLetterStore,
  ) {}

  /** Leases up to `options.max` deliveries from `queues`, waiting up to `options.waitMs`. */
  async fetch(queues: string[], options: FetchOptions): Promise<Delivery[]> {
    const out: Delivery[] = [];
    if (queues.length === 0 || options.max <= 0) return out;
    const deadline = Date.now() + (options.waitMs ?? 0);
    const waitKeys = queues.map((queue) => {
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
      if (wait > 0) await this.waitForEntries(waitKeys, reply[2], wait, options.signal);
      // Waited out the whole time with nothing due sooner: the caller's next fetch looks
      // again (looking here too would run the script twice per wait on an idle queue).
      if (wait === left && Date.now() >= deadline) return out;
    }
  }

  /**
   * Waits for a new entry on any queue's streams (`streams`: per queue, `ids`: flat), for
   * `ms` at most. On a cluster the queues' keys are in different slots: one wait per
   * queue, and the first to end ends this one (see waitOnQueue).
   */
  private async waitForEntries(
    streams: string[][],
    ids: string[],
    ms: number,
    signal?: AbortSignal,
  ): Promise<void> {
    if (!this.keys.cluster || streams.length === 1) {
      await this.waiter.wait(streams.flat(), ids, ms, signal);
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const ended = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      onAbort = resolve;
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    let from = 0;
    const waits = streams.map((keys) => {
      from += keys.length;
      return this.waitOnQueue(keys, ids.slice(from - keys.length, from), ms);
    });
    try {
      await Promise.race([...waits, ended]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * A wait on one queue's streams, joined while one is in progress: the others of a
   * cluster wait keep running after the first ends (cancelling a blocked read costs its
   * connection), and a wait still blocked from the ids it began with sees the same new
   * entries as one begun now, as nothing has been added since. So each queue has one
   * blocked connection at most, however often fetches end and start again.
   */
  private waitOnQueue(streams: string[], ids: string[], ms: number): Promise<void> {
    const key = streams[0];
    let wait = this.queueWaits.get(key);
    if (!wait) {
      wait = this.waiter.wait(streams, ids, ms).finally(() => this.queueWaits.delete(key));
      this.queueWaits.set(key, wait);
    }
    return wait;
  }

  /**
   * One fetch script run over the queues. On a cluster, where each queue is in its own
   * slot, one run per queue, in queue order, until `max` are taken.
   */
  private async fetchOnce(
    queues: string[],
    options: FetchOptions,
    max: number,
  ): Promise<FetchReply> {
    if (!this.keys.cluster || queues.length === 1) return this.fetchRun(queues, options, max);
    const deliveries: RawDeliveries = [];
    const streamIds: string[] = [];
    let waitMs = -1;
    for (const [index, queue] of queues.entries()) {
      const left = max - deliveries.length / 7;
      if (left <= 0) break;
      const [raw, wait, ids] = await this.fetchRun([queue], options, left);
      for (let i = 0; i < raw.length; i += 7) raw[i] = index;
      deliveries.push(...raw);
      streamIds.push(...ids);
      if (wait >= 0 && (waitMs < 0 || wait < waitMs)) waitMs = wait;
    }
    return [deliveries, waitMs, streamIds];
  }

  private fetchRun(queues: string[], options: FetchOptions, max: number): Promise<FetchReply> {
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
    const calls = entries.map((entry) => {
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
      return this.deadLetters.moveCall(entry.receipt, record, "");
    });
    await runScripts(this.client, calls);
  }

  private async pruneConsumersWhenDue(queues: string[]): Promise<void> {
    if (Date.now() < this.nextPruneAt) return;
    this.nextPruneAt = Date.now() + PRUNE_INTERVAL_MS;
    await runScripts(
      this.client,
      queues.map((queue) => ({
        script: pruneConsumersScript,
        keys: this.queueKeys(queue).streams,
        args: [CONSUMER_GROUP, CONSUMER_IDLE_MS],
      })),
    );
  }

  /** Ends long polls in progress and closes their connections. */
  close(): void {
    this.closed = true;
    this.waiter.close();
  }
}
