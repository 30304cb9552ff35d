/**
 * SIGINT/SIGTERM from the moment the `stem` process starts: cli.ts imports this module
 * first, so its handlers exist before anything else loads (a process started with SIGINT
 * ignored, like a background job, would otherwise ignore it until the worker's handlers
 * are installed). Until a command takes over, a signal ends the process at once with the
 * exit code of a process killed by it (130 for SIGINT, 143 for SIGTERM). A worker or Beat
 * that is starting calls `defer`: a signal is then remembered and handed over by `release`
 * once its own handlers are installed, so it stops cleanly rather than halfway through
 * its start. A command with its own handling (--watch) calls `release` first.
 */

type StopSignal = "SIGINT" | "SIGTERM";

const EXIT_CODES: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143 };

class StartupSignals {
  private received?: StopSignal;
  private deferring = false;
  private readonly onInt = () => this.onSignal("SIGINT");
  private readonly onTerm = () => this.onSignal("SIGTERM");

  constructor() {
    process.on("SIGINT", this.onInt);
    process.on("SIGTERM", this.onTerm);
  }

  private onSignal(signal: StopSignal): void {
    if (!this.deferring) process.exit(EXIT_CODES[signal]);
    this.received ??= signal;
  }

  /** From now on a signal is remembered, not acted on (see `release`). */
  defer(): void {
    this.deferring = true;
  }

  /** Removes these handlers; returns the signal received while deferring, if any. */
  release(): StopSignal | undefined {
    process.off("SIGINT", this.onInt);
    process.off("SIGTERM", this.onTerm);
    return this.received;
  }
}

/** The process's startup handlers, installed when this module is imported. */
export const startupSignals = new StartupSignals();
