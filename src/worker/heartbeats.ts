/**
 * A worker's heartbeats: written every interval and within 250 ms of a change in what it
 * runs (observers see in-flight counts move), with extra fields other parts advertise
 * (the workflows served, the task limits), and removed when the worker stops so a stopped
 * worker is listed neither as alive nor as lost.
 */
import type { ResultBackend, WorkerHeartbeat } from "../adapters/contracts.ts";
import { logger } from "../core/logger.ts";
import { signals } from "../core/signals.ts";
import { heartbeatTtl } from "./liveness.ts";

/** How soon a change of the in-flight count is reported in a heartbeat. */
const BEAT_DEBOUNCE_MS = 250;

/** The worker's side of a heartbeat, read each time one is written. */
export type HeartbeatSnapshot = Omit<WorkerHeartbeat, "extras"> & {
  extras: Record<string, unknown>;
};

export class Heartbeats {
  /** Extra heartbeat fields others set (e.g. the workflows this worker serves). */
  private readonly advertised: Record<string, unknown> = {};
  private interval?: ReturnType<typeof setInterval>;
  /** A heartbeat due soon because something changed (at most one pending). */
  private soonTimer?: ReturnType<typeof setTimeout>;
  /** The heartbeat being written, if any (awaited before the heartbeat is removed). */
  private writing: Promise<void> = Promise.resolve();
  private running = false;

  constructor(
    private readonly backend: ResultBackend,
    private readonly workerId: string,
    private readonly intervalMs: number,
    private readonly snapshot: () => HeartbeatSnapshot,
  ) {}

  /** Adds a field to the heartbeat's `extras`, for operator tools to read. */
  advertise(key: string, value: unknown): void {
    this.advertised[key] = value;
  }

  /** Writes the first heartbeat, then one every interval. */
  async start(): Promise<void> {
    this.running = true;
    await this.beat();
    this.interval = setInterval(() => void this.beat(), this.intervalMs);
  }

  /** Writes a heartbeat within 250 ms; changes in between share that one write. */
  soon(): void {
    if (this.soonTimer || !this.running) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined;
      if (this.running) void this.beat();
    }, BEAT_DEBOUNCE_MS);
  }

  /** Stops writing and removes the heartbeat (a failure is logged). */
  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.interval);
    clearTimeout(this.soonTimer);
    await this.writing;
    await this.backend
      .removeHeartbeat(this.workerId)
      .catch((error) =>
        logger.warn(
          `worker ${this.workerId}: removing its heartbeat failed: ${(error as Error).message}`,
        ),
      );
  }

  private beat(): Promise<void> {
    this.writing = this.write();
    return this.writing;
  }

  private async write(): Promise<void> {
    const snapshot = this.snapshot();
    const hb: WorkerHeartbeat = {
      ...snapshot,
      extras: { ...this.advertised, ...snapshot.extras, heartbeatIntervalMs: this.intervalMs },
    };
    try {
      await this.backend.setHeartbeat(hb, heartbeatTtl(this.intervalMs));
      signals.workerHeartbeat.emit({
        workerId: this.workerId,
        queues: hb.queues,
        inflight: hb.inflight,
        processed: hb.processed,
      });
    } catch (error) {
      logger.warn(`worker ${this.workerId}: heartbeat failed: ${(error as Error).message}`);
    }
  }
}
