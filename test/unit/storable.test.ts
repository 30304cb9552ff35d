import { describe, expect, test } from "bun:test";
import { checkStorable, UnstorableValueError, unstorableReason } from "../../src/core/storable.ts";

describe("unstorableReason", () => {
  test("JSON values, dates, shared (not circular) objects and what JSON leaves out are storable", () => {
    const shared = { n: 1 };
    expect(
      unstorableReason({
        a: [1, "x", null, true, { b: 2.5 }],
        at: new Date(0),
        left: shared,
        right: shared,
        gone: undefined,
        fn: () => 1,
      }),
    ).toBeNull();
  });

  test("the text \\u0000 (a backslash, not a NUL character) is storable", () => {
    expect(unstorableReason({ s: "\\u0000", "\\u0000": ["a\\u0000b"] })).toBeNull();
  });

  test("names the problem and where it is", () => {
    const loop: unknown[] = [];
    loop.push({ back: loop });
    expect(unstorableReason(10n)).toBe("BigInt at $");
    expect(unstorableReason({ rows: [{ total: 1n }] })).toBe("BigInt at $.rows[0].total");
    expect(unstorableReason({ "odd key": 1n })).toBe('BigInt at $["odd key"]');
    expect(unstorableReason(loop)).toBe("circular reference at $[0].back");
    expect(unstorableReason({ s: "a\u0000" })).toBe("NUL character (\\u0000) in a string at $.s");
    expect(unstorableReason({ "k\u0000": 1 })).toBe("NUL character (\\u0000) in a key at $");
    expect(unstorableReason({ toJSON: () => ({ big: 1n }) })).toBe("BigInt at $.big");
  });

  test("checkStorable throws an UnstorableValueError naming the field", () => {
    expect(() => checkStorable({ total: 1n }, "result")).toThrow(
      "result is not JSON: BigInt at $.total",
    );
    expect(() => checkStorable(1n, "result")).toThrow(UnstorableValueError);
  });
});
