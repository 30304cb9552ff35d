/**
 * Publishes issued in the same tick share one write transaction: a producer that sends
 * many single enqueues at once (each awaited on its own, as a web server does per
 * request) pays one commit for all of them instead of one each. Each call still gets its
 * own result; a transaction that fails rejects every call in it.
 */
import { type Envelope, encodeEnvelope } from "../../../core/envelope.ts";
import { hasStarted, type TaskStatus } from "../../../core/states.ts";
import { checkStatusesStorable } from "../../../core/storable.ts";
import type { PublishResult } from "../../contracts.ts";
import type { SqliteDatabase } from "../database.ts";
import { liveStates, writeStatuses } from "../results/statuses.ts";
import { insertJobs } from "./publish-jobs.ts";

/** Statuses stored first, in the same transaction, expiring at `expiresAt`. */
export interface PublishStatuses {
  list: TaskStatus[];
  expiresAt: number;
  /**
   * `Broker.publishWithStatusesUnlessStarted`: a task whose live status shows it started
   * is neither stored nor published; a live status is kept.
   */
  unlessStarted?: boolean;
}

interface PendingPublish {
  envelopes: Envelope[];
  encoded: readonly string[];
  statuses?: PublishStatuses;
  resolve: (result: PublishResult) => void;
  reject: (error: unknown) => void;
}

export class PublishBatcher {
  private pending: PendingPublish[] = [];

  /** `onAccepted` runs after a commit that stored at least one job. */
  constructor(
    private readonly db: SqliteDatabase,
    private readonly onAccepted: () => void,
  ) {}

  /** Stores `statuses` (when given), then the envelopes, with the other calls of this tick. */
  publish(
    envelopes: Envelope[],
    encoded?: readonly string[],
    statuses?: PublishStatuses,
  ): Promise<PublishResult> {
    let json: readonly string[];
    try {
      // Refused on its own, before it can take others down with it; and encoded outside
      // the write transaction.
      if (statuses) checkStatusesStorable(statuses.list);
      json = encoded ?? envelopes.map(encodeEnvelope);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ envelopes, encoded: json, statuses, resolve, reject });
      if (this.pending.length === 1) queueMicrotask(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    let results: PublishResult[];
    try {
      results = this.db.write(() =>
        batch.map((call) =>
          call.statuses?.unlessStarted ? this.insertUnlessStarted(call) : this.insert(call),
        ),
      );
    } catch (error) {
      for (const call of batch) call.reject(error);
      return;
    }
    batch.forEach((call, i) => call.resolve(results[i]));
    if (results.some((result) => result.accepted.length > 0)) this.onAccepted();
  }

  private insert(call: PendingPublish): PublishResult {
    if (call.statuses) writeStatuses(this.db, call.statuses.list, call.statuses.expiresAt);
    return insertJobs(this.db, call.envelopes, call.encoded);
  }

  /** Inside the write transaction: no status can change between the look and the insert. */
  private insertUnlessStarted(call: PendingPublish): PublishResult {
    const { list, expiresAt } = call.statuses!;
    const states = liveStates(
      this.db,
      list.map((s) => s.id),
    );
    writeStatuses(
      this.db,
      list.filter((s) => !states.has(s.id)),
      expiresAt,
    );
    const started = (id: string) => {
      const state = states.get(id);
      return state !== undefined && hasStarted(state);
    };
    const keep = call.envelopes.flatMap((e, i) => (started(e.id) ? [] : [i]));
    const result = insertJobs(
      this.db,
      keep.map((i) => call.envelopes[i]),
      keep.map((i) => call.encoded[i]),
    );
    for (const e of call.envelopes) if (started(e.id)) result.duplicates.push(e.id);
    return result;
  }
}
