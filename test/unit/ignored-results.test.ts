import { describe, expect, test } from "bun:test";
import { IgnoredResults } from "../../src/core/ignore-result.ts";

describe("IgnoredResults", () => {
  test("remembers the newest ids up to its capacity and forgets the oldest first", () => {
    const ids = new IgnoredResults(3);
    for (const id of ["a", "b", "c"]) ids.add(id);
    expect(["a", "b", "c"].map((id) => ids.has(id))).toEqual([true, true, true]);
    ids.add("d");
    expect(["a", "b", "c", "d"].map((id) => ids.has(id))).toEqual([false, true, true, true]);
    ids.add("e");
    ids.add("f");
    ids.add("g");
    expect(["c", "d", "e", "f", "g"].map((id) => ids.has(id))).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
  });

  test("an id added again keeps one place, so it does not push out another", () => {
    const ids = new IgnoredResults(2);
    ids.add("a");
    ids.add("a");
    ids.add("b");
    expect([ids.has("a"), ids.has("b")]).toEqual([true, true]);
  });

  test("stays fast once full: each add past the capacity is O(1)", () => {
    // Evicting with Set.values().next() walked every deleted entry: 200,000 adds past a
    // capacity of 10,000 took seconds; a ring takes milliseconds.
    const ids = new IgnoredResults(10_000);
    const names = Array.from({ length: 210_000 }, (_, i) => `task-${i}`);
    const started = performance.now();
    for (const name of names) ids.add(name);
    expect(performance.now() - started).toBeLessThan(500);
    expect([ids.has("task-199999"), ids.has("task-200000"), ids.has("task-209999")]).toEqual([
      false,
      true,
      true,
    ]);
  });
});
