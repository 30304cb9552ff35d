/**
 * The Redis broker's dead letters. On a single server the records and a deadAt index span
 * the queues (QueueKeys.deadRecords / deadIndex are shared); on a cluster each queue keeps
 * its own in its hash slot, so reads that span queues merge the queues' indexes, and a
 * dead letter that replaces one of another queue removes that one in a step of its own.
 */
import type {
  DeadLetter,
  DeadLetterPurge,
  DeadLetterQuery,
  ReplayOptions,
  ReplayResult,
} from "../contracts.ts";
import { replayedEnvelope, selectDeadLetters } from "../dead-letters.ts";
import { envelopeArgs, groupBy } from "./broker-args.ts";
import type { RedisClient } from "./client.ts";
import { CONSUMER_GROUP, type QueueKeys, type RedisKeys } from "./keys.ts";
import { deadLetterScript } from "./lua/dead-letter-16.ts";
import { removeDeadLettersScript } from "./lua/remove-dead-letters-3.ts";
import { replayDeadLettersScript } from "./lua/replay-dead-letters-18.ts";
import { runScript, runScripts, type ScriptCall } from "./scripts.ts";

export class RedisDeadLetterStore {
  /** `queueKeys` gives a queue's keys (the broker caches them). */
  constructor(
    private readonly client: RedisClient,
    private readonly keys: RedisKeys,
    private readonly queueKeys: (queue: string) => QueueKeys,
  ) {}

  /**
   * The script call that moves a leased entry to the dead letters as `record`;
   * `forgetId`: the id to drop from the duplicate index ('' = none); `previousQueue`: the
   * queue of an earlier dead letter with the same id, which this one replaces (on a
   * cluster, `removeEarlier` must have removed it first).
   */
  moveCall(
    receipt: string,
    record: DeadLetter,
    forgetId: string,
    previousQueue = record.queue,
  ): ScriptCall {
    const q = this.queueKeys(record.queue);
    return {
      script: deadLetterScript,
      keys: [
        q.taskIds,
        q.leases,
        q.dead,
        q.deadRecords,
        q.deadIndex,
        ...q.streams,
        this.queueKeys(previousQueue).dead,
      ],
      args: [
        CONSUMER_GROUP,
        record.queue,
        receipt,
        record.envelope.id,
        record.deadAt,
        JSON.stringify(record),
        forgetId,
      ],
    };
  }

  /**
   * Moves a leased entry to the dead letters, replacing an earlier dead letter with the
   * same id wherever it was.
   */
  async move(receipt: string, record: DeadLetter, forgetId: string): Promise<void> {
    const [previous] = await this.read([record.envelope.id]);
    // On a cluster an earlier record in another queue is in another slot: the move goes
    // first, and only a move that happened removes it (a stale receipt changes nothing).
    // A failure in between leaves both; reads take the newer.
    const elsewhere =
      this.keys.cluster && previous !== undefined && previous.queue !== record.queue
        ? previous.queue
        : undefined;
    const call = this.moveCall(
      receipt,
      record,
      forgetId,
      elsewhere === undefined ? previous?.queue : undefined,
    );
    const moved = await runScript<number>(this.client, call.script, call.keys, call.args);
    if (moved === 1 && elsewhere !== undefined) await this.remove(elsewhere, [record.envelope.id]);
  }

  private async remove(queue: string, ids: string[]): Promise<number> {
    const q = this.queueKeys(queue);
    return runScript<number>(
      this.client,
      removeDeadLettersScript,
      [q.dead, q.deadRecords, q.deadIndex],
      ids,
    );
  }

  /** Every queue the broker has seen (a cluster reads dead letters queue by queue). */
  private async knownQueues(): Promise<string[]> {
    return (await this.client.smembers(this.keys.queues)).sort();
  }

  /** The records of `ids`, of `queue` or any queue. */
  private async read(ids: string[], queue?: string): Promise<DeadLetter[]> {
    if (ids.length === 0) return [];
    const hashes =
      queue !== undefined
        ? [this.queueKeys(queue).deadRecords]
        : this.keys.cluster
          ? (await this.knownQueues()).map((name) => this.queueKeys(name).deadRecords)
          : [this.keys.deadRecords];
    const found = new Map<string, DeadLetter>();
    for (const raw of await Promise.all(hashes.map((hash) => this.client.hmget(hash, ...ids)))) {
      raw.forEach((text, i) => {
        if (text === null) return;
        const record = JSON.parse(text) as DeadLetter;
        // Two queues can hold one id for a moment on a cluster (see move): the newer stands.
        const earlier = found.get(ids[i]);
        if (!earlier || record.deadAt > earlier.deadAt) found.set(ids[i], record);
      });
    }
    return ids
      .map((id) => found.get(id))
      .filter((d): d is DeadLetter => d !== undefined)
      .filter((d) => queue === undefined || d.queue === queue);
  }

  /** Dead letters matching the query, in the given order, offset and limit applied. */
  private async select(
    query: DeadLetterQuery & { ids?: string[] },
    order: "newest" | "oldest",
  ): Promise<DeadLetter[]> {
    if (query.ids) return selectDeadLetters(await this.read(query.ids), query, order);
    const offset = query.offset ?? 0;
    if (this.keys.cluster && query.queue === undefined) {
      // Each queue's first offset + limit, merged: the overall first offset + limit are among them.
      const count = query.limit === undefined ? -1 : offset + query.limit;
      const perQueue = await Promise.all(
        (await this.knownQueues()).map((queue) => this.readRange(queue, query, order, 0, count)),
      );
      return selectDeadLetters(perQueue.flat(), query, order);
    }
    return this.readRange(query.queue, query, order, offset, query.limit ?? -1);
  }

  /** One index's dead letters in the query's deadAt range, in order, from `offset`. */
  private async readRange(
    queue: string | undefined,
    query: DeadLetterQuery,
    order: "newest" | "oldest",
    offset: number,
    count: number,
  ): Promise<DeadLetter[]> {
    const { index, min, max } = this.range({ ...query, queue });
    const ids =
      order === "newest"
        ? await this.client.zrevrangebyscore(index, max, min, "LIMIT", offset, count)
        : await this.client.zrangebyscore(index, min, max, "LIMIT", offset, count);
    return this.read(ids, queue);
  }

  /** The dead-letter index to read and its deadAt score range for a query. */
  private range(query: DeadLetterQuery): { index: string; min: string; max: string } {
    return {
      index: query.queue === undefined ? this.keys.deadIndex : this.queueKeys(query.queue).dead,
      min: query.since === undefined ? "-inf" : String(query.since),
      // `(` makes the bound exclusive: strictly before.
      max: query.before === undefined ? "+inf" : `(${query.before}`,
    };
  }

  list(query: DeadLetterQuery = {}): Promise<DeadLetter[]> {
    return this.select(query, "newest");
  }

  async get(id: string): Promise<DeadLetter | null> {
    return (await this.read([id]))[0] ?? null;
  }

  async replay(options: ReplayOptions = {}): Promise<ReplayResult> {
    const entries = await this.select(options, "oldest");
    if (options.dryRun) return { dryRun: true, entries, skipped: [] };
    if (entries.length === 0) return { dryRun: false, entries, skipped: [] };
    const now = Date.now();
    const byQueue = groupBy(entries, (e) => e.queue);
    const calls = [...byQueue].map(([queue, list]): ScriptCall => {
      const q = this.queueKeys(queue);
      return {
        script: replayDeadLettersScript,
        keys: [
          q.taskIds,
          q.registry,
          q.delayed,
          q.delayedData,
          q.wake,
          q.dead,
          q.deadRecords,
          q.deadIndex,
          ...q.streams,
        ],
        args: [
          CONSUMER_GROUP,
          queue,
          ...list.flatMap((e) => envelopeArgs(replayedEnvelope(e, now, options.delayMs))),
        ],
      };
    });
    const replies = (await runScripts(this.client, calls)) as number[][];
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

  async purge(query: DeadLetterPurge = {}): Promise<number> {
    if (query.dryRun) {
      const queues =
        this.keys.cluster && query.queue === undefined ? await this.knownQueues() : [query.queue];
      const counts = await Promise.all(
        queues.map((queue) => {
          const { index, min, max } = this.range({ ...query, queue });
          return this.client.zcount(index, min, max);
        }),
      );
      const n = counts.reduce((sum, c) => sum + c, 0);
      return query.limit === undefined ? n : Math.min(n, query.limit);
    }
    const entries = await this.select(query, "oldest");
    if (entries.length === 0) return 0;
    const counts = await Promise.all(
      [...groupBy(entries, (e) => e.queue)].map(([queue, list]) =>
        this.remove(
          queue,
          list.map((e) => e.envelope.id),
        ),
      ),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }
}
