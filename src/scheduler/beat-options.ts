/** Beat's options and counters, and the settings it derives from the options. */
import type { LockStore, ResultBackend, ScheduleStore } from "../adapters/contracts.ts";
import type { Clock } from "../core/clock.ts";
import type { TaskCall } from "../core/definition.ts";
import { type DurationInput, parseDuration } from "../core/duration.ts";
import { StemError } from "../core/errors.ts";
import { DEFAULT_LOCK_TTL_MS, defaultMissedRunGrace } from "./missed-runs.ts";

/** What Beat needs of the producer (`Stem` provides it). */
export interface BeatProducer {
  /**
   * Enqueues the runs under their fixed ids (one per entry and due time), leaving alone a
   * run that has started or finished: a publish tried again after a lost reply, or by a
   * Beat that took over, never runs a due time twice.
   */
  enqueueOnce(calls: TaskCall[]): Promise<string[]>;
  readonly backend: Pick<ResultBackend, "getMany">;
}

/** Runs Beat did not fire, or could not compute, reported to `onSkip`. */
export interface BeatSkip {
  entryId: string;
  /** `missed-runs`: the missed-run policy skipped due times; `no-event`: days without a solar event. */
  reason: "missed-runs" | "no-event";
  message: string;
  /** How many due times were skipped (missed-runs). */
  skipped?: number;
}

export interface BeatOptions {
  scheduleStore: ScheduleStore;
  lockStore: LockStore;
  /** The producer tasks are enqueued through. */
  stem: BeatProducer;
  clock?: Clock;
  /** How long an entry's lock lasts unless renewed (renewed while dispatching). Default 10s. */
  lockTtl?: DurationInput;
  /** Overdue by more than this, an entry fires once for its latest missed due time. Default 2 × lockTtl. */
  missedRunGrace?: DurationInput;
  /** Most entries dispatched in one batch (all are published before any is recorded). Default 1000. */
  maxBatch?: number;
  /** How often the store's change token is checked while sleeping. Default 1s. */
  pollInterval?: DurationInput;
  /**
   * How long before a due time Beat takes the entries' locks and re-reads them, so that at
   * the due time only the publish is left. Default 500ms.
   */
  prepareAhead?: DurationInput;
  /** How long an entry locked by another Beat (or failing to record) waits before a retry. Default 250ms. */
  retryDelay?: DurationInput;
  /** This Beat's lock owner id. Default `beat-<host>-<pid>-<random>`. */
  id?: string;
  /** Random numbers in [0, 1) for jitter. Default Math.random. */
  random?: () => number;
  /** Called for runs skipped by the missed-run policy and solar days without the event; default: logged. */
  onSkip?: (skip: BeatSkip) => void;
}

/** Counters since the Beat was made. */
export interface BeatStats {
  /** Times Beat woke and looked for due entries. */
  ticks: number;
  /** Tasks this Beat published. */
  dispatched: number;
  /** Due times found already dispatched (by another Beat, or by this one before a crash). */
  alreadyDispatched: number;
  /** Dispatches whose publish failed (recorded with the error). */
  failed: number;
  /** Entries skipped because another Beat held their lock. */
  contended: number;
  /** Due times skipped by the missed-run policy. */
  skippedRuns: number;
  /** Entries disabled because they were past expireAt. */
  expired: number;
}

/** BeatOptions' durations in milliseconds, checked, with their defaults filled in. */
export interface BeatSettings {
  lockTtlMs: number;
  graceMs: number;
  maxBatch: number;
  pollMs: number;
  retryMs: number;
  aheadMs: number;
}

export function resolveBeatSettings(options: BeatOptions): BeatSettings {
  const lockTtlMs =
    options.lockTtl === undefined ? DEFAULT_LOCK_TTL_MS : parseDuration(options.lockTtl, "lockTtl");
  if (lockTtlMs < 100) {
    throw new StemError("invalid_argument", `lockTtl must be at least 100ms, got ${lockTtlMs}ms`);
  }
  const maxBatch = options.maxBatch ?? 1000;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) {
    throw new StemError("invalid_argument", `maxBatch must be a positive integer, got ${maxBatch}`);
  }
  return {
    lockTtlMs,
    graceMs:
      options.missedRunGrace === undefined
        ? defaultMissedRunGrace(lockTtlMs)
        : parseDuration(options.missedRunGrace, "missedRunGrace"),
    maxBatch,
    pollMs: Math.max(1, parseDuration(options.pollInterval ?? "1s", "pollInterval")),
    retryMs: Math.max(1, parseDuration(options.retryDelay ?? "250ms", "retryDelay")),
    aheadMs: parseDuration(options.prepareAhead ?? "500ms", "prepareAhead"),
  };
}
