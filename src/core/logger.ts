import { createConsola, LogLevels, type LogType } from "consola";

function levelFromEnv(): number {
  const name = process.env.STEM_LOG_LEVEL?.toLowerCase() as LogType | undefined;
  return name && name in LogLevels ? LogLevels[name] : LogLevels.info;
}

/**
 * Stem's logger: consola writing to stderr (stdout stays free for command output).
 * Level from STEM_LOG_LEVEL (silent, error, warn, info, debug); default info.
 */
export const logger = createConsola({
  level: levelFromEnv(),
  stdout: process.stderr,
  stderr: process.stderr,
});
