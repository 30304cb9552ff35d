import { describe, expect, test } from "bun:test";
import { parseJsonFlag, repeatedFlag } from "../../commands/shared.ts";

describe("CLI flag helpers", () => {
  test("a repeated flag keeps every value, split on commas", () => {
    expect(
      repeatedFlag(["--tasks", "t.ts", "--queue", "a", "--queue=b,c", "--queue", " d "], "queue"),
    ).toEqual(["a", "b", "c", "d"]);
    expect(repeatedFlag(["--tasks", "t.ts"], "queue")).toEqual([]);
    expect(repeatedFlag(["-q", "a", "--queue", "b", "-q=c", "-t", "x"], "queue", "q")).toEqual([
      "a",
      "b",
      "c",
    ]);
  });

  test("a JSON flag must be an object; errors name the flag", () => {
    expect(parseJsonFlag('{"a":1}', "args")).toEqual({ a: 1 });
    expect(parseJsonFlag(undefined, "args")).toBeUndefined();
    expect(() => parseJsonFlag("{bad", "args")).toThrow("--args is not valid JSON");
    expect(() => parseJsonFlag("[1]", "args")).toThrow("--args must be a JSON object");
  });
});
