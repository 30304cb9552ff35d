/**
 * Publishes issued in the same tick share one write transaction: a producer that sends
 * many single enqueues at once (each awaited on its own, as a web server does per
 * request) pays one commit for all of them instead of one each. Each call still gets its
 * own result; a transaction that fails rejects every call in it.
 */
import { type Envelope, encodeEnvelope } from "../../../core/envelope.ts";
import type { TaskStatus } from "../../../core/states.ts";
import { checkStatusesStorable } from "../../../core/storable.ts";
import type { PublishResult } from "../../contracts.ts";
import type { SqliteDatabase } from "../database.ts";
import { writeStatuses } from "../results/statuses.ts";
import { insertJobs } from "./publish-jobs.ts";

interface PendingPublish {
  envelopes: Envelope[];
  encoded: readonly string[];
  /** Stored first, in the same transaction, expiring at `expiresAt`. */
  statuses?: { list: TaskStatus[]; expiresAt: number };
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
    statuses?: { list: TaskStatus[]; expiresAt: number },
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
        batch.map((call) => {
          if (call.statuses) writeStatuses(this.db, call.statuses.list, call.statuses.expiresAt);
          return insertJobs(this.db, call.envelopes, call.encoded);
        }),
      );
    } catch (error) {
      for (const call of batch) call.reject(error);
      return;
    }
    batch.forEach((call, i) => call.resolve(results[i]));
    if (results.some((result) => result.accepted.length > 0)) this.onAccepted();
  }
}
