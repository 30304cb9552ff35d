import { describe, expect, test } from "bun:test";
import { fitColumns, shorten, wrap } from "../../commands/output/table.ts";

describe("CLI tables", () => {
  test("a table that fits keeps every column at its natural width", () => {
    const fit = fitColumns(["id", "state"], [["abc", "ok"]], 80);
    expect(fit).toEqual({ columns: [0, 1], widths: [3, 5], hidden: [] });
  });

  test("the widest shortenable column is shortened first; times are never shortened", () => {
    const rows = [["x".repeat(60), "y".repeat(30), "2026-01-01T00:00:00.000Z"]];
    const fit = fitColumns(["a", "b", { name: "at", shorten: "never" }], rows, 80);
    // 80 - borders (10) - the time (24) leaves 46 for a and b, shared from the widest down.
    expect(fit.widths).toEqual([23, 23, 24]);
    expect(fit.hidden).toEqual([]);
  });

  test("optional columns are left out, highest first, before others get uncomfortably narrow", () => {
    const rows = [["x".repeat(40), "y".repeat(40), "z".repeat(40), "w".repeat(40)]];
    const fit = fitColumns(
      ["a", { name: "b", optional: 1 }, { name: "c", optional: 2 }, "d"],
      rows,
      45,
    );
    expect(fit.hidden).toEqual(["c", "b"]);
    expect(fit.columns).toEqual([0, 3]);
    expect(fit.widths[0] + fit.widths[3] + 7).toBeLessThanOrEqual(45);
  });

  test("values are shortened with an ellipsis at the end, or in the middle for ids", () => {
    expect(shorten("always fails badly", 10)).toBe("always fa…");
    expect(shorten("01a23b4c-1111-7000-8000-00000000e573", 13, "middle")).toBe("01a23b…00e573");
    expect(shorten("short", 10)).toBe("short");
  });

  test("wrapped values break at spaces where they can", () => {
    expect(wrap("one two three four", 9)).toBe("one two\nthree\nfour");
    expect(wrap("x".repeat(12), 5)).toBe("xxxxx\nxxxxx\nxx");
  });
});
