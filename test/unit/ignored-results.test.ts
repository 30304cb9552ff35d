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

  test("stays fast once full: an add that evicts costs about what one that does not", () => {
    // Evicting with Set.values().next() walked every deleted entry: past the capacity each
    // add cost 7 to 9 times one made while filling. Timed against the fill in the same run,
    // so a loaded machine slows both alike.
    const ids = new IgnoredResults(10_000);
    const names = Array.from({ length: 110_000 }, (_, i) => `task-${i}`);
    let started = performance.now();
    for (let i = 0; i < 10_000; i++) ids.add(names[i]);
    const perFillAdd = (performance.now() - started) / 10_000;
    started = performance.now();
    for (let i = 10_000; i < 110_000; i++) ids.add(names[i]);
    const perEvictingAdd = (performance.now() - started) / 100_000;
    expect(perEvictingAdd / perFillAdd).toBeLessThan(3);
    expect([ids.has("task-99999"), ids.has("task-100000"), ids.has("task-109999")]).toEqual([
      false,
      true,
      true,
    ]);
  });
});
