/**
 * Every Redis key the adapter uses, under one prefix so several apps can share a server.
 * User-supplied names that are followed by a suffix are wrapped in `{}` so that no two
 * names can produce the same key (and, as a side effect, a queue's keys share a
 * cluster hash slot).
 */

/** Number of priority bands: one stream per priority 0–9, read highest first. */
export const PRIORITY_BANDS = 10;

/** The consumer group every queue stream is read through. */
export const CONSUMER_GROUP = "stem";

/** Keys of one queue. */
export interface QueueKeys {
  /** ZSET: envelope id → notBefore. */
  delayed: string;
  /** HASH: envelope id → `band,visibilityTimeoutMs,envelopeJson` of a delayed task. */
  delayedData: string;
  /** ZSET: receipt → lease deadline (ms) of every delivered, unacked entry. */
  leases: string;
  /**
   * STREAM (one entry kept) appended to whenever a delayed task is stored, so waiting
   * fetches wake up and take the new due time into account.
   */
  wake: string;
  /** ZSET: envelope id → deadAt of this queue's dead letters. */
  dead: string;
  /** STREAM per priority band, index = priority. */
  streams: string[];
}

/** Key names for one prefix. */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** SET of every queue name the broker has seen. */
  get queues(): string {
    return `${this.prefix}:queues`;
  }
  /** HASH: envelope id → queue, for every queued, delayed or in-flight task (duplicate check). */
  get taskIds(): string {
    return `${this.prefix}:task-ids`;
  }
  /** HASH: envelope id → dead letter JSON, across queues. */
  get deadRecords(): string {
    return `${this.prefix}:dead`;
  }
  /** ZSET: envelope id → deadAt, across queues. */
  get deadIndex(): string {
    return `${this.prefix}:dead-index`;
  }

  queue(name: string): QueueKeys {
    const base = `${this.prefix}:q:{${name}}`;
    return {
      delayed: `${base}:delayed`,
      delayedData: `${base}:delayed-data`,
      leases: `${base}:leases`,
      wake: `${base}:wake`,
      dead: `${base}:dead`,
      streams: Array.from({ length: PRIORITY_BANDS }, (_, band) => `${base}:s${band}`),
    };
  }

  result(id: string): string {
    return `${this.prefix}:result:${id}`;
  }
  /** Key prefix of task results, for scripts that build result keys from ids. */
  get resultPrefix(): string {
    return `${this.prefix}:result:`;
  }
  /** LIST: a task's timeline entries (JSON), oldest first. */
  timeline(id: string): string {
    return `${this.prefix}:timeline:${id}`;
  }
  /** Key prefix of task timelines, for scripts that build timeline keys from ids. */
  get timelinePrefix(): string {
    return `${this.prefix}:timeline:`;
  }
  /** ZSET: task id → updatedAt (list order). */
  get resultsByUpdated(): string {
    return `${this.prefix}:results:updated`;
  }
  /** Key prefix of the per-minute counter hashes (the minute's epoch ms follows). */
  get minuteCountPrefix(): string {
    return `${this.prefix}:minute-counts:`;
  }
  /** ZSET: minute → minute, every minute with a counter hash. */
  get minuteCountIndex(): string {
    return `${this.prefix}:minute-counts`;
  }
  /** ZSET: task id → expiry time (lazy index cleanup). */
  get resultsByExpiry(): string {
    return `${this.prefix}:results:expiry`;
  }
  /** HASH: expected, meta, completed, callback. */
  group(id: string): string {
    return `${this.prefix}:group:{${id}}`;
  }
  /** HASH: member index → status JSON. */
  groupResults(id: string): string {
    return `${this.prefix}:group:{${id}}:results`;
  }
  heartbeat(workerId: string): string {
    return `${this.prefix}:heartbeat:${workerId}`;
  }
  /** SET of worker ids with a (possibly expired) heartbeat. */
  get heartbeats(): string {
    return `${this.prefix}:heartbeats`;
  }

  /** HASH: schedule id → entry JSON. */
  get schedules(): string {
    return `${this.prefix}:schedules`;
  }
  /** ZSET: id → nextRunAt of enabled entries that have a next run. */
  get schedulesDue(): string {
    return `${this.prefix}:schedules:due`;
  }
  /** Counter bumped on every schedule change. */
  get scheduleChanges(): string {
    return `${this.prefix}:schedules:changes`;
  }
  /** LIST of run records, newest first. */
  scheduleHistory(id: string): string {
    return `${this.prefix}:schedule:${id}:history`;
  }

  lock(key: string): string {
    return `${this.prefix}:lock:${key}`;
  }
  /** HASH: task id → revoke entry JSON. */
  revokes(namespace: string): string {
    return `${this.prefix}:revokes:${namespace}`;
  }
  /** ZSET: task id → version of its stored revoke entry (incremental reloads). */
  revokeVersions(namespace: string): string {
    return `${this.prefix}:revoke-versions:${namespace}`;
  }
  /** ZSET: task id → expiresAt of its stored revoke entry, for entries that expire (pruning). */
  revokeExpiries(namespace: string): string {
    return `${this.prefix}:revoke-expiries:${namespace}`;
  }
  rateBucket(key: string): string {
    return `${this.prefix}:rate:${key}`;
  }
  /** ZSET: holder → lease deadline (ms, server time) of one concurrency key's slots. */
  slots(key: string): string {
    return `${this.prefix}:slots:{${key}}`;
  }
  /** HASH: concurrency key → its limit. */
  get slotLimits(): string {
    return `${this.prefix}:slot-limits`;
  }
  control(channel: string): string {
    return `${this.prefix}:control:${channel}`;
  }
  /** STRING with a ttl: present while some process subscribes to task events. */
  get taskEventListeners(): string {
    return `${this.prefix}:task-event-listeners`;
  }

  // Workflow store. Its scripts build the per-status and per-topic keys below from
  // `workflowPrefix` themselves (lua/workflow-shared.ts): keep both in step.

  /** Start of every workflow store key; passed to the workflow scripts. */
  get workflowPrefix(): string {
    return `${this.prefix}:wf:`;
  }
  /** HASH: one run's fields (JSON ones as text; absent = null) and its event watcher. */
  workflowRun(id: string): string {
    return `${this.prefix}:wf:run:{${id}}`;
  }
  /** ZSET: checkpoint name → position within the run. */
  workflowSteps(id: string): string {
    return `${this.prefix}:wf:run:{${id}}:steps`;
  }
  /** HASH: `v:<name>` value JSON, `t:<name>` completedAt, `b:<name>` base name, `n:<base>` count. */
  workflowStepData(id: string): string {
    return `${this.prefix}:wf:run:{${id}}:step-data`;
  }
  /** ZSET: run id → createdAt, every run. */
  get workflowRuns(): string {
    return `${this.prefix}:wf:runs`;
  }
  /** ZSET: run id → createdAt, runs of one workflow. */
  workflowRunsOf(workflow: string): string {
    return `${this.prefix}:wf:workflow:{${workflow}}`;
  }
  /** ZSET: run id → createdAt, runs in one status. */
  workflowRunsIn(status: string): string {
    return `${this.prefix}:wf:status:${status}`;
  }
  /** ZSET: run id → updatedAt of running runs. */
  get workflowRunning(): string {
    return `${this.prefix}:wf:running`;
  }
  /** ZSET: run id → due time of suspended runs that have one. */
  get workflowDue(): string {
    return `${this.prefix}:wf:due`;
  }
  /** ZSET: run id → watcher createdAt, the event watchers of one topic. */
  workflowWatchers(topic: string): string {
    return `${this.prefix}:wf:watchers:{${topic}}`;
  }
  /**
   * LIST: events kept for runs that wait on one topic later, oldest first, each
   * `expiresAt:payloadJson`; the key expires an hour after its last push's retention.
   */
  workflowEvents(topic: string): string {
    return `${this.prefix}:wf:events:{${topic}}`;
  }
  /** ZSET: run id → updatedAt, suspended runs waiting on one topic. */
  workflowWaiting(topic: string): string {
    return `${this.prefix}:wf:waiting:{${topic}}`;
  }
}
