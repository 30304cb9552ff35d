import { createConsola, LogLevels } from "consola";
import { StemError } from "./errors.ts";

/** The values STEM_LOG_LEVEL accepts, quietest first. */
export const LOG_LEVEL_NAMES = ["silent", "error", "warn", "info", "debug", "trace"] as const;

/**
 * The consola level a STEM_LOG_LEVEL value names (any case; unset or empty means info).
 * Anything else is an `invalid_argument` error naming the allowed values.
 */
export function parseLogLevel(value: string | undefined): number {
  const name = value?.trim().toLowerCase();
  if (!name) return LogLevels.info;
  if ((LOG_LEVEL_NAMES as readonly string[]).includes(name))
    return LogLevels[name as (typeof LOG_LEVEL_NAMES)[number]];
  throw new StemError(
    "invalid_argument",
    `STEM_LOG_LEVEL "${value}" is not a log level; use one of ${LOG_LEVEL_NAMES.join(", ")}`,
  );
}

let badLevel: StemError | undefined;

function levelFromEnv(): number {
  try {
    return parseLogLevel(process.env.STEM_LOG_LEVEL);
  } catch (error) {
    badLevel = error as StemError;
    return LogLevels.info;
  }
}

/**
 * Stem's logger: consola writing to stderr (stdout stays free for command output).
 * Level from STEM_LOG_LEVEL (silent, error, warn, info, debug, trace); default info. A
 * bad value is reported as an error once (the `stem` CLI refuses it: `checkLogLevelEnv`).
 */
export const logger = createConsola({
  level: levelFromEnv(),
  stdout: process.stderr,
  stderr: process.stderr,
});

let levelChecked = false;

/** Throws the error for a bad STEM_LOG_LEVEL, if it was one (then it is not logged). */
export function checkLogLevelEnv(): void {
  levelChecked = true;
  if (badLevel) throw badLevel;
}

// A program that does not check (a library user) still hears of it, once. Deferred so a
// program that checks at startup (the CLI) reports it its own way instead.
queueMicrotask(() => {
  if (badLevel && !levelChecked) logger.error(`${badLevel.message}; logging at info`);
});
