import { logger } from "../core/logger.ts";
import { type DurationInput, parseDuration } from "../core/duration.ts";
import { StemError } from "../core/errors.ts";

/** Grow concurrency with the backlog, shrink it when idle. */
export interface AutoscaleOptions {
  min: number;
  max: number;
  /** How often to look at the backlog. Default 1 s. */
  tick?: DurationInput;
  /** Shrink after being idle this long. Default 30 s. */
  idleAfter?: DurationInput;
  /** Slots added or removed per step. Default 1. */
  step?: number;
}

interface AutoscaleTarget {
  /** Tasks ready in the worker's queues. */
  depth(): Promise<number>;
  /** Tasks the worker holds (running or waiting for a slot). */
  busy(): number;
  concurrency(): number;
  resize(concurrency: number): void;
}

/** Adjusts a worker's concurrency between min and max from the queue depth. */
export class Autoscaler {
  private readonly tickMs: number;
  private readonly idleMs: number;
  private readonly step: number;
  private timer?: ReturnType<typeof setInterval>;
  private idleSince: number | null = null;

  constructor(
    private readonly options: AutoscaleOptions,
    private readonly target: AutoscaleTarget,
  ) {
    if (!(options.min >= 1 && options.max >= options.min)) {
      throw new StemError(
        "invalid_argument",
        `autoscale needs 1 <= min <= max, got min ${options.min}, max ${options.max}`,
      );
    }
    this.tickMs = parseDuration(options.tick ?? "1s", "autoscale tick");
    this.idleMs = parseDuration(options.idleAfter ?? "30s", "autoscale idleAfter");
    this.step = options.step ?? 1;
  }

  start(): void {
    this.timer = setInterval(
      () => void this.tick().catch((e) => logger.warn(`autoscale: ${(e as Error).message}`)),
      this.tickMs,
    );
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One decision; exposed for tests. */
  async tick(now = Date.now()): Promise<void> {
    const depth = await this.target.depth();
    const current = this.target.concurrency();
    const busy = this.target.busy();
    if (depth > 0 && busy >= current && current < this.options.max) {
      this.idleSince = null;
      this.target.resize(Math.min(this.options.max, current + this.step));
      return;
    }
    if (depth === 0 && busy === 0) {
      this.idleSince ??= now;
      if (now - this.idleSince >= this.idleMs && current > this.options.min) {
        this.target.resize(Math.max(this.options.min, current - this.step));
        this.idleSince = now;
      }
    } else {
      this.idleSince = null;
    }
  }
}
