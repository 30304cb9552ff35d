import { describe, expect, test } from "bun:test";
import { jsonErrorOffset } from "../../src/scheduler/json-syntax.ts";

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe("jsonErrorOffset", () => {
  const samples = [
    "{}",
    "[]",
    ' {"a": [1, -2.5e+3, true, false, null, "x\\n\\u00e9\\"", {}]} ',
    '"just a string"',
    "0",
    "-0.1",
    '{"a": 1,}',
    "[1, 2,]",
    "{'a': 1}",
    "{a: 1}",
    '{"a": 1} // comment',
    '{"a": 01}',
    '{"a": 1.}',
    '{"a": .5}',
    '{"a": "\\x"}',
    '{"a": "\\u12G4"}',
    '{"a": "tab\there"}',
    '{"a": tru}',
    '{"a" 1}',
    '{"a": 1',
    "[1 2]",
    "",
    "   ",
    "{} {}",
    "-",
    '{"a": NaN}',
  ];

  test("agrees with JSON.parse on what is valid", () => {
    for (const text of samples) {
      expect({ text, valid: jsonErrorOffset(text) === null }).toEqual({
        text,
        valid: parses(text),
      });
    }
  });

  test("points at the first offending character", () => {
    expect(jsonErrorOffset('{"a": 1,}')).toBe(8);
    expect(jsonErrorOffset("[1, 2,]")).toBe(6);
    expect(jsonErrorOffset('{\n  "a": 1\n  "b": 2\n}')).toBe(13);
    expect(jsonErrorOffset('{"a": 1')).toBe(7);
    expect(jsonErrorOffset("{} x")).toBe(3);
  });
});
