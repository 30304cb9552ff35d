import { describe, expect, test } from "bun:test";
import { LogLevels } from "consola";
import { parseLogLevel } from "../../src/core/logger.ts";

describe("STEM_LOG_LEVEL", () => {
  test("names a level in any case; unset or empty means info", () => {
    expect(parseLogLevel(undefined)).toBe(LogLevels.info);
    expect(parseLogLevel("")).toBe(LogLevels.info);
    expect(parseLogLevel("WARN")).toBe(LogLevels.warn);
    expect(parseLogLevel(" debug ")).toBe(LogLevels.debug);
    expect(parseLogLevel("silent")).toBe(LogLevels.silent);
  });

  test("anything else is an invalid_argument error naming the allowed values", () => {
    expect(() => parseLogLevel("verbose")).toThrow(
      'STEM_LOG_LEVEL "verbose" is not a log level; use one of silent, error, warn, info, debug, trace',
    );
    let caught: unknown;
    try {
      parseLogLevel("3");
    } catch (error) {
      caught = error;
    }
    expect((caught as { code?: string } | undefined)?.code).toBe("invalid_argument");
  });
});
