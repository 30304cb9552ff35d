/**
 * Every Redis key the adapter uses, under one prefix so several apps can share a server.
 * User-supplied names that are followed by a suffix are wrapped in `{}` so that no two
 * names can produce the same key (and a queue's keys share a cluster hash slot).
 *
 * On a Redis Cluster every script must touch keys of one hash slot. There a queue's keys
 * all carry the queue's tag, including the indexes that span queues on one server
 * (duplicate ids, dead letters: one per queue instead), and every other key carries the
 * prefix as its tag (`{stem}:result:…`), so results, schedules, workflows, locks and the
 * rest share one slot, as their scripts need. The mode switch is here, in the key names.
 * Every script gets every key it touches in KEYS, never building one itself; keys that
 * depend on stored values (the topic a run waits on, the runs an index holds) are read
 * or asked for first (see lua/workflow-shared.ts and workflow-script-runner.ts).
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
  /**
   * HASH: envelope id → queue, of every queued, delayed or in-flight task (duplicate
   * check): one for all queues on a single server, the queue's own on a cluster.
   */
  taskIds: string;
  /**
   * SET of queue names the publish scripts add the queue to: every queue's on a single
   * server; on a cluster the queue's own, and the broker registers the queue in the
   * prefix's `queues` set itself.
   */
  registry: string;
  /** HASH: envelope id → dead letter JSON: across queues on a single server, per queue on a cluster. */
  deadRecords: string;
  /** ZSET: envelope id → deadAt: across queues on a single server; the queue's `dead` on a cluster. */
  deadIndex: string;
}

/** Key names for one prefix. */
export class RedisKeys {
  /** Start of every key that is not a queue's: the prefix, as a hash tag on a cluster. */
  private readonly base: string;

  /** `cluster`: name keys for a Redis Cluster (see the module comment). */
  constructor(
    readonly prefix: string,
    readonly cluster = false,
  ) {
    this.base = cluster ? `{${prefix}}` : prefix;
  }

  /** SET of every queue name the broker has seen. */
  get queues(): string {
    return `${this.base}:queues`;
  }
  /** HASH: envelope id → dead letter JSON, across queues (single server; see QueueKeys). */
  get deadRecords(): string {
    return `${this.prefix}:dead`;
  }
  /** ZSET: envelope id → deadAt, across queues (single server; see QueueKeys). */
  get deadIndex(): string {
    return `${this.prefix}:dead-index`;
  }

  queue(name: string): QueueKeys {
    const base = `${this.prefix}:q:{${name}}`;
    const dead = `${base}:dead`;
    return {
      delayed: `${base}:delayed`,
      delayedData: `${base}:delayed-data`,
      leases: `${base}:leases`,
      wake: `${base}:wake`,
      dead,
      streams: Array.from({ length: PRIORITY_BANDS }, (_, band) => `${base}:s${band}`),
      taskIds: this.cluster ? `${base}:task-ids` : `${this.prefix}:task-ids`,
      registry: this.cluster ? `${base}:registry` : this.queues,
      deadRecords: this.cluster ? `${base}:dead-records` : this.deadRecords,
      deadIndex: this.cluster ? dead : this.deadIndex,
    };
  }

  result(id: string): string {
    return `${this.base}:result:${id}`;
  }
  /** LIST: a task's timeline entries (JSON), oldest first. */
  timeline(id: string): string {
    return `${this.base}:timeline:${id}`;
  }
  /** ZSET: task id → updatedAt (list order). */
  get resultsByUpdated(): string {
    return `${this.base}:results:updated`;
  }
  /** HASH: one minute's counters (field `series\ncounter`); `minute` in epoch ms. */
  minuteCounts(minute: number | string): string {
    return `${this.base}:minute-counts:${minute}`;
  }
  /** ZSET: minute → minute, every minute with a counter hash. */
  get minuteCountIndex(): string {
    return `${this.base}:minute-counts`;
  }
  /** ZSET: task id → expiry time (lazy index cleanup). */
  get resultsByExpiry(): string {
    return `${this.base}:results:expiry`;
  }
  /** HASH: expected, meta, completed, callback. */
  group(id: string): string {
    return `${this.base}:group:{${id}}`;
  }
  /** HASH: member index → status JSON. */
  groupResults(id: string): string {
    return `${this.base}:group:{${id}}:results`;
  }
  heartbeat(workerId: string): string {
    return `${this.base}:heartbeat:${workerId}`;
  }
  /** SET of worker ids with a (possibly expired) heartbeat. */
  get heartbeats(): string {
    return `${this.base}:heartbeats`;
  }

  /** HASH: schedule id → entry JSON. */
  get schedules(): string {
    return `${this.base}:schedules`;
  }
  /** ZSET: id → nextRunAt of enabled entries that have a next run. */
  get schedulesDue(): string {
    return `${this.base}:schedules:due`;
  }
  /** Counter bumped on every schedule change. */
  get scheduleChanges(): string {
    return `${this.base}:schedules:changes`;
  }
  /** LIST of run records, newest first. */
  scheduleHistory(id: string): string {
    return `${this.base}:schedule:${id}:history`;
  }

  lock(key: string): string {
    return `${this.base}:lock:${key}`;
  }
  /** HASH: task id → revoke entry JSON. */
  revokes(namespace: string): string {
    return `${this.base}:revokes:${namespace}`;
  }
  /** ZSET: task id → version of its stored revoke entry (incremental reloads). */
  revokeVersions(namespace: string): string {
    return `${this.base}:revoke-versions:${namespace}`;
  }
  /** ZSET: task id → expiresAt of its stored revoke entry, for entries that expire (pruning). */
  revokeExpiries(namespace: string): string {
    return `${this.base}:revoke-expiries:${namespace}`;
  }
  rateBucket(key: string): string {
    return `${this.base}:rate:${key}`;
  }
  /** ZSET: holder → lease deadline (ms, server time) of one concurrency key's slots. */
  slots(key: string): string {
    return `${this.base}:slots:{${key}}`;
  }
  /** HASH: concurrency key → its limit. */
  get slotLimits(): string {
    return `${this.base}:slot-limits`;
  }
  control(channel: string): string {
    return `${this.base}:control:${channel}`;
  }
  /** STRING with a ttl: present while some process subscribes to task events. */
  get taskEventListeners(): string {
    return `${this.base}:task-event-listeners`;
  }

  // Workflow store.

  /** HASH: one run's fields (JSON ones as text; absent = null) and its event watcher. */
  workflowRun(id: string): string {
    return `${this.base}:wf:run:{${id}}`;
  }
  /** ZSET: checkpoint name → position within the run. */
  workflowSteps(id: string): string {
    return `${this.base}:wf:run:{${id}}:steps`;
  }
  /** HASH: `v:<name>` value JSON, `t:<name>` completedAt, `b:<name>` base name, `n:<base>` count. */
  workflowStepData(id: string): string {
    return `${this.base}:wf:run:{${id}}:step-data`;
  }
  /** ZSET: run id → createdAt, every run. */
  get workflowRuns(): string {
    return `${this.base}:wf:runs`;
  }
  /** ZSET: run id → createdAt, runs of one workflow. */
  workflowRunsOf(workflow: string): string {
    return `${this.base}:wf:workflow:{${workflow}}`;
  }
  /** ZSET: run id → createdAt, runs in one status. */
  workflowRunsIn(status: string): string {
    return `${this.base}:wf:status:${status}`;
  }
  /** ZSET: run id → updatedAt of running runs. */
  get workflowRunning(): string {
    return `${this.base}:wf:running`;
  }
  /** ZSET: run id → due time of suspended runs that have one. */
  get workflowDue(): string {
    return `${this.base}:wf:due`;
  }
  /** ZSET: run id → watcher createdAt, the event watchers of one topic. */
  workflowWatchers(topic: string): string {
    return `${this.base}:wf:watchers:{${topic}}`;
  }
  /**
   * LIST: events kept for runs that wait on one topic later, oldest first, each
   * `expiresAt:payloadJson`; the key expires an hour after its last push's retention.
   */
  workflowEvents(topic: string): string {
    return `${this.base}:wf:events:{${topic}}`;
  }
  /** ZSET: run id → updatedAt, suspended runs waiting on one topic. */
  workflowWaiting(topic: string): string {
    return `${this.base}:wf:waiting:{${topic}}`;
  }
}
